//! `cnv-audit`: make the operator's key, verify an audit log, show its decisions.
//!
//! ```text
//! cnv-audit keygen --out PREFIX          writes PREFIX.key (mode 0600) and PREFIX.pub
//! cnv-audit verify FILE [--key PUBKEY]   exit 0 only for an intact log
//! cnv-audit show FILE                    a table of the log's decisions
//! cnv-audit show FILE --line N           line N whole: a call with every argument in full
//! ```

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The operator's tool for cnv audit logs.
#[derive(Debug, Parser)]
#[command(name = "cnv-audit", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new ed25519 key pair: PREFIX.key (the secret, mode 0600; give its path to
    /// the command line as CNV_AUDIT_KEY) and PREFIX.pub (for `verify --key`).
    Keygen {
        /// Where to write the two files (PREFIX.key and PREFIX.pub); never overwritten.
        #[arg(long, value_name = "PREFIX")]
        out: PathBuf,
    },
    /// Check a log, its key and the head beside it (FILE.head): prints what was
    /// checked and the first problem with its line; exits 0 only for an intact log.
    Verify {
        /// The audit log.
        file: PathBuf,
        /// The operator's public key: a PREFIX.pub file, or its 64 hex digits. Without
        /// it, the log is checked against the key it names itself.
        #[arg(long, value_name = "PUBKEY")]
        key: Option<String>,
    },
    /// Print the log's decisions as a table (control and format characters escaped).
    /// A call shows its command whole and every argument by name (the log keeps them
    /// by name, not in the order given), each value cut on its own; `--line N` prints
    /// line N whole. Checks the chain as it goes; use `verify` for the key and the head.
    Show {
        /// The audit log.
        file: PathBuf,
        /// Print only this line, whole: the call's command, how it arrived and every
        /// argument in full, one per line, and every other field uncut.
        #[arg(long, value_name = "N")]
        line: Option<usize>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args.command) {
        Ok(code) => code,
        // The reader went away (`cnv-audit show LOG | head`): nothing more to say.
        Err(cnv_audit::ToolError::Io { error, .. })
            if error.kind() == io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cnv-audit: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode, cnv_audit::ToolError> {
    let mut stdout = io::stdout().lock();
    let written = |error| cnv_audit::ToolError::Io {
        action: "write to",
        path: PathBuf::from("standard output"),
        error,
    };
    match command {
        Command::Keygen { out } => {
            let keys = cnv_audit::keygen(&out)?;
            writeln!(
                stdout,
                "wrote {} (the secret key, mode 0600: give its path to the command line as CNV_AUDIT_KEY)\nwrote {} (the public key, for `cnv-audit verify --key`)\npublic key {}",
                keys.secret.display(),
                keys.public.display(),
                keys.public_key
            )
            .and_then(|()| stdout.flush())
            .map_err(written)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { file, key } => {
            let key = key.as_deref().map(cnv_audit::public_key).transpose()?;
            let report = cnv_audit::verify(&file, key.as_ref());
            write!(stdout, "{report}")
                .and_then(|()| stdout.flush())
                .map_err(written)?;
            Ok(if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Show { file, line } => {
            let problem = match line {
                None => cnv_audit::show(&file, &mut stdout)?,
                Some(line) => cnv_audit::show_line(&file, line, &mut stdout)?,
            };
            stdout.flush().map_err(written)?;
            match problem {
                None => Ok(ExitCode::SUCCESS),
                Some(problem) => {
                    match line {
                        None => eprintln!("cnv-audit: the rows stop here: {problem}"),
                        Some(line) => {
                            eprintln!("cnv-audit: line {line} is not shown: {problem}");
                        }
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
