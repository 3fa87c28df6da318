// An argument's value type must implement `FromStr`: the command line gives text.
use cnv::prelude::*;

struct Timeout {
    _millis: u64,
}

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "network" help "Network operations" {
                verb "fetch" {
                    capability: Network,
                    resource: Slow,
                    help: "Fetch from URL",
                    args: [url: String "The URL", --timeout: Timeout "How long to wait"],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
