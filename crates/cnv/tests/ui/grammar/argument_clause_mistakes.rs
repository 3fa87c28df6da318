// The clauses after an argument's type, each misused once.
use cnv::prelude::*;

fn main() {
    let _ = grammar_dsl! {
        app "release" version "1.0.0" {
            noun "rel" help "Releases" {
                verb "publish" {
                    capability: Network, resource: Slow, help: "Publish the release",
                    args: [
                        --retries: u32 = 20 range 1..=10 "How many times to try",
                        --label: String range 1..=3 "A label",
                        --level: u8 range 0..=300 "How loud",
                        -v --verbose: u16 count "Say more",
                        --force: bool value_name "YES" "Overwrite",
                        path: String alias "file" "The path",
                        --trace: String hidden "Trace everything",
                        --profile: String = "x" mcp "Which profile",
                        --channel: String = "stable" alias "retries" rnage 1..3 "Where to release",
                    ],
                }
            }
        }
    };
}
