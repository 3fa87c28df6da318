//! What a handler sees of the environment, and how it runs a program: `call.env` for
//! `Environment` verbs (the console's variables, never the operator's), a test console
//! isolated from the process's environment for the grammar's `env` clauses too, and
//! `call.program` for `Subprocess` verbs (the workspace, a clean environment, the output
//! captured).

use cnv_caps::{CapabilityContract, Environment, Pure, Subprocess};
use cnv_cli::{Cli, CliBuilder, Console, Exit, HandlerError, Invocation, Output};
use cnv_grammar::{GrammarArgument, GrammarModel, GrammarNoun, GrammarVerb};

fn grammar() -> GrammarModel {
    GrammarModel::new("app").with_noun(
        GrammarNoun::new("env", "The environment")
            .with_verb(
                GrammarVerb::new("get", "Read a variable", CapabilityContract::environment())
                    .with_arg(GrammarArgument::positional(
                        "name",
                        "String",
                        "The variable",
                    )),
            )
            .with_verb(
                GrammarVerb::new("echo", "Print an argument", CapabilityContract::pure()).with_arg(
                    // `PATH` is set in every test process: a test console must not read it.
                    GrammarArgument::named("path", "String", "A path list")
                        .with_env("PATH")
                        .optional(),
                ),
            )
            .with_verb(GrammarVerb::new(
                "where",
                "Run a program in the workspace",
                CapabilityContract::subprocess(),
            )),
    )
}

fn cli(workspace: &std::path::Path) -> Cli {
    CliBuilder::from_model(grammar())
        .workspace(workspace)
        .handler::<Environment, _>("env get", |call: &Invocation<'_, Environment>| {
            let name: String = call.value("name")?;
            Ok(Output::text(
                call.env(&name).unwrap_or_else(|| "(unset)".to_owned()),
            ))
        })
        .handler::<Pure, _>("env echo", |call: &Invocation<'_, Pure>| {
            let path: Option<String> = call.optional("path")?;
            Ok(Output::text(path.unwrap_or_else(|| "(none)".to_owned())))
        })
        .handler::<Subprocess, _>("env where", |call: &Invocation<'_, Subprocess>| {
            let out = call
                .program("sh")?
                .args([
                    "-c",
                    "pwd; echo \"home=$HOME path=$PATH leak=$LEAKED\"; echo oops >&2",
                ])
                .output()?;
            if !out.stderr.starts_with(b"oops") {
                return Err(HandlerError::msg("standard error was not captured"));
            }
            Ok(Output::text(String::from_utf8_lossy(&out.stdout)))
        })
        .build()
        .expect("builds")
}

fn run(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> (Exit, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut console = Console::for_tests(&mut out, &mut err);
    for (name, value) in env {
        console = console.with_env(*name, *value);
    }
    let mut argv = vec!["app"];
    argv.extend_from_slice(args);
    let exit = cli.run_in(argv, &mut console);
    drop(console);
    let text = String::from_utf8(out).expect("utf-8") + &String::from_utf8(err).expect("utf-8");
    (exit, text)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-environment-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::canonicalize(dir).expect("a path")
}

#[test]
fn an_environment_handler_reads_the_console_s_variables_and_never_the_operator_s() {
    let workspace = scratch("env");
    let cli = cli(&workspace);
    let yes = ["--yes"];
    let (exit, text) = run(
        &cli,
        &[&yes[..], &["env", "get", "RELEASE_LAST"]].concat(),
        &[("RELEASE_LAST", "1.2.3")],
    );
    assert_eq!(exit, Exit::Success, "{text}");
    assert_eq!(text, "1.2.3\n");
    // The process's `HOME` is not the test console's.
    let (_, text) = run(&cli, &["--yes", "env", "get", "HOME"], &[]);
    assert_eq!(text, "(unset)\n");
    // The operator's settings are not a handler's to read, even when the console has them.
    let (_, text) = run(
        &cli,
        &["--yes", "env", "get", "CNV_AUDIT_LOG"],
        &[("CNV_AUDIT_LOG", "/var/log/audit.jsonl")],
    );
    assert_eq!(text, "(unset)\n");
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn a_test_console_is_isolated_from_the_process_for_env_clauses() {
    let workspace = scratch("clauses");
    let cli = cli(&workspace);
    let (exit, text) = run(&cli, &["env", "echo"], &[]);
    assert_eq!(exit, Exit::Success, "{text}");
    assert_eq!(text, "(none)\n", "the process's PATH was read");
    let (_, text) = run(&cli, &["env", "echo"], &[("PATH", "/opt/test")]);
    assert_eq!(text, "/opt/test\n");
    // Given on the command line, the argument wins over the console's variable.
    let (_, text) = run(
        &cli,
        &["env", "echo", "--path", "/given"],
        &[("PATH", "/opt/test")],
    );
    assert_eq!(text, "/given\n");
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn a_program_runs_in_the_workspace_with_a_clean_environment() {
    let workspace = scratch("program");
    let cli = cli(&workspace);
    let (exit, text) = run(&cli, &["--yes", "env", "where"], &[("LEAKED", "secret")]);
    assert_eq!(exit, Exit::Success, "{text}");
    let shown = workspace.display();
    assert_eq!(
        text,
        format!(
            "{shown}\nhome={shown} path={} leak=\n",
            cnv_sandbox::worker::PROGRAM_SEARCH_PATH
        )
    );
    let _ = std::fs::remove_dir_all(&workspace);
}
