//! `to_mcp_tools()` against the official MCP schema (vendored in `tests/data/`), and the
//! JSON form of models built at run time. Needs the `serde` feature (on whenever the
//! workspace is tested, through the `cnv` facade).

#![cfg(feature = "serde")]

use cnv_caps::{CapabilityClass, CapabilityContract, ResourceBand, SafetyProfile};
use cnv_grammar::{GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb, LoadError};
use serde_json::{Value, json};

const SCHEMA: &str = include_str!("data/mcp-schema-2025-11-25.json");

/// A validator for one definition of the MCP schema, e.g. `ListToolsResult`.
fn validator(definition: &str) -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(SCHEMA).expect("the vendored schema is JSON");
    schema["$ref"] = Value::from(format!("#/$defs/{definition}"));
    jsonschema::validator_for(&schema).expect("the MCP schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

/// Every class, every kind of argument, nested nouns, a deprecated verb.
fn every_kind() -> GrammarModel {
    let mut storage = GrammarNoun::new("storage", "Storage");
    for class in CapabilityClass::ALL {
        storage.add_verb(GrammarVerb::new(
            class.name().to_ascii_lowercase(),
            format!("A {class} command"),
            CapabilityContract::new(*class, ResourceBand::Fast),
        ));
    }
    let args = GrammarVerb::new("args", "Every argument", CapabilityContract::pure())
        .with_long_help("Positional, named, optional, repeatable, switches and defaults.")
        .with_arg(GrammarArgument::positional(
            "path",
            "std::path::PathBuf",
            "A path",
        ))
        .with_arg(GrammarArgument::positional("rest", "String", "More words").multiple())
        .with_arg(
            GrammarArgument::named("count", "u32", "How many")
                .with_short('c')
                .with_default("3"),
        )
        .with_arg(GrammarArgument::named("offset", "i64", "Where").with_default("-1"))
        .with_arg(GrammarArgument::named("ratio", "f64", "How much").with_default("0.5"))
        .with_arg(GrammarArgument::named("force", "bool", "Overwrite").with_short('f'))
        .with_arg(GrammarArgument::named("sep", "char", "Separator").with_default(","))
        .with_arg(GrammarArgument::named("header", "String", "A header").multiple())
        .with_arg(GrammarArgument::named("name", "String", "Who").optional());
    let old = GrammarVerb::new("old", "The old way", CapabilityContract::read_only())
        .deprecated("use `args`");
    GrammarModel::new("every-kind")
        .with_version("0.3.0-rc.1")
        .with_help("A grammar with one of everything")
        .with_noun(storage)
        .with_noun(
            GrammarNoun::new("cloud", "Cloud").with_noun(
                GrammarNoun::new("bucket", "Buckets")
                    .with_long_help("Object storage buckets.")
                    .with_verb(args)
                    .with_verb(old),
            ),
        )
}

#[test]
fn the_mcp_tool_list_validates_against_the_official_schema() {
    let grammar = every_kind();
    assert_eq!(grammar.validate(), Ok(()));
    let tools = grammar.to_mcp_tools();
    assert_valid(&validator("ListToolsResult"), &tools);
    let tool_validator = validator("Tool");
    let annotations_validator = validator("ToolAnnotations");
    let list = tools["tools"].as_array().expect("an array of tools");
    assert_eq!(list.len(), grammar.verbs().count());
    for tool in list {
        assert_valid(&tool_validator, tool);
        assert_valid(&annotations_validator, &tool["annotations"]);
    }
}

#[test]
fn one_tool_per_verb_named_by_its_path() {
    let tools = every_kind().to_mcp_tools();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "storage_pure",
            "storage_readonlyfs",
            "storage_environment",
            "storage_network",
            "storage_readwritefs",
            "storage_subprocess",
            "storage_dangerous",
            "cloud_bucket_args",
            "cloud_bucket_old",
        ]
    );
}

#[test]
fn annotations_follow_the_capability_class() {
    let tools = every_kind().to_mcp_tools();
    for (class, tool) in CapabilityClass::ALL
        .iter()
        .zip(tools["tools"].as_array().unwrap())
    {
        let annotations = &tool["annotations"];
        assert_eq!(
            annotations["readOnlyHint"],
            class.read_only_hint(),
            "{class}"
        );
        assert_eq!(
            annotations["destructiveHint"],
            class.destructive_hint(),
            "{class}"
        );
        assert_eq!(
            annotations["idempotentHint"],
            class.idempotent_hint(),
            "{class}"
        );
        assert_eq!(
            annotations["openWorldHint"],
            class.open_world_hint(),
            "{class}"
        );
        let contract = &tool["_meta"]["cnv/contract"];
        assert_eq!(contract["capability"], class.name());
        assert_eq!(contract["safety"], class.default_safety().name());
    }
    // The table of docs/grammar-json.md, written out.
    let expected = [
        ("Pure", [true, false, true, false]),
        ("ReadOnlyFS", [true, false, true, false]),
        ("Environment", [true, false, true, false]),
        ("Network", [false, true, false, true]),
        ("ReadWriteFS", [false, true, false, false]),
        ("Subprocess", [false, true, false, true]),
        ("Dangerous", [false, true, false, true]),
    ];
    for ((name, hints), tool) in expected.iter().zip(tools["tools"].as_array().unwrap()) {
        let a = &tool["annotations"];
        assert_eq!(
            [
                &a["readOnlyHint"],
                &a["destructiveHint"],
                &a["idempotentHint"],
                &a["openWorldHint"]
            ],
            hints.map(Value::from).each_ref(),
            "{name}"
        );
    }
}

#[test]
fn input_schemas_describe_every_argument() {
    let tools = every_kind().to_mcp_tools();
    let args = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tool| tool["name"] == "cloud_bucket_args")
        .expect("the args verb");
    assert_eq!(
        args["description"],
        "Every argument\n\nPositional, named, optional, repeatable, switches and defaults."
    );
    let schema = &args["inputSchema"];
    assert_eq!(schema["required"], json!(["path"]));
    let p = &schema["properties"];
    assert_eq!(
        p["path"],
        json!({"type": "string", "description": "A path", "x-cnv-value-type": "std::path::PathBuf"})
    );
    assert_eq!(p["rest"]["type"], "array");
    assert_eq!(p["rest"]["items"], json!({"type": "string"}));
    assert_eq!(
        p["count"],
        json!({"type": "integer", "minimum": 0, "description": "How many", "default": 3,
               "x-cnv-value-type": "u32", "x-cnv-flag": "-c, --count"})
    );
    assert_eq!(p["offset"]["default"], -1);
    assert_eq!(p["ratio"]["default"], 0.5);
    assert_eq!(p["force"]["type"], "boolean");
    assert_eq!(p["force"]["default"], false);
    assert_eq!(p["sep"]["maxLength"], 1);
    assert_eq!(p["sep"]["default"], ",");
    assert_eq!(p["header"]["type"], "array");
    assert_eq!(p["name"]["x-cnv-flag"], "--name");
    let old = tools["tools"].as_array().unwrap().last().unwrap();
    assert_eq!(old["description"], "The old way\n\nDeprecated: use `args`");
    assert_eq!(old["_meta"]["cnv/contract"]["stability"], "Deprecated");
}

#[test]
fn json_round_trip_is_equal() {
    let grammar = every_kind();
    let json = serde_json::to_string_pretty(&grammar).expect("serializes");
    let back = GrammarModel::from_json(&json).expect("loads and validates");
    assert_eq!(back, grammar);
    let value: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["storage"], Value::Null, "nouns are under `nouns`");
    assert_eq!(
        value["nouns"][0]["verbs"][1]["contract"]["capability"],
        "ReadOnlyFS"
    );
    let arg = &value["nouns"][1]["nouns"][0]["verbs"][0]["args"][2];
    assert_eq!(
        arg,
        &json!({"name": "count", "value_type": "u32", "help": "How many", "positional": false,
                "short": "c", "required": false, "default": "3", "multiple": false})
    );
}

#[test]
fn loading_refuses_bad_documents_with_every_problem() {
    let unknown_class = r#"{"name":"app","nouns":[{"name":"n","help":"N","verbs":[
        {"name":"v","help":"V","contract":{"capability":"Netwrk","resource":"Fast"}}]}]}"#;
    let err = GrammarModel::from_json(unknown_class).unwrap_err();
    assert!(matches!(err, LoadError::Json(_)));
    assert!(
        err.to_string().contains("unknown variant `Netwrk`"),
        "{err}"
    );

    let agent_safe_network = unknown_class.replace(
        r#""capability":"Netwrk","resource":"Fast""#,
        r#""capability":"Network","resource":"Fast","safety":"AgentSafe""#,
    );
    let err = GrammarModel::from_json(&agent_safe_network).unwrap_err();
    assert!(err.to_string().contains("cannot be `AgentSafe`"), "{err}");

    let positional_short = r#"{"name":"app","nouns":[{"name":"n","help":"N","verbs":[
        {"name":"v","help":"V","contract":{"capability":"Pure","resource":"Fast"},
         "args":[{"name":"p","value_type":"String","help":"P","positional":true,"short":"p","required":true}]}]}]}"#;
    let err = GrammarModel::from_json(positional_short).unwrap_err();
    assert!(
        err.to_string()
            .contains("positional argument cannot have a short flag"),
        "{err}"
    );

    let invalid = r#"{"name":"App","version":"one","nouns":[{"name":"n","help":"","verbs":[]}]}"#;
    let LoadError::Invalid(errors) = GrammarModel::from_json(invalid).unwrap_err() else {
        panic!("a well-formed document with broken rules");
    };
    assert_eq!(errors.len(), 4, "{errors}");

    let unknown_field = r#"{"name":"app","nouns":[],"colour":"red"}"#;
    assert!(
        GrammarModel::from_json(unknown_field)
            .unwrap_err()
            .to_string()
            .contains("unknown field `colour`")
    );
}

#[test]
fn a_network_verb_loaded_without_safety_is_not_agent_safe() {
    let json = r#"{"name":"app","nouns":[{"name":"net","help":"Net","verbs":[
        {"name":"fetch","help":"Fetch","contract":{"capability":"Network","resource":"Slow"}}]}]}"#;
    let grammar = GrammarModel::from_json(json).unwrap();
    let contract = grammar.verb("net", "fetch").unwrap().contract();
    assert_eq!(contract.safety(), SafetyProfile::HumanReviewRequired);
    let tools = grammar.to_mcp_tools();
    assert_eq!(
        tools["tools"][0]["_meta"]["cnv/contract"]["safety"],
        "HumanReviewRequired"
    );
}

#[test]
fn loading_refuses_what_grammar_dsl_refuses() {
    // Each document is valid but for one thing the macro refuses at compile time.
    let verb = |fields: &str| {
        format!(
            r#"{{"name":"app","nouns":[{{"name":"n","help":"N","verbs":[
            {{"name":"v","help":"V","contract":{{"capability":"Pure","resource":"Fast","stability":"Deprecated"}}{fields}}}]}}]}}"#
        )
    };
    let cases = [
        (
            verb(
                r#","args":[{"name":"force","value_type":"bool","help":"F","required":false,"default":"true"}]"#,
            ),
            "its default is `false`, not `true`",
        ),
        (verb(r#","deprecated":"""#), "the deprecation note is empty"),
        (verb(r#","long_help":" ""#), "the long help is empty"),
        (
            r#"{"name":"app","help":"","nouns":[{"name":"n","help":"N","verbs":[
            {"name":"v","help":"V","contract":{"capability":"Pure","resource":"Fast"}}]}]}"#
                .to_string(),
            "the application: the help text is empty",
        ),
        (
            r#"{"name":"app","nouns":[{"name":"n","help":"N","long_help":"","verbs":[
            {"name":"v","help":"V","contract":{"capability":"Pure","resource":"Fast"}}]}]}"#
                .to_string(),
            "noun `n`: the long help is empty",
        ),
    ];
    for (json, expected) in cases {
        match GrammarModel::from_json(&json) {
            Err(LoadError::Invalid(errors)) => {
                assert_eq!(errors.len(), 1, "{errors}");
                assert!(errors.to_string().contains(expected), "{errors}");
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
    // What the macro writes for a switch, and a switch without a default, load.
    for default in [r#","default":"false""#, ""] {
        let json = verb(&format!(
            r#","args":[{{"name":"force","value_type":"bool","help":"F","required":false{default}}}]"#
        ));
        assert!(GrammarModel::from_json(&json).is_ok(), "{json}");
    }
}

#[test]
fn defaults_json_cannot_hold_in_the_property_s_type_are_left_out() {
    let verb = GrammarVerb::new("v", "V", CapabilityContract::pure())
        .with_arg(
            GrammarArgument::named("huge", "u128", "Beyond u64")
                .with_default("340282366920938463463374607431768211455"),
        )
        .with_arg(
            GrammarArgument::named("low", "i128", "Beyond i64")
                .with_default("-170141183460469231731687303715884105728"),
        )
        .with_arg(GrammarArgument::named("nan", "f64", "NaN").with_default("NaN"))
        .with_arg(GrammarArgument::named("inf", "f32", "Infinity").with_default("inf"))
        .with_arg(GrammarArgument::named("max", "u64", "Fits").with_default("18446744073709551615"))
        .with_arg(GrammarArgument::named("small", "u128", "Fits").with_default("7"));
    let grammar = GrammarModel::new("app").with_noun(GrammarNoun::new("n", "N").with_verb(verb));
    assert_eq!(grammar.validate(), Ok(()), "every default is a valid value");
    let tools = grammar.to_mcp_tools();
    assert_valid(&validator("ListToolsResult"), &tools);
    let p = &tools["tools"][0]["inputSchema"]["properties"];
    for name in ["huge", "low", "nan", "inf"] {
        assert_eq!(p[name].get("default"), None, "{name}: {}", p[name]);
        assert!(p[name]["type"] == "integer" || p[name]["type"] == "number");
    }
    assert_eq!(p["max"]["default"], json!(u64::MAX));
    assert_eq!(p["small"]["default"], 7);
    // The grammar's own JSON keeps every default as written.
    let back = GrammarModel::from_json(&serde_json::to_string(&grammar).unwrap()).unwrap();
    assert_eq!(back, grammar);
}

#[test]
fn tool_names_are_at_most_128_characters() {
    // The longest command `validate()` accepts is a 128-character tool name.
    let long = |verb_len: usize| {
        GrammarModel::new("app").with_noun(GrammarNoun::new("cloud", "Cloud").with_noun(
            GrammarNoun::new("bucket", "Buckets").with_verb(GrammarVerb::new(
                "l".repeat(verb_len),
                "List",
                CapabilityContract::network(),
            )),
        ))
    };
    let longest = long(128 - "cloud_bucket_".len());
    assert_eq!(longest.validate(), Ok(()));
    let tools = longest.to_mcp_tools();
    assert_eq!(tools["tools"][0]["name"].as_str().map(str::len), Some(128));
    assert_eq!(cnv_grammar::MAX_COMMAND_LEN, 128);
    let json = serde_json::to_string(&long(128 - "cloud_bucket_".len() + 1)).unwrap();
    let Err(LoadError::Invalid(errors)) = GrammarModel::from_json(&json) else {
        panic!("a 129-character command loads");
    };
    assert!(
        matches!(
            errors.errors(),
            [cnv_grammar::GrammarError::CommandTooLong { problem, .. }] if problem.len == 129
        ),
        "{errors}"
    );
}

/// A release helper's grammar: what a first user coming from clap reached for.
fn release() -> GrammarModel {
    use cnv_grammar::{GrammarGroup, ValueRange};
    let publish = GrammarVerb::new(
        "publish",
        "Publish a release",
        CapabilityContract::network(),
    )
    .with_title("Publish")
    .with_mcp_name("publish_release")
    .with_output_schema(
        r#"{"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}"#,
    )
    .with_alias("ship")
    .with_arg(
        GrammarArgument::named("level", "u8", "How loud")
            .with_range(ValueRange::new(Some(1), Some(10)))
            .with_default("3")
            .with_value_name("LEVEL")
            .with_alias("lvl"),
    )
    .with_arg(GrammarArgument::named("json", "bool", "Answer in JSON").conflicts_with("yaml"))
    .with_arg(GrammarArgument::named("yaml", "bool", "Answer in YAML"))
    .with_arg(GrammarArgument::named("sign", "bool", "Sign it").requires("key"))
    .with_arg(GrammarArgument::named("key", "String", "The key").optional())
    .with_arg(GrammarArgument::named("trace", "bool", "Trace everything").hidden())
    .with_group(GrammarGroup::new("output", ["json", "yaml"]));
    GrammarModel::new("release")
        .with_arg(GrammarArgument::counted("verbose", "Say more").with_short('v'))
        .with_arg(
            GrammarArgument::named("profile", "String", "Which profile")
                .with_default("default")
                .in_mcp(),
        )
        .with_noun(
            GrammarNoun::new("env", "The environment")
                .with_verb(GrammarVerb::new(
                    "show-token",
                    "Show the token",
                    CapabilityContract::environment(),
                ))
                .with_verb(publish),
        )
}

#[test]
fn tool_names_are_lowercase_words_joined_by_underscores_and_found_back_by_the_same_rule() {
    let grammar = release();
    assert_eq!(grammar.validate(), Ok(()));
    let tools = grammar.to_mcp_tools();
    assert_valid(&validator("ListToolsResult"), &tools);
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["env_show_token", "publish_release"]);
    for name in names {
        let (path, verb) = grammar.find_tool(name).expect("found by its tool name");
        assert_eq!(path.tool_name(verb), name);
    }
    assert!(
        grammar.find_tool("env_publish").is_none(),
        "declared names replace the derived"
    );
    // `env show-token` and `env show token` would share a tool name: refused, until one
    // declares its own.
    let clash = |mcp_name: Option<&'static str>| {
        let mut token = GrammarVerb::new("token", "The token", CapabilityContract::pure());
        if let Some(name) = mcp_name {
            token = token.with_mcp_name(name);
        }
        GrammarModel::new("app").with_noun(
            GrammarNoun::new("env", "Env")
                .with_verb(GrammarVerb::new(
                    "show-token",
                    "Show",
                    CapabilityContract::pure(),
                ))
                .with_noun(GrammarNoun::new("show", "Show").with_verb(token)),
        )
    };
    let errors = clash(None).validate().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors}");
    assert!(
        errors.to_string().contains(
            "the MCP tool of `env show token` would be named `env_show_token`, like the tool of `env show-token`"
        ),
        "{errors}"
    );
    assert_eq!(clash(Some("env_token")).validate(), Ok(()));
    let errors = clash(Some("Env-Token")).validate().unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("`Env-Token` is not an MCP tool name"),
        "{errors}"
    );
}

#[test]
fn titles_output_schemas_and_mcp_globals_reach_the_manifest() {
    let tools = release().to_mcp_tools();
    let show = &tools["tools"][0];
    let publish = &tools["tools"][1];
    // Without a declared title, the help is the title.
    assert_eq!(show["title"], "Show the token");
    assert_eq!(show["annotations"]["title"], "Show the token");
    assert_eq!(publish["title"], "Publish");
    assert_eq!(publish["outputSchema"]["required"], json!(["url"]));
    assert!(show.get("outputSchema").is_none());
    // `--verbose` is the command line's; `--profile` is declared for MCP.
    let properties = show["inputSchema"]["properties"].as_object().unwrap();
    assert!(!properties.contains_key("verbose"), "{properties:?}");
    assert_eq!(properties["profile"]["default"], "default");
    let tool_validator = validator("Tool");
    for tool in tools["tools"].as_array().unwrap() {
        assert_valid(&tool_validator, tool);
    }
}

#[test]
fn clap_attributes_reach_the_tool_schemas() {
    let tools = release().to_mcp_tools();
    let input = &tools["tools"][1]["inputSchema"];
    let properties = input["properties"].as_object().unwrap();
    assert_eq!(properties["level"]["minimum"], 1);
    assert_eq!(properties["level"]["maximum"], 10);
    assert_eq!(properties["level"]["default"], 3);
    assert!(
        !properties.contains_key("trace"),
        "hidden arguments are nobody's to see"
    );
    assert_eq!(properties["json"]["x-cnv-conflicts-with"], json!(["yaml"]));
    assert_eq!(input["dependentRequired"], json!({"sign": ["key"]}));
    assert_eq!(
        input["x-cnv-groups"],
        json!([{"name": "output", "args": ["json", "yaml"], "required": false, "multiple": false}])
    );
    // A counted switch is an integer, wherever it is declared for MCP.
    let counted = GrammarModel::new("app").with_noun(
        GrammarNoun::new("n", "N").with_verb(
            GrammarVerb::new("v", "V", CapabilityContract::pure())
                .with_arg(GrammarArgument::counted("verbose", "Say more").with_short('v')),
        ),
    );
    assert_eq!(counted.validate(), Ok(()));
    let tools = counted.to_mcp_tools();
    assert_eq!(
        tools["tools"][0]["inputSchema"]["properties"]["verbose"],
        json!({"type": "integer", "minimum": 0, "maximum": 255, "default": 0,
               "description": "Say more", "x-cnv-value-type": "u8", "x-cnv-flag": "-v, --verbose"})
    );
    assert_valid(&validator("ListToolsResult"), &tools);
}

#[test]
fn the_new_fields_survive_the_json_round_trip() {
    let grammar = release();
    let json = serde_json::to_string_pretty(&grammar).expect("serializes");
    let back = GrammarModel::from_json(&json).expect("loads and validates");
    // Equal as JSON: the output schema is kept as JSON, so its text comes back compact.
    let value: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), value);
    assert_eq!(back.to_mcp_tools(), grammar.to_mcp_tools());
    let publish = &value["nouns"][0]["verbs"][1];
    // The output schema is written as JSON, not as a string holding it.
    assert_eq!(publish["output_schema"]["type"], "object");
    assert_eq!(publish["aliases"], json!(["ship"]));
    assert_eq!(publish["mcp_name"], "publish_release");
    assert_eq!(
        publish["args"][0],
        json!({"name": "level", "value_type": "u8", "help": "How loud", "positional": false,
               "required": false, "default": "3", "multiple": false, "value_name": "LEVEL",
               "aliases": ["lvl"], "range": {"min": 1, "max": 10}})
    );
    assert_eq!(value["args"][0]["counted"], true);
    assert_eq!(value["args"][1]["mcp"], true);
}

#[test]
fn every_new_rule_is_checked_when_a_model_is_validated() {
    use cnv_grammar::{GrammarGroup, ValueRange};
    let verb = GrammarVerb::new("v", "V", CapabilityContract::pure())
        .with_title(" ")
        .with_output_schema("[1, 2]")
        .with_alias("help")
        .with_arg(
            GrammarArgument::named("level", "f64", "L").with_range(ValueRange::new(Some(1), None)),
        )
        .with_arg(
            GrammarArgument::named("n", "u8", "N")
                .with_range(ValueRange::new(Some(5), Some(300)))
                .with_default("4"),
        )
        .with_arg(GrammarArgument::named("force", "bool", "F").with_value_name("YES"))
        .with_arg(GrammarArgument::positional("path", "String", "P").with_alias("file"))
        .with_arg(GrammarArgument::named("x", "String", "X").hidden())
        .with_arg(
            GrammarArgument::named("y", "String", "Y")
                .optional()
                .in_mcp(),
        )
        .with_arg(
            GrammarArgument::named("z", "bool", "Z")
                .conflicts_with("z")
                .conflicts_with("yy")
                .requires("force")
                .conflicts_with("force"),
        )
        .with_arg(GrammarArgument::counted("verbose", "V").with_default("1"))
        .with_group(GrammarGroup::new("pick", ["force", "path", "nope"]));
    let grammar = GrammarModel::new("app").with_noun(GrammarNoun::new("n", "N").with_verb(verb));
    let errors = grammar.validate().unwrap_err();
    let text = errors.to_string();
    for expected in [
        "verb `v`: `help` is reserved",
        "the title is empty",
        "the output schema must describe an object",
        "argument `level`: a range bounds an integer, and `f64` is not one",
        "argument `n`: the bound `300` is not a valid `u8`",
        "argument `n`: the default `4` is outside the range `5..=300`",
        "argument `force`: a switch takes no value, so it has no value name",
        "argument `path`: a positional argument has no flag to give another name",
        "argument `x`: a hidden argument cannot be required",
        "argument `y`: `mcp` is for the app's global arguments",
        "argument `z`: `z` names itself in `conflicts_with`",
        "argument `z`: `conflicts_with` names `yy`, which is no argument or group of this verb (did you mean `y`?)",
        "argument `z`: `force` is both in `conflicts_with` and in `requires`",
        "argument `verbose`: a counted switch is how many times it was given",
        "group `pick`: `path` is required, so a group could not make it one of several choices",
        "group `pick`: `nope` is no argument of this verb",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    assert_eq!(errors.len(), 16, "{text}");
}
