//! A grammar written inside a program's own `macro_rules!`: a type passed as `$t:ty`
//! reaches `grammar_dsl!` wrapped in an invisible group, and must mean what it says.

use cnv::prelude::*;

macro_rules! one_arg {
    ($ty:ty) => {
        grammar_dsl! {
            app "wrapped" {
                noun "n" help "N" {
                    verb "v" { capability: Pure, resource: Fast, help: "V", args: [--p: $ty "P"] }
                }
            }
        }
    };
}

static SWITCH: GrammarModel = one_arg!(bool);
static PAREN_SWITCH: GrammarModel = one_arg!((bool));
static OPTIONAL: GrammarModel = one_arg!(Option<u8>);
static REPEATED: GrammarModel = one_arg!(Vec<std::path::PathBuf>);

fn arg(grammar: &'static GrammarModel) -> &'static GrammarArgument {
    grammar
        .verb("n", "v")
        .and_then(|verb| verb.arg("p"))
        .expect("declared")
}

#[test]
fn option_vec_and_bool_keep_their_meaning_through_macro_rules() {
    for switch in [arg(&SWITCH), arg(&PAREN_SWITCH)] {
        assert!(switch.is_switch(), "{switch:?}");
        assert_eq!(switch.value_type(), "bool");
        assert!(!switch.is_required());
        assert_eq!(switch.default_value(), Some("false"));
    }
    let optional = arg(&OPTIONAL);
    assert_eq!(
        (
            optional.value_type(),
            optional.is_required(),
            optional.is_multiple()
        ),
        ("u8", false, false)
    );
    let repeated = arg(&REPEATED);
    assert_eq!(
        (
            repeated.value_type(),
            repeated.is_required(),
            repeated.is_multiple()
        ),
        ("std::path::PathBuf", false, true)
    );
    for grammar in [&SWITCH, &PAREN_SWITCH, &OPTIONAL, &REPEATED] {
        assert_eq!(grammar.validate(), Ok(()));
    }
}
