// A new user's first grammar with three mistakes: three errors in one compile, each under
// its token, and nothing else.
use cnv::prelude::*;

static GRAMMAR: GrammarModel = grammar_dsl! {
    app "myapp" version "1.0.0" {
        noun "file" help "File operations" {
            verb "read" { capability: ReadOnlyFs, resource: Fast, help: "Read a file" }
            verb "write" { capability: ReadWriteFS, resorce: Medium, help: "Write to a file" }
        }
        noun "network" help "Network operations" {
            verb "fetch" { capability: Network, resource: Slow, safety: AgentSafe, help: "Fetch" }
        }
    }
};

fn main() {
    for (path, verb) in GRAMMAR.verbs() {
        println!("{path} {}", verb.name());
    }
}
