//! `cnv-token`: the operator mints capability tokens; a holder narrows one for a sub-agent;
//! anyone reads one.
//!
//! ```text
//! cnv-token keygen --out PREFIX                   PREFIX.key (mode 0600) and PREFIX.pub
//! cnv-token mint --key PREFIX.key --to NAME --scope cnv:ReadWriteFS [--workspace DIR]
//!                [--expires 1h] [--budget N]       prints a token
//! cnv-token attenuate --to NAME [--scope S]… [--workspace DIR] [--expires 10m]
//!                [--budget N] < TOKEN              prints the narrowed token
//! cnv-token inspect [--key PREFIX.pub] < TOKEN     the chain; verified with a key
//! ```
//!
//! Tokens are read from standard input, never from arguments (which other users of the
//! machine can see in its process list).

#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use cnv_token::{Mint, Narrowing, Scopes, TokenKey, TokenPublicKey};

/// Capability tokens for cnv: mint, narrow for a sub-agent, inspect.
#[derive(Debug, Parser)]
#[command(name = "cnv-token", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the operator's key pair: PREFIX.key (the secret that mints, mode 0600) and
    /// PREFIX.pub (what the servers verify tokens with).
    Keygen {
        /// Where to write the two files; never overwritten.
        #[arg(long, value_name = "PREFIX")]
        out: PathBuf,
    },
    /// Mint a token for a principal, with the operator's secret key.
    Mint {
        /// The operator's secret key (PREFIX.key).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Who the token is issued to.
        #[arg(long, value_name = "NAME")]
        to: String,
        /// What it grants: `cnv:<Class>` or `cnv:<noun>.<verb>`; repeat for more.
        #[arg(long, value_name = "SCOPE", required = true)]
        scope: Vec<String>,
        /// Confine its calls to this sub-directory of the workspace.
        #[arg(long, value_name = "DIR")]
        workspace: Option<String>,
        /// When it stops working: a duration from now (`90m`, `1d`) or a time (RFC 3339).
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// How many calls it (and every token narrowed from it) may make.
        #[arg(long, value_name = "N")]
        budget: Option<u64>,
    },
    /// Narrow a token (read from standard input) for a sub-agent: the result can do less,
    /// never more. No key is needed.
    Attenuate {
        /// Who the narrowed token is handed to.
        #[arg(long, value_name = "NAME")]
        to: Option<String>,
        /// The scopes it keeps (within the token's); repeat for more.
        #[arg(long, value_name = "SCOPE")]
        scope: Vec<String>,
        /// Confine its calls to this sub-directory of the token's workspace.
        #[arg(long, value_name = "DIR")]
        workspace: Option<String>,
        /// When it stops working (before the token's own expiry, if it has one).
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// How many calls it may make.
        #[arg(long, value_name = "N")]
        budget: Option<u64>,
    },
    /// Print a token's chain (read from standard input): who it was issued and handed
    /// to, and what each link grants or checks. With `--key`, its signatures are
    /// verified first.
    Inspect {
        /// The operator's public key (PREFIX.pub, or its 64 hex digits).
        #[arg(long, value_name = "PUBKEY")]
        key: Option<String>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cnv-token: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    let mut out = io::stdout().lock();
    let mut print = |text: String| {
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .or_else(|error| {
                if error.kind() == io::ErrorKind::BrokenPipe {
                    Ok(())
                } else {
                    Err(format!("cannot write the output: {error}"))
                }
            })
    };
    match command {
        Command::Keygen { out } => {
            let files = cnv_token::keygen(&out).map_err(|error| error.to_string())?;
            print(format!(
                "wrote {} (the secret key, mode 0600: keep it where only the operator reads it)\nwrote {} (the public key, for the servers: CNV_MCP_TOKEN_KEY)\npublic key {}",
                files.secret.display(),
                files.public.display(),
                files.public_key
            ))
        }
        Command::Mint {
            key,
            to,
            scope,
            workspace,
            expires,
            budget,
        } => {
            let key = TokenKey::load(&key).map_err(|error| error.to_string())?;
            let mut mint = Mint::new(to, scopes(&scope)?);
            if let Some(dir) = workspace {
                mint = mint.workspace(dir);
            }
            if let Some(expires) = expires.as_deref() {
                mint = mint.expires(when(expires)?);
            }
            if let Some(budget) = budget {
                mint = mint.budget(budget);
            }
            print(cnv_token::mint(&key, &mint).map_err(|error| error.to_string())?)
        }
        Command::Attenuate {
            to,
            scope,
            workspace,
            expires,
            budget,
        } => {
            let token = token_from_stdin()?;
            let mut narrowing = match to {
                Some(to) => Narrowing::to(to),
                None => Narrowing::default(),
            };
            if !scope.is_empty() {
                narrowing = narrowing.scopes(scopes(&scope)?);
            }
            if let Some(dir) = workspace {
                narrowing = narrowing.workspace(dir);
            }
            if let Some(expires) = expires.as_deref() {
                narrowing = narrowing.expires(when(expires)?);
            }
            if let Some(budget) = budget {
                narrowing = narrowing.budget(budget);
            }
            print(cnv_token::attenuate(&token, &narrowing).map_err(|error| error.to_string())?)
        }
        Command::Inspect { key } => {
            let token = token_from_stdin()?;
            match key {
                Some(key) => {
                    let key = public_key(&key)?;
                    let capability =
                        cnv_token::verify(&token, &key).map_err(|error| error.to_string())?;
                    let mut text = format!(
                        "verified against {key}\nissued to {}\nworkspace directory {}\n",
                        capability.principal(),
                        if capability.workspace().is_empty() {
                            "(the whole workspace)"
                        } else {
                            capability.workspace()
                        }
                    );
                    for link in capability.chain() {
                        text.push_str(&format!(
                            "\nblock {} (to {}):\n{}\n",
                            link.block,
                            link.to.as_deref().unwrap_or("an unnamed holder"),
                            link.source.trim_end()
                        ));
                    }
                    print(text.trim_end().to_owned())
                }
                None => {
                    let links = cnv_token::inspect(&token).map_err(|error| error.to_string())?;
                    let mut text =
                        "NOT verified (give --key PREFIX.pub to check its signatures)\n".to_owned();
                    for link in links {
                        text.push_str(&format!(
                            "\nblock {}:\n{}\n",
                            link.block,
                            link.source.trim_end()
                        ));
                    }
                    print(text.trim_end().to_owned())
                }
            }
        }
    }
}

fn scopes(given: &[String]) -> Result<Scopes, String> {
    let scopes =
        Scopes::parse(given.iter().map(String::as_str)).map_err(|error| error.to_string())?;
    if scopes.as_slice().len() < given.len() {
        return Err(
            "every --scope must be a cnv scope (`cnv:<Class>` or `cnv:<noun>.<verb>`)".to_owned(),
        );
    }
    Ok(scopes)
}

/// A duration from now (`90m`) or a time (RFC 3339).
fn when(text: &str) -> Result<SystemTime, String> {
    if let Ok(duration) = humantime::parse_duration(text) {
        return Ok(SystemTime::now() + duration);
    }
    humantime::parse_rfc3339_weak(text).map_err(|_| {
        format!("`{text}` is neither a duration (`90m`, `1d`) nor a time (`2026-12-31T12:00:00Z`)")
    })
}

fn public_key(given: &str) -> Result<TokenPublicKey, String> {
    if given.len() == 64 && !given.contains('/') {
        given
            .parse()
            .map_err(|error: cnv_token::KeyError| error.to_string())
    } else {
        TokenPublicKey::load(given).map_err(|error| error.to_string())
    }
}

fn token_from_stdin() -> Result<String, String> {
    let mut token = String::new();
    io::stdin()
        .take(1 << 20)
        .read_to_string(&mut token)
        .map_err(|error| format!("cannot read the token from standard input: {error}"))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(
            "give the token on standard input (`cnv-token inspect < token.txt`)".to_owned(),
        );
    }
    Ok(token.to_owned())
}
