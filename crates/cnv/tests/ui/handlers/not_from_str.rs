// A typed argument whose type cannot be parsed from a command-line word.
use cnv::prelude::*;

#[derive(Clone)]
struct Colour(u8);

grammar_dsl! {
    pub static GRAMMAR = app "paint" {
        noun "wall" help "Walls" {
            verb "paint" { capability: Pure, resource: Instant, help: "Paint", args: [colour: Colour "The colour"] }
        }
    }
}

fn main() {
    let _ = &GRAMMAR;
}
