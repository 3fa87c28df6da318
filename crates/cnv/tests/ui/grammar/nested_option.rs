// `Option<Option<T>>` and `Vec<Option<T>>` are refused once each: no "not `FromStr`"
// error from the compiler after the macro's own.
use cnv::prelude::*;

fn main() {
    let grammar = grammar_dsl! {
        app "myapp" version "1.0.0" {
            noun "net" help "Network operations" {
                verb "fetch" {
                    capability: Network,
                    resource: Slow,
                    help: "Fetch from URL",
                    args: [
                        retries: Option<Option<u8>> "How many times to retry",
                        --header: Vec<Option<String>> "Extra headers",
                    ],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
