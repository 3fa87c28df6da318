// Only `Pure` and `ReadOnlyFS` may be `AgentSafe`; the seed's reference macro accepted this.
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
