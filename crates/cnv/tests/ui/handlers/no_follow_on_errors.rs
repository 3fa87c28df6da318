// Two mistakes in the grammar (a default its type refuses, a misspelled clause), two
// errors: the struct keeps every field, so the handler that reads them all and the builder
// that binds it report nothing more.
use cnv::prelude::*;

grammar_dsl! {
    pub static GRAMMAR = app "release" version "1.0.0" {
        args: [-v --verbose: u8 count "Say more"],
        noun "rel" help "Releases" {
            verb "publish" {
                capability: Network, resource: Slow, help: "Publish the release",
                args: [
                    --retries: u32 = -1 "How many times to try",
                    --channel: String = "stable" evn "CHANNEL" "Where to release",
                ],
            }
        }
    }
}

fn publish(call: &Invocation<'_, Network>, args: rel::Publish) -> Result<Output, HandlerError> {
    let rel::Publish { retries, channel, verbose } = args;
    Ok(Output::text(format!("{} {retries} {channel} {verbose}", call.command())))
}

fn main() {
    let _ = Cli::builder(&GRAMMAR).bind(publish).build();
}
