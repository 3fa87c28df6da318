//! `grammar_dsl!` runs inside the compiler and depends on no runtime crate, so it keeps
//! its own copies of tables that `cnv-grammar` and `cnv-cli` own (the capability
//! vocabulary is checked in `grammar_vocabulary.rs`). These tests see both sides and
//! prove each copy equal to its original.

#[test]
fn the_macro_refuses_exactly_the_names_of_cnv_cli_s_global_flags() {
    assert_eq!(
        cnv_grammar_dsl::vocab::RESERVED_ARGUMENT_NAMES,
        cnv::cli::__private::RESERVED_ARGUMENT_NAMES
    );
    // And it refuses each of them, on the argument.
    for name in cnv::cli::__private::RESERVED_ARGUMENT_NAMES {
        let source = format!(
            r#"app "a" {{ noun "n" help "N" {{ verb "v" {{ capability: Pure, resource: Fast, help: "V", args: [--{name}: String "X"] }} }} }}"#
        );
        let errors = cnv_grammar_dsl::check(source.parse().expect("lexes")).expect_err(name);
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        assert!(
            errors[0].to_string().contains("global flag"),
            "{name}: {errors:?}"
        );
    }
}

#[test]
fn the_macro_reserves_the_model_s_command_names() {
    assert_eq!(
        cnv_grammar_dsl::vocab::RESERVED_COMMAND_NAMES,
        cnv::grammar::__private::RESERVED_COMMAND_NAMES
    );
}

#[test]
fn the_macro_s_limits_are_the_model_s() {
    assert_eq!(
        cnv_grammar_dsl::validate::MAX_NOUN_DEPTH,
        cnv::grammar::MAX_NOUN_DEPTH
    );
    assert_eq!(
        cnv_grammar_dsl::validate::MAX_COMMAND_LEN,
        cnv::grammar::MAX_COMMAND_LEN
    );
}

#[test]
fn the_macro_s_value_types_are_the_model_s() {
    use cnv::grammar::__private::Scalar as Model;
    use cnv_grammar_dsl::types::Scalar as Macro;

    assert_eq!(Macro::NAMED.map(Macro::name), Model::NAMED.map(Model::name));
    // The same type names mean the same scalar on both sides …
    let mut type_names: Vec<String> = Model::NAMED
        .iter()
        .filter_map(|scalar| scalar.name())
        .flat_map(|name| [name.to_owned(), format!("core::primitive::{name}")])
        .collect();
    type_names.extend(
        [
            "String",
            "std::path::PathBuf",
            "u64x",
            "Bool",
            "U8",
            "",
            "str",
            "f16",
            "u256",
        ]
        .map(str::to_owned),
    );
    for name in &type_names {
        assert_eq!(Macro::of(name).name(), Model::of(name).name(), "{name:?}");
    }
    // … and accept the same defaults.
    let texts = [
        "0",
        "+7",
        "-1",
        "255",
        "256",
        "-129",
        "65536",
        "4294967296",
        "18446744073709551616",
        "340282366920938463463374607431768211455",
        "340282366920938463463374607431768211456",
        "-170141183460469231731687303715884105729",
        "0x10",
        "1_000",
        "0.5",
        "1e3",
        "1e39",
        "NaN",
        "inf",
        "-infinity",
        "true",
        "false",
        "True",
        "x",
        "é",
        "ab",
        "",
        " 1",
    ];
    for (dsl, model) in Macro::NAMED
        .into_iter()
        .chain([Macro::Text])
        .zip(Model::NAMED.into_iter().chain([Model::Text]))
    {
        for text in texts {
            assert_eq!(
                dsl.accepts(text),
                model.accepts(text),
                "{:?} {text:?}",
                model.name()
            );
        }
    }
}
