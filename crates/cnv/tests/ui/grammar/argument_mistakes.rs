// Argument rules: a default that is not a `u64`, a short flag used twice, `-h`, an
// `Option` with a default, and a required positional after an optional one.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "network" help "Network operations" {
                verb "fetch" {
                    capability: Network,
                    resource: Slow,
                    help: "Fetch from URL",
                    args: [
                        proxy: Option<String> "A proxy to use",
                        url: String "The URL to fetch",
                        -t --timeout-ms: u64 = "soon" "Give up after this many milliseconds",
                        -t --tries: u8 = 3 "How many times to try",
                        -h --host: String "The Host header",
                        --output: Option<String> = "out.html" "Where to save the body",
                    ],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
