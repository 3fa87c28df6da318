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
