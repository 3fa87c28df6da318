// A default may be a constant; the compiler checks it against the argument's type, range
// and values.
use cnv::prelude::*;

const RETRIES: i64 = 3;
const LEVEL: u8 = 12;
const CHANNEL: &str = "nightly";
const RATIO: f64 = 0.5;

fn main() {
    let _ = grammar_dsl! {
        app "release" version "1.0.0" {
            noun "rel" help "Releases" {
                verb "publish" {
                    capability: Network, resource: Slow, help: "Publish the release",
                    args: [
                        --retries: u32 = RETRIES "How many times to try",
                        --level: u8 = LEVEL range 1..=10 "How loud",
                        --channel: String = CHANNEL in ["stable", "beta"] "Where to release",
                    ],
                }
            }
        }
    };
    let _ = grammar_dsl! {
        app "release" version "1.0.0" {
            noun "rel" help "Releases" {
                verb "mix" {
                    capability: Pure, resource: Fast, help: "Mix",
                    args: [--ratio: f64 = RATIO "How much"],
                }
            }
        }
    };
}
