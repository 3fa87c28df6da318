// `in Type` takes the values of a type that lists them (`value_enum!`): a type that does
// not is named, and a default off its list is refused when the program compiles.
use cnv::prelude::*;

value_enum! {
    #[derive(Clone, Copy, Debug)]
    enum Sort {
        Name = "name",
        Size = "size",
    }
}

#[derive(Clone, Debug)]
struct Colour(String);

impl std::str::FromStr for Colour {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

fn main() {
    let grammar = grammar_dsl! {
        app "notes" version "1.0.0" {
            noun "note" help "Notes" {
                verb "list" {
                    capability: ReadOnlyFS, resource: Fast, help: "List notes",
                    args: [
                        --sort: Sort = "date" in Sort "Order",
                        --colour: Colour = "red" in Colour "Tint",
                    ],
                }
            }
        }
    };
    let _ = grammar.verbs().count();
}
