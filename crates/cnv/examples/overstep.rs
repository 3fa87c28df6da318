//! `overstep`: a program whose handlers each try to do more than their class grants,
//! for the tests that prove the kernel stops them (`tests/escape.rs`). Every handler
//! reaches past its handle with the standard library directly, as careless or hostile
//! code would; the sandbox of the command line is what stands in the way.
//!
//! Run by hand: `CNV_WORKSPACE=/tmp/ws cargo run -p cnv --example overstep -- --help`.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cnv::prelude::*;

grammar_dsl! {
    static GRAMMAR = app "overstep" version "0.1.0" help "Handlers that overstep their class" {
        noun "pure" help "Pure handlers" {
            verb "read-hostname" { capability: Pure, resource: Fast, help: "Read /etc/hostname" }
            verb "spin" { capability: Pure, resource: Instant, help: "Compute for ten seconds" }
        }
        noun "ro" help "ReadOnlyFS handlers" {
            verb "write" {
                capability: ReadOnlyFS, resource: Fast, help: "Write a file in the workspace with std::fs",
                args: [name: String "The file's name"],
            }
            verb "environ" { capability: ReadOnlyFS, resource: Fast, help: "Read /proc/self/environ" }
        }
        noun "rw" help "ReadWriteFS handlers" {
            verb "connect" {
                capability: ReadWriteFS, resource: Fast, help: "Connect to a TCP address",
                args: [addr: SocketAddr "Where"],
            }
            verb "spawn" {
                capability: ReadWriteFS, resource: Fast, help: "Run a program",
                args: [program: PathBuf "The program", args: Vec<String> "Its arguments"],
            }
            verb "write-at" {
                capability: ReadWriteFS, resource: Fast, help: "Write a file at a path with std::fs",
                args: [path: PathBuf "Where, as an absolute path"],
            }
        }
    }
}

/// The operator's workspace as a path, for a handler that bypasses its handle.
fn workspace_path() -> PathBuf {
    std::env::var_os("CNV_WORKSPACE").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn read_hostname(_args: pure::ReadHostname) -> Result<Output, HandlerError> {
    let name = std::fs::read_to_string("/etc/hostname")?;
    Ok(Output::text(format!(
        "ESCAPED: read /etc/hostname: {}",
        name.trim()
    )))
}

fn spin(_args: pure::Spin) -> Result<Output, HandlerError> {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let mut n = 0u64;
    while std::time::Instant::now() < until {
        n = std::hint::black_box(n.wrapping_add(1));
    }
    Ok(Output::text(format!("ESCAPED: ran for ten seconds ({n})")))
}

fn ro_write(_call: &Invocation<'_, ReadOnlyFS>, args: ro::Write) -> Result<Output, HandlerError> {
    let path = workspace_path().join(&args.name);
    std::fs::write(&path, "written by a ReadOnlyFS handler")?;
    Ok(Output::text(format!("ESCAPED: wrote {}", path.display())))
}

fn environ(_call: &Invocation<'_, ReadOnlyFS>, _args: ro::Environ) -> Result<Output, HandlerError> {
    let mut text = Vec::new();
    std::fs::File::open("/proc/self/environ")?.read_to_end(&mut text)?;
    Ok(Output::text(format!(
        "ESCAPED: read {} bytes of the environment",
        text.len()
    )))
}

fn connect(_call: &Invocation<'_, ReadWriteFS>, args: rw::Connect) -> Result<Output, HandlerError> {
    let stream = TcpStream::connect_timeout(&args.addr, Duration::from_millis(500))?;
    Ok(Output::text(format!(
        "ESCAPED: connected to {}",
        stream.peer_addr()?
    )))
}

fn spawn(_call: &Invocation<'_, ReadWriteFS>, args: rw::Spawn) -> Result<Output, HandlerError> {
    let status = std::process::Command::new(&args.program)
        .args(&args.args)
        .status()?;
    Ok(Output::text(format!(
        "ESCAPED: ran {} ({status})",
        args.program.display()
    )))
}

fn write_at(
    _call: &Invocation<'_, ReadWriteFS>,
    args: rw::WriteAt,
) -> Result<Output, HandlerError> {
    std::fs::write(&args.path, "written past the handle")?;
    Ok(Output::text(format!("wrote {}", args.path.display())))
}

fn main() -> ExitCode {
    let built = Cli::builder(&GRAMMAR)
        .bind(read_hostname)
        .bind(spin)
        .bind(ro_write)
        .bind(environ)
        .bind(connect)
        .bind(spawn)
        .bind(write_at)
        .build();
    match built {
        Ok(cli) => cli.run(),
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}
