// A release helper with three verbs binds two of them: `build` is not there, and the
// compiler names the verb without a handler. A builder with nothing bound cannot be built
// either.
use cnv::prelude::*;

grammar_dsl! {
    pub static GRAMMAR = app "release" version "1.0.0" {
        noun "rel" help "Releases" {
            verb "tag" { capability: Pure, resource: Fast, help: "Tag the release" }
            verb "publish" { capability: Network, resource: Slow, help: "Publish the release" }
            verb "notes" { capability: ReadOnlyFS, resource: Fast, help: "Show the notes" }
        }
    }
}

fn tag(_: rel::Tag) -> Result<Output, HandlerError> {
    Ok(Output::none())
}

fn notes(_: &Invocation<'_, ReadOnlyFS>, _: rel::Notes) -> Result<Output, HandlerError> {
    Ok(Output::none())
}

fn main() {
    let _ = Cli::builder(&GRAMMAR).bind(tag).bind(notes).build();
    let _ = Cli::builder(&GRAMMAR).build();
}
