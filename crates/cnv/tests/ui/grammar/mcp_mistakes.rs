// MCP tool names are `[a-z0-9_]` (the command's words joined by `_`, `-` written `_`):
// two verbs may not share one, and a declared one must be one. A title is not empty, a
// verb alias is a name of its own, and an output type says its schema.
use cnv::prelude::*;

struct Published;

fn main() {
    let _ = grammar_dsl! {
        app "keys" version "1.0.0" {
            noun "env" help "The environment" {
                verb "show-token" { capability: Environment, resource: Fast, help: "Show the token" }
                verb "list" {
                    capability: Pure, resource: Fast, help: "List the keys",
                    aliases: ["show-token"], title: " ", output: Published,
                }
                noun "show" help "Show" {
                    verb "token" { capability: Environment, resource: Fast, help: "The token" }
                    verb "key" { capability: Environment, resource: Fast, help: "The key", mcp_name: "Show-Key" }
                }
            }
        }
    };
}
