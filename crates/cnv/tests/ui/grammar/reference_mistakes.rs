// `conflicts_with`, `requires` and groups name arguments of the same verb.
use cnv::prelude::*;

fn main() {
    let _ = grammar_dsl! {
        app "release" version "1.0.0" {
            noun "rel" help "Releases" {
                verb "publish" {
                    capability: Network, resource: Slow, help: "Publish the release",
                    args: [
                        --json: bool conflicts_with [yml] "Answer in JSON",
                        --yaml: bool "Answer in YAML",
                        --sign: bool requires [sign] "Sign it",
                        --key: Option<String> conflicts_with [yaml] requires [yaml] "The key",
                        --out: String "Where to write",
                    ],
                    groups: [output: [json, yaml, csv], target: [out, key], key: [json, yaml]],
                }
            }
        }
    };
}
