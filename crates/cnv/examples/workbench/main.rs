//! `workbench`: a small tool an autonomous agent can drive without reaching what it must
//! not. Every verb does real work on this machine, one verb per capability class:
//!
//! | command | class | what it does |
//! |---|---|---|
//! | `calc sum` | Pure | adds numbers |
//! | `clock wait` | Pure | waits, then says how long (a `Slow` verb: MCP clients get progress) |
//! | `file read`, `file list` | ReadOnlyFS | reads a file, lists a directory in the workspace |
//! | `file write` | ReadWriteFS | writes a file in the workspace |
//! | `env get` | Environment | prints an environment variable |
//! | `net send` | Network | sends a line to a loopback TCP address, prints the reply |
//! | `proc run` | Subprocess | runs a program, prints its output |
//! | `workspace wipe` | Dangerous | deletes everything in the workspace |
//!
//! The workspace is the operator's: the directory named by `CNV_WORKSPACE` (default: the
//! current directory), never an argument. The file verbs reach it only through the
//! handle their call gives them, which resolves every path beneath it; the kernel
//! (Landlock) confines each handler's thread to what its class grants.
//!
//! ```text
//! cargo run -p cnv --example workbench -- --capabilities
//! CNV_WORKSPACE=/tmp/ws CNV_AGENT=1 cargo run -p cnv --example workbench -- file read notes.txt
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cnv::prelude::*;
use cnv::sandbox::cap_std::fs::OpenOptions;
use serde_json::json;

mod grammar;
use grammar::{GRAMMAR, calc, clock, env, file, net, proc, workspace};

fn main() -> ExitCode {
    match workbench() {
        Ok(cli) => cli.run(),
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

/// The command line: one handler per verb. Each takes its verb's arguments struct, which
/// names the verb and its class, so the compiler checks the binding, the class and every
/// argument against `GRAMMAR`.
fn workbench() -> Result<Cli, cnv::cli::BuildErrors> {
    Cli::builder(&GRAMMAR)
        .bind(calc_sum)
        .bind(clock_wait)
        .bind(file_read)
        .bind(file_list)
        .bind(file_write)
        .bind(env_get)
        .bind(net_send)
        .bind(proc_run)
        .bind(workspace_wipe)
        .build()
}

fn calc_sum(args: calc::Sum) -> Result<Output, HandlerError> {
    let sum: f64 = args.numbers.iter().sum();
    Ok(Output::text(sum.to_string()).with_data(json!({ "sum": sum })))
}

fn clock_wait(args: clock::Wait) -> Result<Output, HandlerError> {
    std::thread::sleep(Duration::from_millis(args.ms));
    Ok(Output::text(format!("waited {} ms", args.ms)).with_data(json!({ "waited_ms": args.ms })))
}

fn file_read(call: &Invocation<'_, ReadOnlyFS>, args: file::Read) -> Result<Output, HandlerError> {
    let text = call
        .workspace()?
        .read_to_string(&args.path)
        .map_err(|err| {
            HandlerError::from(err).context(format!("reading {}", args.path.display()))
        })?;
    Ok(Output::text(text.clone()).with_data(json!({ "path": args.path, "content": text })))
}

fn file_list(call: &Invocation<'_, ReadOnlyFS>, args: file::List) -> Result<Output, HandlerError> {
    let workspace = call.workspace()?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let mut names: Vec<String> = workspace
        .read_dir(&dir)
        .map_err(|err| HandlerError::from(err).context(format!("listing {}", dir.display())))?
        .filter_map(Result::ok)
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect();
    names.sort();
    Ok(Output::text(names.join("\n")).with_data(json!({ "entries": names })))
}

fn file_write(
    call: &Invocation<'_, ReadWriteFS>,
    args: file::Write,
) -> Result<Output, HandlerError> {
    let workspace = call.workspace()?;
    if let Some(parent) = args
        .path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        workspace.create_dir_all(parent)?;
    }
    let mut options = OpenOptions::new();
    options
        .create(true)
        .write(true)
        .append(args.append)
        .truncate(!args.append);
    let mut file = workspace.open_with(&args.path, &options).map_err(|err| {
        HandlerError::from(err).context(format!("opening {}", args.path.display()))
    })?;
    file.write_all(args.content.as_bytes())?;
    let verb = if args.append { "appended" } else { "wrote" };
    Ok(Output::text(format!(
        "{verb} {} bytes to {}",
        args.content.len(),
        args.path.display()
    ))
    .with_data(json!({ "path": args.path, "bytes": args.content.len(), "appended": args.append })))
}

fn env_get(_call: &Invocation<'_, Environment>, args: env::Get) -> Result<Output, HandlerError> {
    let name = args.name;
    match std::env::var(&name) {
        Ok(value) => {
            Ok(Output::text(value.clone()).with_data(json!({ "name": name, "value": value })))
        }
        Err(std::env::VarError::NotPresent) => Err(HandlerError::msg(format!(
            "the environment variable `{name}` is not set"
        ))),
        Err(err) => Err(HandlerError::from(err).context(format!("reading `{name}`"))),
    }
}

fn net_send(_call: &Invocation<'_, Network>, args: net::Send) -> Result<Output, HandlerError> {
    let addr = args.addr;
    if !addr.ip().is_loopback() {
        return Err(HandlerError::msg(format!(
            "{addr} is not a loopback address; this workbench only talks to 127.0.0.1 or ::1"
        )));
    }
    let message = args.message;
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|err| HandlerError::from(err).context(format!("connecting to {addr}")))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(format!("{message}\n").as_bytes())?;
    let mut reply = String::new();
    BufReader::new(stream)
        .read_line(&mut reply)
        .map_err(|err| HandlerError::from(err).context(format!("reading the reply of {addr}")))?;
    let reply = reply.trim_end().to_owned();
    Ok(Output::text(reply.clone()).with_data(json!({ "addr": addr.to_string(), "reply": reply })))
}

fn proc_run(_call: &Invocation<'_, Subprocess>, args: proc::Run) -> Result<Output, HandlerError> {
    let proc::Run { program, args } = args;
    // Its standard error is the handler's: the worker captures it into the answer.
    let output = std::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|err| HandlerError::from(err).context(format!("starting `{program}`")))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(HandlerError::msg(format!(
            "`{program}` exited with {}",
            output.status
        )));
    }
    Ok(Output::text(stdout.clone()).with_data(json!({
        "program": program,
        "args": args,
        "status": output.status.code(),
        "stdout": stdout,
    })))
}

fn workspace_wipe(
    call: &Invocation<'_, Dangerous>,
    _args: workspace::Wipe,
) -> Result<Output, HandlerError> {
    let workspace = call.workspace()?;
    let mut removed = 0usize;
    for entry in workspace.entries()? {
        let entry = entry?;
        let name = entry.file_name();
        if entry.file_type()?.is_dir() {
            workspace.remove_dir_all(&name)?;
        } else {
            workspace.remove_file(&name)?;
        }
        removed += 1;
    }
    Ok(
        Output::text(format!("removed {removed} entries from the workspace"))
            .with_data(json!({ "removed": removed })),
    )
}
