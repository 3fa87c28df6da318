// Only `Pure` and `ReadOnlyFS` may be `AgentSafe`: `grammar_dsl!` refuses a `Network` one.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "network" help "Network operations" {
                verb "fetch" {
                    capability: Network,
                    resource: Slow,
                    safety: AgentSafe,
                    help: "Fetch from URL",
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
