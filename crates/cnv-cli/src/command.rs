//! From a `GrammarModel` to a `clap::Command`: nouns and verbs become subcommands,
//! arguments become clap arguments, and the global flags of the gate and of
//! introspection are added to every command.

use clap::builder::{PossibleValuesParser, StringValueParser, TypedValueParser, ValueParser};
use clap::{Arg, ArgAction, ArgGroup, Command, value_parser};

use cnv_grammar::rules::Scalar;
use cnv_grammar::{
    ArgumentKind, GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb, ValueRange,
};
use cnv_typestate::{EscalationPolicy, Requirement, Rule, RunMode};

/// The ids of the global flags; a verb argument may not use them.
pub(crate) mod global {
    pub(crate) const AGENT: &str = "agent";
    pub(crate) const JUSTIFY: &str = "justify";
    pub(crate) const YES: &str = "yes";
    pub(crate) const FORMAT: &str = "format";
    pub(crate) const GRAMMAR: &str = "grammar";
    pub(crate) const MCP_TOOLS: &str = "mcp-tools";
    pub(crate) const CAPABILITIES: &str = "capabilities";
    pub(crate) const COMPLETIONS: &str = "completions";
    /// The operator's flags that serve every verb (`crate::serve`).
    pub(crate) const MCP_SERVE: &str = "mcp-serve";
    pub(crate) const MCP_SERVE_HTTP: &str = "mcp-serve-http";

    /// The gate's flags: given at any level (before the noun, after the verb), once.
    pub(crate) const GATE: [&str; 4] = [AGENT, JUSTIFY, YES, FORMAT];

    /// The heading of the program's own global arguments in `--help`.
    pub(crate) const GLOBAL_HEADING: &str = "Global options";

    /// The heading of the gate's flags in `--help`, after the program's own options.
    pub(crate) const GATE_HEADING: &str = "Gate options";

    /// Every name reserved for these flags (and clap's `help` and `version`) is in
    /// `cnv_grammar::rules::RESERVED_ARGUMENT_NAMES`, the one table that both
    /// `grammar_dsl!` and `GrammarModel::validate` refuse as an argument name; a test
    /// checks that every flag declared here is in it.
    #[cfg(test)]
    pub(crate) use cnv_grammar::rules::RESERVED_ARGUMENT_NAMES as RESERVED;
}

/// What the help of every verb says about the gate, and of the root about serving.
pub(crate) struct GateText<'a> {
    pub(crate) policy: &'a EscalationPolicy,
    pub(crate) agent_env: &'a str,
    /// The help of `--mcp-serve-http` (the server's: [`Serve::HTTP_HELP`](crate::Serve::HTTP_HELP)).
    pub(crate) http_help: &'static str,
}

/// The whole command line of `model`.
pub(crate) fn build(model: &GrammarModel, gate: &GateText<'_>) -> Command {
    let mut root = Command::new(model.app_name().to_owned())
        .subcommand_required(false)
        .arg_required_else_help(true)
        .max_term_width(100)
        .after_help(format!(
            "Agent mode (--agent or {}=1) runs only agent-safe commands without a \
             justification; others need --justify, and Dangerous ones never run.\n\
             Exit codes: 0 ok, 1 the command failed, 2 usage error, 3 denied by the \
             capability gate, 4 confirmation required, 5 stopped at the end of its \
             resource band's time.",
            gate.agent_env
        ));
    if let Some(version) = model.version() {
        root = root.version(version.to_owned());
    }
    if let Some(help) = model.help() {
        root = root.about(help.to_owned());
    }
    root = root
        .args(introspection_args())
        .args(global_args(model))
        .args(gate_args(gate.agent_env));
    root = root.args(serve_args(gate.http_help));
    for noun in model.nouns() {
        root = root.subcommand(noun_command(noun, model, gate));
    }
    root
}

/// The program's own global arguments: accepted at every level and read by every
/// handler, under their own heading. Declared on every command (clap would append them
/// to each subcommand after its own arguments, which would put the gate's heading before
/// them in `--help`): the program's options come before cnv's.
fn global_args(model: &GrammarModel) -> impl Iterator<Item = Arg> + '_ {
    model.args().iter().map(|arg| {
        argument(arg)
            .global(true)
            .help_heading(global::GLOBAL_HEADING)
    })
}

/// The gate's flags, declared at every level of the tree (the root, each noun, each
/// verb) so that they may come before the noun or after the verb. They are not clap
/// `global` arguments: clap lets a global flag given at a deeper level silently replace
/// the one given higher up, and the command line refuses a flag given twice instead
/// (`cli::gate_flags`). Within one level, clap refuses a repeat itself.
fn gate_args(agent_env: &str) -> [Arg; 4] {
    [
        Arg::new(global::AGENT)
            .long(global::AGENT)
            .help(format!(
                "Run in agent mode: only agent-safe commands run unjustified [env: {agent_env}]"
            ))
            .action(ArgAction::SetTrue),
        Arg::new(global::JUSTIFY)
            .long(global::JUSTIFY)
            .value_name("TEXT")
            .help("Why this command needs its capability (agent mode; checked by the escalation policy)")
            .action(ArgAction::Set)
            .value_parser(ValueParser::string()),
        Arg::new(global::YES)
            .long(global::YES)
            .help("Confirm a command that needs a human's review, without asking (not for InteractiveOnly)")
            .action(ArgAction::SetTrue),
        Arg::new(global::FORMAT)
            .long(global::FORMAT)
            .value_name("FORMAT")
            .help("Output format [default: text]")
            .action(ArgAction::Set)
            .value_parser(PossibleValuesParser::new(["text", "json"])),
    ]
    .map(|arg| arg.help_heading(global::GATE_HEADING))
}

/// The flags that print something about the program and exit: asked of the program as a
/// whole, so they stay on the root command.
fn introspection_args() -> [Arg; 4] {
    let flag = |id: &'static str, help: &'static str| {
        Arg::new(id).long(id).help(help).action(ArgAction::SetTrue)
    };
    [
        flag(global::GRAMMAR, "Print the grammar as JSON and exit"),
        flag(
            global::MCP_TOOLS,
            "Print the MCP tool manifest (tools/list result) and exit",
        ),
        flag(
            global::CAPABILITIES,
            "Print every command with its capability and exit",
        ),
        Arg::new(global::COMPLETIONS)
            .long(global::COMPLETIONS)
            .value_name("SHELL")
            .help("Print a completion script for SHELL and exit")
            .action(ArgAction::Set)
            .value_parser(value_parser!(clap_complete::Shell)),
    ]
}

/// The operator's flags that serve every verb as an MCP tool (`crate::serve`): asked of
/// the program as a whole, alone (a command, the gate's flags or introspection beside
/// them mean nothing to a server, so clap refuses them).
fn serve_args(http_help: &'static str) -> [Arg; 2] {
    use std::net::SocketAddr;
    let alone = [
        global::AGENT,
        global::JUSTIFY,
        global::YES,
        global::FORMAT,
        global::GRAMMAR,
        global::MCP_TOOLS,
        global::CAPABILITIES,
        global::COMPLETIONS,
    ];
    [
        Arg::new(global::MCP_SERVE)
            .long(global::MCP_SERVE)
            .help(
                "Serve every command as an MCP tool over standard input and output, in agent mode",
            )
            .action(ArgAction::SetTrue)
            .conflicts_with_all(alone)
            .conflicts_with(global::MCP_SERVE_HTTP),
        Arg::new(global::MCP_SERVE_HTTP)
            .long(global::MCP_SERVE_HTTP)
            .value_name("ADDR")
            .help(http_help)
            .action(ArgAction::Set)
            .value_parser(value_parser!(SocketAddr))
            .conflicts_with_all(alone),
    ]
}

/// `command` with the subcommand at `words` (nouns, then the verb) passed through
/// `configure`.
pub(crate) fn configure_verb(
    command: Command,
    words: &[&str],
    configure: fn(Command) -> Command,
) -> Command {
    match words {
        [] => configure(command),
        [first, rest @ ..] => {
            let first = (*first).to_owned();
            command.mut_subcommand(first, |sub| configure_verb(sub, rest, configure))
        }
    }
}

fn noun_command(noun: &GrammarNoun, model: &GrammarModel, gate: &GateText<'_>) -> Command {
    let mut command = Command::new(noun.name().to_owned())
        .about(noun.help().to_owned())
        .subcommand_required(true)
        .arg_required_else_help(true)
        .args(global_args(model))
        .args(gate_args(gate.agent_env));
    if let Some(long) = noun.long_help() {
        command = command.long_about(long.to_owned());
    }
    for verb in noun.verbs() {
        command = command.subcommand(verb_command(verb, model, gate));
    }
    for nested in noun.nouns() {
        command = command.subcommand(noun_command(nested, model, gate));
    }
    command
}

fn verb_command(verb: &GrammarVerb, model: &GrammarModel, gate: &GateText<'_>) -> Command {
    let about = match verb.deprecation() {
        Some(note) => format!("{} [deprecated: {note}]", verb.help()),
        None => verb.help().to_owned(),
    };
    let mut command = Command::new(verb.name().to_owned())
        .about(about)
        .after_help(gate_help(verb, gate))
        .visible_aliases(verb.aliases().iter().map(ToString::to_string));
    if let Some(long) = verb.long_help() {
        command = command.long_about(format!("{}\n\n{long}", verb.help()));
    }
    // The verb's own arguments first, then the program's global ones, then the gate's:
    // `--help` lists them in that order.
    command = command
        .args(verb.args().iter().map(argument))
        .args(global_args(model))
        .args(gate_args(gate.agent_env));
    for group in verb.groups() {
        command = command.group(
            ArgGroup::new(group.name().to_owned())
                .args(group.args().iter().map(ToString::to_string))
                .required(group.is_required())
                .multiple(group.is_multiple()),
        );
    }
    command
}

/// The gate's rule for `verb`, for its `--help`.
fn gate_help(verb: &GrammarVerb, gate: &GateText<'_>) -> String {
    let contract = verb.contract();
    let class = contract.class();
    let band = contract.band();
    let limits = match (band.max_runtime_ms(), band.max_memory_bytes()) {
        (Some(ms), Some(bytes)) => format!("{ms} ms, {} MiB", bytes / (1024 * 1024)),
        _ => "unbounded".to_owned(),
    };
    let agent = match gate.policy.requirement(RunMode::Autonomous, &contract) {
        Requirement::Nothing => "Agents may run it without a justification.".to_owned(),
        Requirement::Justification { min_chars } => {
            format!("In agent mode it needs --justify with at least {min_chars} characters.")
        }
        Requirement::Never {
            rule: Rule::DangerousNeverAutonomous,
        } => "It never runs in agent mode; a person must run it and approve it at a terminal."
            .to_owned(),
        Requirement::Never { .. }
        | Requirement::Confirmation { .. }
        | Requirement::Approval { .. } => {
            "It never runs in agent mode; a person must run it at a terminal.".to_owned()
        }
    };
    let human = match gate.policy.requirement(RunMode::Supervised, &contract) {
        Requirement::Nothing => String::new(),
        Requirement::Confirmation { scripted: true } => {
            "\nRun by a person, it asks for confirmation (--yes confirms in scripts).".to_owned()
        }
        Requirement::Confirmation { scripted: false } => {
            "\nRun by a person, it must be confirmed at a terminal (--yes is not enough)."
                .to_owned()
        }
        Requirement::Approval { min_chars } => format!(
            "\nRun by a person, it needs --justify with at least {min_chars} characters and an approval typed at a terminal."
        ),
        Requirement::Justification { min_chars } => {
            format!("\nRun by a person, it needs --justify with at least {min_chars} characters.")
        }
        Requirement::Never { .. } => "\nIt never runs.".to_owned(),
    };
    format!(
        "Capability: {class} (risk {risk}), band {band} ({limits}), safety {safety}.\n{agent}{human}",
        risk = class.risk_level(),
        safety = contract.safety(),
    )
}

fn argument(arg: &GrammarArgument) -> Arg {
    let mut help = arg.help().to_owned();
    if let Some(range) = arg.range() {
        help.push_str(&format!(" [range: {range}]"));
    }
    let mut clap_arg = Arg::new(arg.name().to_owned())
        .help(help)
        .required(arg.is_required())
        .value_name(arg.placeholder())
        .hide(arg.is_hidden())
        .conflicts_with_all(arg.conflicts().iter().map(ToString::to_string))
        .requires_ifs(
            arg.requirements()
                .iter()
                .map(|other| (clap::builder::ArgPredicate::IsPresent, other.to_string())),
        );
    if let ArgumentKind::Named { short } = arg.kind() {
        clap_arg = clap_arg
            .long(arg.name().to_owned())
            .visible_aliases(arg.aliases().iter().map(ToString::to_string));
        if let Some(short) = short {
            clap_arg = clap_arg.short(short);
        }
    }
    if let Some(env) = arg.env() {
        clap_arg = clap_arg.env(env.to_owned());
    }
    if arg.is_counted() {
        // `-vvv` is 3: a `u8`, 0 when absent.
        return clap_arg.action(ArgAction::Count);
    }
    if arg.is_switch() {
        return clap_arg.action(ArgAction::SetTrue);
    }
    clap_arg = clap_arg.value_parser(parser_for(arg));
    if let Some(default) = arg.default_value() {
        clap_arg = clap_arg.default_value(default.to_owned());
    }
    if arg.is_multiple() {
        clap_arg = clap_arg.action(ArgAction::Append);
        if arg.is_positional() {
            clap_arg = clap_arg.num_args(1..);
        }
    } else {
        clap_arg = clap_arg.action(ArgAction::Set);
    }
    clap_arg
}

/// The parser of `arg`: its scalar's ([`scalar_parser`]), only its possible values when
/// the grammar lists them, and only its range when it declares one.
fn parser_for(arg: &GrammarArgument) -> ValueParser {
    let values: Vec<String> = arg
        .possible_values()
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Some(range) = arg.range() {
        let ranged = |range| match arg.scalar() {
            Scalar::U8 => in_range(range, FromStrParser::<u8>::new()),
            Scalar::U16 => in_range(range, FromStrParser::<u16>::new()),
            Scalar::U32 => in_range(range, FromStrParser::<u32>::new()),
            Scalar::U64 => in_range(range, FromStrParser::<u64>::new()),
            Scalar::U128 => in_range(range, FromStrParser::<u128>::new()),
            Scalar::Usize => in_range(range, FromStrParser::<usize>::new()),
            Scalar::I8 => in_range(range, FromStrParser::<i8>::new()),
            Scalar::I16 => in_range(range, FromStrParser::<i16>::new()),
            Scalar::I32 => in_range(range, FromStrParser::<i32>::new()),
            Scalar::I64 => in_range(range, FromStrParser::<i64>::new()),
            Scalar::I128 => in_range(range, FromStrParser::<i128>::new()),
            Scalar::Isize => in_range(range, FromStrParser::<isize>::new()),
            // The rules allow a range on integers only.
            Scalar::F32 | Scalar::F64 | Scalar::Bool | Scalar::Char | Scalar::Text => {
                scalar_parser(arg.scalar())
            }
        };
        return ranged(range);
    }
    if values.is_empty() {
        return scalar_parser(arg.scalar());
    }
    match arg.scalar() {
        Scalar::U8 => among(values, FromStrParser::<u8>::new()),
        Scalar::U16 => among(values, FromStrParser::<u16>::new()),
        Scalar::U32 => among(values, FromStrParser::<u32>::new()),
        Scalar::U64 => among(values, FromStrParser::<u64>::new()),
        Scalar::U128 => among(values, FromStrParser::<u128>::new()),
        Scalar::Usize => among(values, FromStrParser::<usize>::new()),
        Scalar::I8 => among(values, FromStrParser::<i8>::new()),
        Scalar::I16 => among(values, FromStrParser::<i16>::new()),
        Scalar::I32 => among(values, FromStrParser::<i32>::new()),
        Scalar::I64 => among(values, FromStrParser::<i64>::new()),
        Scalar::I128 => among(values, FromStrParser::<i128>::new()),
        Scalar::Isize => among(values, FromStrParser::<isize>::new()),
        Scalar::F32 => among(values, FromStrParser::<f32>::new()),
        Scalar::F64 => among(values, FromStrParser::<f64>::new()),
        Scalar::Bool => among(values, FromStrParser::<bool>::new()),
        Scalar::Char => among(values, FromStrParser::<char>::new()),
        Scalar::Text => among(values, StringValueParser::new()),
    }
}

/// A clap parser that rejects, with clap's usage error, what the declared type cannot
/// parse: the standard numbers, `bool` and `char` by type, everything else as UTF-8 text
/// (the handler's `FromStr` decides the rest). Which types those are is the model's table
/// (`GrammarArgument::scalar`), not a second one here.
fn scalar_parser(scalar: Scalar) -> ValueParser {
    match scalar {
        Scalar::U8 => value_parser!(u8).into(),
        Scalar::U16 => value_parser!(u16).into(),
        Scalar::U32 => value_parser!(u32).into(),
        Scalar::U64 => value_parser!(u64).into(),
        Scalar::U128 => value_parser!(u128).into(),
        Scalar::Usize => value_parser!(usize).into(),
        Scalar::I8 => value_parser!(i8).into(),
        Scalar::I16 => value_parser!(i16).into(),
        Scalar::I32 => value_parser!(i32).into(),
        Scalar::I64 => value_parser!(i64).into(),
        Scalar::I128 => value_parser!(i128).into(),
        Scalar::Isize => value_parser!(isize).into(),
        Scalar::F32 => value_parser!(f32).into(),
        Scalar::F64 => value_parser!(f64).into(),
        Scalar::Bool => value_parser!(bool),
        Scalar::Char => value_parser!(char).into(),
        Scalar::Text => ValueParser::string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnv_caps::{CapabilityContract, ResourceBand};

    fn model() -> GrammarModel {
        let mut model = GrammarModel::new("tool").with_version("1.2.3");
        model.add_noun(
            GrammarNoun::new("net", "Network").with_verb(
                GrammarVerb::new(
                    "fetch",
                    "Fetch a URL",
                    CapabilityContract::network().with_band(ResourceBand::Slow),
                )
                .with_arg(GrammarArgument::positional("url", "String", "The URL"))
                .with_arg(
                    GrammarArgument::named("timeout-ms", "u64", "Timeout")
                        .with_short('t')
                        .with_default("500"),
                )
                .with_arg(GrammarArgument::named("header", "String", "Header").multiple())
                .with_arg(GrammarArgument::named("verbose", "bool", "Say more")),
            ),
        );
        model
    }

    fn gate() -> GateText<'static> {
        static POLICY: EscalationPolicy = EscalationPolicy::new();
        GateText {
            policy: &POLICY,
            agent_env: "CNV_AGENT",
            http_help: "Serve over HTTP",
        }
    }

    #[test]
    fn the_command_tree_follows_the_model() {
        let command = build(&model(), &gate());
        command.clone().debug_assert();
        assert_eq!(command.get_name(), "tool");
        assert_eq!(command.get_version(), Some("1.2.3"));
        let fetch = command
            .find_subcommand("net")
            .and_then(|net| net.find_subcommand("fetch"))
            .expect("net fetch");
        let ids: Vec<&str> = fetch.get_arguments().map(|a| a.get_id().as_str()).collect();
        for id in ["url", "timeout-ms", "header", "verbose"] {
            assert!(ids.contains(&id), "{ids:?}");
        }
        let help = fetch
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            help.contains("Capability: Network (risk 5), band Slow"),
            "{help}"
        );
        assert!(help.contains("at least 30 characters"), "{help}");
    }

    #[test]
    fn typed_values_are_checked_by_clap() {
        let command = build(&model(), &gate());
        let err = command
            .clone()
            .try_get_matches_from(["tool", "net", "fetch", "http://x", "-t", "soon"])
            .expect_err("not a number");
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        let matches = command
            .try_get_matches_from([
                "tool",
                "net",
                "fetch",
                "http://x",
                "--header",
                "a",
                "--header",
                "b",
                "--verbose",
            ])
            .expect("valid");
        let (_, net) = matches.subcommand().expect("net");
        let (_, fetch) = net.subcommand().expect("fetch");
        let headers: Vec<_> = fetch
            .get_raw("header")
            .expect("given")
            .map(|v| v.to_str().unwrap_or_default())
            .collect();
        assert_eq!(headers, ["a", "b"]);
        assert_eq!(
            fetch.get_raw("timeout-ms").and_then(|mut v| v.next()),
            Some(std::ffi::OsStr::new("500"))
        );
        assert!(fetch.get_flag("verbose"));
    }

    #[test]
    fn each_value_type_gets_the_parser_of_its_type() {
        let cases = [
            ("u8", "255", Some("256")),
            ("core::primitive::u16", "65535", Some("-1")),
            (
                "u128",
                "340282366920938463463374607431768211455",
                Some("-1"),
            ),
            (
                "i128",
                "-170141183460469231731687303715884105728",
                Some("1.5"),
            ),
            ("isize", "-3", Some("three")),
            ("f32", "0.5", Some("half")),
            ("f64", "-1e300", Some("1,5")),
            ("char", "é", Some("ab")),
            ("String", "anything at all", None),
            ("std::path::PathBuf", "/tmp/x", None),
        ];
        for (value_type, good, bad) in cases {
            let command = Command::new("t").arg(
                argument(&GrammarArgument::named("v", value_type, "V")).allow_hyphen_values(true),
            );
            let parsed = command.clone().try_get_matches_from(["t", "--v", good]);
            assert!(parsed.is_ok(), "{value_type} {good}: {parsed:?}");
            if let Some(bad) = bad {
                let err = command
                    .try_get_matches_from(["t", "--v", bad])
                    .expect_err(value_type);
                assert_eq!(
                    err.kind(),
                    clap::error::ErrorKind::ValueValidation,
                    "{value_type} {bad}"
                );
            }
        }
    }

    #[test]
    fn clap_attributes_of_the_grammar_reach_the_command() {
        use cnv_grammar::GrammarGroup;
        let mut model = GrammarModel::new("tool")
            .with_arg(GrammarArgument::counted("verbose", "Say more").with_short('v'));
        model.add_noun(
            GrammarNoun::new("rel", "Releases").with_verb(
                GrammarVerb::new("publish", "Publish", CapabilityContract::network())
                    .with_alias("ship")
                    .with_arg(
                        GrammarArgument::named("level", "u8", "How loud")
                            .with_range(ValueRange::new(Some(1), Some(10)))
                            .with_default("3")
                            .with_alias("lvl"),
                    )
                    .with_arg(GrammarArgument::named("json", "bool", "JSON").conflicts_with("yaml"))
                    .with_arg(GrammarArgument::named("yaml", "bool", "YAML"))
                    .with_arg(GrammarArgument::named("sign", "bool", "Sign").requires("key"))
                    .with_arg(GrammarArgument::named("key", "String", "Key").optional())
                    .with_arg(GrammarArgument::named("trace", "bool", "Trace").hidden())
                    .with_group(GrammarGroup::new("output", ["json", "yaml"]).required()),
            ),
        );
        let mut command = build(&model, &gate());
        command.build();
        let parse = |args: &[&str]| {
            command
                .clone()
                .try_get_matches_from(["tool", "rel"].iter().chain(args))
        };
        let publish = |matches: &clap::ArgMatches| {
            matches
                .subcommand_matches("rel")
                .and_then(|rel| rel.subcommand_matches("publish"))
                .cloned()
                .expect("rel publish")
        };
        // An alias of the verb and of an argument, a counted switch anywhere.
        let matches = parse(&["-vv", "ship", "--lvl", "10", "--json"]).expect("valid");
        let leaf = publish(&matches);
        assert_eq!(leaf.get_one::<u8>("level"), Some(&10));
        assert_eq!(leaf.get_count("verbose"), 2);
        assert_eq!(
            leaf.get_raw("verbose").and_then(|mut raw| raw.next()),
            Some(std::ffi::OsStr::new("2")),
            "a count's text is its number, which `Invocation::value` reads"
        );
        // The range, the conflict, the requirement and the required group are clap's.
        let err = parse(&["publish", "--level", "11", "--json"]).expect_err("out of range");
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(err.to_string().contains("11 is not in 1..=10"), "{err}");
        let err = parse(&["publish", "--json", "--yaml"]).expect_err("conflict");
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        let err = parse(&["publish", "--json", "--sign"]).expect_err("requires");
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let err = parse(&["publish"]).expect_err("one of the group");
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let leaf = publish(&parse(&["publish", "--yaml", "--trace"]).expect("hidden, accepted"));
        assert!(leaf.get_flag("trace"));
        assert_eq!(leaf.get_count("verbose"), 0);
        // Help: capitals for values, aliases, the range, nothing hidden, and the program's
        // options before the gate's.
        let help = command
            .find_subcommand_mut("rel")
            .and_then(|rel| rel.find_subcommand_mut("publish"))
            .expect("publish")
            .render_help()
            .to_string();
        assert!(help.contains("--level <LEVEL>"), "{help}");
        assert!(help.contains("[alias: --lvl]"), "{help}");
        assert!(help.contains("[range: 1..=10]"), "{help}");
        assert!(!help.contains("--trace"), "{help}");
        let global = help.find("Global options:").expect(&help);
        let gate = help.find("Gate options:").expect(&help);
        assert!(
            help.find("Options:").expect(&help) < global && global < gate,
            "{help}"
        );
    }

    #[test]
    fn the_reserved_names_are_exactly_the_global_flags_and_clap_s_own() {
        let command = build(&model(), &gate());
        for name in global::RESERVED {
            let known = command.get_arguments().any(|a| a.get_id() == *name)
                || [
                    "help",
                    "version",
                    cnv_grammar::rules::JUSTIFICATION_ARGUMENT,
                ]
                .contains(name);
            assert!(known, "{name}");
        }
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            assert!(global::RESERVED.contains(&id), "`--{id}` is not reserved");
        }
    }
}

/// A value parser that accepts only `values` and hands each accepted one to `inner`;
/// clap's help and completions list the values, and anything else is clap's usage error
/// (exit 2) before a handler runs. With no values, `inner` alone.
pub(crate) fn among<P>(values: Vec<String>, inner: P) -> ValueParser
where
    P: TypedValueParser + Send + Sync + 'static,
    P::Value: Clone + Send + Sync + 'static,
{
    if values.is_empty() {
        ValueParser::new(inner)
    } else {
        ValueParser::new(Among { values, inner })
    }
}

/// See [`among`].
#[derive(Clone)]
struct Among<P> {
    values: Vec<String>,
    inner: P,
}

impl<P> TypedValueParser for Among<P>
where
    P: TypedValueParser + Send + Sync + 'static,
    P::Value: Clone + Send + Sync + 'static,
{
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let listed = value
            .to_str()
            .is_some_and(|text| self.values.iter().any(|v| v == text));
        if !listed {
            let mut err = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            err.insert(
                clap::error::ContextKind::InvalidArg,
                clap::error::ContextValue::String(
                    arg.map_or_else(|| "...".to_owned(), ToString::to_string),
                ),
            );
            err.insert(
                clap::error::ContextKind::InvalidValue,
                clap::error::ContextValue::String(value.to_string_lossy().into_owned()),
            );
            err.insert(
                clap::error::ContextKind::ValidValue,
                clap::error::ContextValue::Strings(self.values.clone()),
            );
            return Err(err);
        }
        self.inner.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.values.iter().map(|value| {
            clap::builder::PossibleValue::new(value.clone())
        })))
    }
}

/// A value parser that accepts only integers within `range`, parsed by `inner` (the
/// scalar's own parser, so the value keeps its type): anything outside is clap's usage
/// error (exit 2), saying the range, before a handler runs.
#[derive(Clone)]
struct InRange<P> {
    range: ValueRange,
    inner: P,
}

/// See [`InRange`].
fn in_range<P>(range: ValueRange, inner: P) -> ValueParser
where
    P: TypedValueParser + Send + Sync + 'static,
    P::Value: Clone + Send + Sync + 'static,
{
    ValueParser::new(InRange { range, inner })
}

impl<P> TypedValueParser for InRange<P>
where
    P: TypedValueParser + Send + Sync + 'static,
    P::Value: Clone + Send + Sync + 'static,
{
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let parsed = self.inner.parse_ref(cmd, arg, value)?;
        let text = value.to_string_lossy();
        if !self.range.contains_text(&text) {
            // clap's own words for a value its parser refuses, with the range.
            let arg = arg.map_or_else(|| "...".to_owned(), ToString::to_string);
            let message = format!(
                "invalid value '{text}' for '{arg}': {text} is not in {}",
                self.range
            );
            return Err(cmd
                .clone()
                .error(clap::error::ErrorKind::ValueValidation, message));
        }
        Ok(parsed)
    }
}

/// A value parser for any `FromStr` type: its error is clap's "invalid value" with the
/// type's own reason.
#[derive(Clone)]
pub(crate) struct FromStrParser<T>(core::marker::PhantomData<fn() -> T>);

impl<T> FromStrParser<T> {
    pub(crate) fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<T> TypedValueParser for FromStrParser<T>
where
    T: std::str::FromStr<Err: std::fmt::Display> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let parse = |text: &str| text.parse::<T>().map_err(|err| err.to_string());
        parse.parse_ref(cmd, arg, value)
    }
}

/// `command` (a built command line) with every argument that reads an environment variable
/// (an `env:` clause) reading it from `var` instead of the process: the variable's value
/// becomes the argument's default, and the process's environment is not read. For a test
/// console, which sees only the variables set on it. (`mut_args` keeps the arguments in
/// their places, which the built command's parser indexes.)
pub(crate) fn with_env_from(command: Command, var: &dyn Fn(&str) -> Option<String>) -> Command {
    let command = command.mut_args(|arg| {
        let Some(name) = arg
            .get_env()
            .map(|name| name.to_string_lossy().into_owned())
        else {
            return arg;
        };
        let arg = arg.env(None::<&'static str>);
        match var(&name) {
            Some(value) => arg.default_value(value),
            None => arg,
        }
    });
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    subcommands.into_iter().fold(command, |command, name| {
        command.mut_subcommand(name, |sub| with_env_from(sub, var))
    })
}
