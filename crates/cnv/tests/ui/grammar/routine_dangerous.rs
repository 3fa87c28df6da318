// `confirmation: Routine` spares a person the prompt of a routine verb; a Dangerous one
// always needs a typed approval, so it cannot be routine.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "ops" version "1.0.0" {
            noun "disk" help "Disks" {
                verb "wipe" {
                    capability: Dangerous, resource: Slow, safety: HumanReviewRequired,
                    confirmation: Routine, help: "Wipe a disk",
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
