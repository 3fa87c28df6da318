//! `cnv-audit`: make the operator's key, verify an audit log, show its decisions.
//!
//! ```text
//! cnv-audit keygen --out PREFIX          writes PREFIX.key (mode 0600) and PREFIX.pub
//! cnv-audit verify FILE [--key PUBKEY] [--witness URL=PUBKEY]… [--quorum K]
//!                                        exit 0 only for an intact log its witnesses confirm
//! cnv-audit show FILE                    a table of the log's decisions
//! cnv-audit show FILE --line N           line N whole: a call with every argument in full
//! cnv-audit prove FILE N                 an inclusion proof of line N in the log's checkpoint
//! cnv-audit prove --check PROOF --key PUBKEY [--witness-key PUBKEY]…
//! cnv-audit witness serve ADDR --key W.key --state DIR --log ORIGIN=PUBKEY…
//! ```

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cnv_audit::{TrustedLog, WitnessKey};

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
    /// Check a log, its key and the head beside it (FILE.head), and ask its witnesses
    /// what they cosigned: prints what was checked and the first problem with its line;
    /// exits 0 only for an intact log that enough witnesses confirm.
    Verify {
        /// The audit log.
        file: PathBuf,
        /// The operator's public key: a PREFIX.pub file, or its 64 hex digits. Without
        /// it, the log is checked against the key it names itself.
        #[arg(long, value_name = "PUBKEY")]
        key: Option<String>,
        /// A witness to ask for the latest checkpoint it cosigned of this log, and its
        /// public key (a .pub file or 64 hex digits). A witness that cosigned more lines
        /// than the log has (the log and its head were rolled back) or another root (it
        /// was forked) fails the check. Repeat for each witness.
        #[arg(long = "witness", value_name = "URL=PUBKEY")]
        witnesses: Vec<WitnessKey>,
        /// How many witnesses must confirm the log (default: every one given).
        #[arg(long, value_name = "K", requires = "witnesses")]
        quorum: Option<usize>,
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
    /// Print an inclusion proof of line N: the line, its RFC 6962 path and the log's
    /// latest checkpoint signed for its witnesses (with their cosignatures); anyone with
    /// the operator's public key checks it offline with `prove --check`.
    Prove {
        /// The audit log.
        #[arg(required_unless_present = "check")]
        file: Option<PathBuf>,
        /// The line to prove (from 1).
        #[arg(required_unless_present = "check")]
        line: Option<u64>,
        /// Check the proof in this file (`-` for standard input) instead.
        #[arg(long, value_name = "PROOF", conflicts_with_all = ["file", "line"], requires = "key")]
        check: Option<PathBuf>,
        /// With --check: the operator's public key (a .pub file or 64 hex digits).
        #[arg(long, value_name = "PUBKEY")]
        key: Option<String>,
        /// With --check: a witness's public key that must have cosigned the checkpoint.
        #[arg(long = "witness-key", value_name = "PUBKEY", requires = "check")]
        witness_keys: Vec<String>,
    },
    /// Run a witness (C2SP tlog-witness) for the operator's logs.
    Witness {
        #[command(subcommand)]
        command: WitnessCommand,
    },
}

#[derive(Debug, Subcommand)]
enum WitnessCommand {
    /// Serve POST /add-checkpoint (cosign a log's checkpoint when it extends the last one
    /// cosigned for that log) and GET /<origin hash>/checkpoint (the latest cosigned) on
    /// ADDR until killed. Prints its URL and vkey first.
    Serve {
        /// Where to listen, as HOST:PORT (port 0: any free port; the URL printed says
        /// which).
        addr: String,
        /// The witness's secret key, made with `cnv-audit keygen` (not the log's).
        #[arg(long, value_name = "W.key")]
        key: PathBuf,
        /// The directory of its state: the latest checkpoint cosigned for each log. Keep
        /// it: a witness that forgets a log cannot see it rolled back.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// A log it cosigns for: its origin (`cnv-audit/<log id>`, or `cnv-audit/*` for
        /// every log the key signs) and the public key that signs its checkpoints.
        /// Repeat for each; a checkpoint of any other origin is refused (404).
        #[arg(long = "log", value_name = "ORIGIN=PUBKEY", required = true)]
        logs: Vec<TrustedLog>,
        /// The name of its key in its cosignatures (default: cnv-audit-witness/<the
        /// start of its public key in hex>).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
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
        Command::Verify {
            file,
            key,
            witnesses,
            quorum,
        } => {
            let key = key.as_deref().map(cnv_audit::public_key).transpose()?;
            let quorum = quorum.unwrap_or(witnesses.len());
            let report = cnv_audit::verify_witnessed(&file, key.as_ref(), &witnesses, quorum);
            write!(stdout, "{report}")
                .and_then(|()| stdout.flush())
                .map_err(written)?;
            Ok(if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Prove {
            file,
            line,
            check,
            key,
            witness_keys,
        } => {
            let text = match check {
                Some(proof) => {
                    let text = read_proof(&proof)?;
                    let proof: cnv_audit::InclusionProof = text.parse()?;
                    let key = cnv_audit::public_key(key.as_deref().unwrap_or_default())?;
                    let witnesses = witness_keys
                        .iter()
                        .map(|key| cnv_audit::public_key(key))
                        .collect::<Result<Vec<_>, _>>()?;
                    cnv_audit::check_proof(&proof, &key, &witnesses)?.to_string()
                }
                None => match (file, line) {
                    (Some(file), Some(line)) => cnv_audit::prove(&file, line)?.to_string(),
                    // clap requires both without --check.
                    _ => return Ok(ExitCode::FAILURE),
                },
            };
            write!(stdout, "{text}")
                .and_then(|()| stdout.flush())
                .map_err(written)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Witness {
            command:
                WitnessCommand::Serve {
                    addr,
                    key,
                    state,
                    logs,
                    name,
                },
        } => {
            let key = cnv_audit::AuditKey::load(&key)?;
            let mut config = cnv_audit::WitnessConfig::new(key, state, logs);
            if let Some(name) = name {
                config = config.with_name(name);
            }
            let witness = cnv_audit::Witness::open(config)?;
            let listen_error = |error| cnv_audit::ToolError::Listen {
                addr: cnv_caps::text::escape_for_display(&addr),
                error,
            };
            let listener = std::net::TcpListener::bind(&addr).map_err(listen_error)?;
            let local = listener.local_addr().map_err(listen_error)?;
            // Best effort: a witness whose output nobody reads still serves.
            let banner = format!(
                "cnv-audit witness {} serving http://{local}\nvkey {}\n",
                witness.name(),
                witness.vkey()
            );
            let _ = stdout
                .write_all(banner.as_bytes())
                .and_then(|()| stdout.flush());
            drop(stdout);
            witness.serve(&listener).map_err(listen_error)?;
            Ok(ExitCode::SUCCESS)
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

/// The text of a proof file (`-`: standard input), at most 1 MiB and a bit.
fn read_proof(path: &std::path::Path) -> Result<String, cnv_audit::ToolError> {
    use std::io::Read;
    let error = |error| cnv_audit::ToolError::Io {
        action: "read",
        path: path.to_path_buf(),
        error,
    };
    let mut text = String::new();
    let limit = (cnv_audit::MAX_LINE_BYTES + 64 * 1024) as u64;
    if path.as_os_str() == "-" {
        io::stdin()
            .take(limit)
            .read_to_string(&mut text)
            .map_err(error)?;
    } else {
        std::fs::File::open(path)
            .and_then(|file| file.take(limit).read_to_string(&mut text))
            .map_err(error)?;
    }
    Ok(text)
}
