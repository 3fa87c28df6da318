//! What a command line and its worker process say to each other about one call: the
//! request (the command, its arguments as a command line, the session it runs under) and
//! the answer (the handler's output or its failure), in a small binary form: lengths and
//! bytes, so every argument arrives byte for byte as the gate saw it.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use clap::ArgMatches;
use clap::parser::ValueSource;
use cnv_caps::{RunMode, SessionId};
use cnv_grammar::{GrammarArgument, GrammarVerb};

/// The program name of the command line a worker parses (clap reads and ignores it).
const PROGRAM: &[u8] = b"cnv-worker";

/// One call for a worker.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// The command: nouns, then the verb (`"file write"`).
    pub(crate) command: String,
    /// The command line the worker parses: the program, the command's words and every
    /// argument as the gate saw it (given, defaulted or from the environment), spelled
    /// out so the worker parses the same values.
    pub(crate) argv: Vec<Vec<u8>>,
    /// The session's name and id, for the handler's `call.session()`.
    pub(crate) session: String,
    pub(crate) session_id: SessionId,
    pub(crate) mode: RunMode,
    /// The justification the call was admitted with.
    pub(crate) justification: Option<String>,
}

/// How a worker answers a call.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The handler returned output: its text and its data (JSON).
    Output { text: String, data: Option<String> },
    /// The handler failed: its message, and whether the caller is to fix it.
    Failed { message: String, usage: bool },
}

impl Request {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            64 + self.command.len() + self.argv.iter().map(|arg| arg.len() + 4).sum::<usize>(),
        );
        put(&mut out, self.command.as_bytes());
        put(&mut out, self.session.as_bytes());
        put(&mut out, self.session_id.to_string().as_bytes());
        out.push(match self.mode {
            RunMode::Autonomous => 0,
            RunMode::Supervised => 1,
        });
        match &self.justification {
            Some(text) => {
                out.push(1);
                put(&mut out, text.as_bytes());
            }
            None => out.push(0),
        }
        put_len(&mut out, self.argv.len());
        for arg in &self.argv {
            put(&mut out, arg);
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut reader = Reader(bytes);
        let command = reader.text()?;
        let session = reader.text()?;
        let session_id = reader.text()?.parse().ok()?;
        let mode = match reader.byte()? {
            0 => RunMode::Autonomous,
            1 => RunMode::Supervised,
            _ => return None,
        };
        let justification = match reader.byte()? {
            0 => None,
            1 => Some(reader.text()?),
            _ => return None,
        };
        let count = reader.len()?;
        let mut argv = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            argv.push(reader.bytes()?.to_vec());
        }
        reader.0.is_empty().then_some(Self {
            command,
            argv,
            session,
            session_id,
            mode,
            justification,
        })
    }
}

/// The command line a worker parses to get the same arguments as the gate: the command's
/// words, every named argument given (on the command line or from the environment) as
/// `--name=value` (so no value is ever taken for a flag), each switch that is on, then
/// `--` and the positional values, all byte for byte. Defaults are left to the worker's
/// parser, which declares the same ones; the worker's environment is not the command
/// line's, so nothing is left to it.
pub(crate) fn worker_argv(
    command: &str,
    verb: &GrammarVerb,
    globals: &[GrammarArgument],
    matches: &ArgMatches,
) -> Vec<Vec<u8>> {
    let mut argv = vec![PROGRAM.to_vec()];
    argv.extend(command.split(' ').map(|word| word.as_bytes().to_vec()));
    let mut positional = Vec::new();
    for arg in verb.args().iter().chain(globals) {
        let id = arg.name();
        match matches.try_get_raw(id) {
            Ok(Some(_)) if matches.value_source(id) != Some(ValueSource::DefaultValue) => {}
            _ => continue,
        }
        if arg.is_switch() {
            if matches.try_get_one::<bool>(id).ok().flatten() == Some(&true) {
                argv.push(format!("--{id}").into_bytes());
            }
            continue;
        }
        if arg.is_counted() {
            // A counted switch takes no value: given as many times as it was.
            let count = matches.try_get_one::<u8>(id).ok().flatten().copied();
            for _ in 0..count.unwrap_or(0) {
                argv.push(format!("--{id}").into_bytes());
            }
            continue;
        }
        let Ok(Some(values)) = matches.try_get_raw(id) else {
            continue;
        };
        for value in values {
            if arg.is_positional() {
                positional.push(value.as_bytes().to_vec());
            } else {
                let mut word = format!("--{id}=").into_bytes();
                word.extend_from_slice(value.as_bytes());
                argv.push(word);
            }
        }
    }
    if !positional.is_empty() {
        argv.push(b"--".to_vec());
        argv.extend(positional);
    }
    argv
}

/// A worker's command line as clap reads it.
pub(crate) fn os_argv(argv: &[Vec<u8>]) -> Vec<OsString> {
    argv.iter()
        .map(|word| OsString::from_vec(word.clone()))
        .collect()
}

impl Reply {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Output { text, data } => {
                out.push(0);
                put(&mut out, text.as_bytes());
                match data {
                    Some(data) => {
                        out.push(1);
                        put(&mut out, data.as_bytes());
                    }
                    None => out.push(0),
                }
            }
            Self::Failed { message, usage } => {
                out.push(1);
                put(&mut out, message.as_bytes());
                out.push(u8::from(*usage));
            }
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut reader = Reader(bytes);
        let reply = match reader.byte()? {
            0 => {
                let text = reader.text()?;
                let data = match reader.byte()? {
                    0 => None,
                    1 => Some(reader.text()?),
                    _ => return None,
                };
                Self::Output { text, data }
            }
            1 => {
                let message = reader.text()?;
                let usage = reader.byte()? == 1;
                Self::Failed { message, usage }
            }
            _ => return None,
        };
        reader.0.is_empty().then_some(reply)
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Frames are at most 4 GiB, so a length always fits.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn len(&mut self) -> Option<usize> {
        let (len, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        usize::try_from(u32::from_le_bytes(*len)).ok()
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        if len > self.0.len() {
            return None;
        }
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(bytes)
    }

    fn text(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_round_trip_byte_for_byte() {
        let request = Request {
            command: "file write".into(),
            argv: vec![
                b"app".to_vec(),
                b"file".to_vec(),
                vec![0xff, b'-', 0],
                "é\n\u{1b}".as_bytes().to_vec(),
            ],
            session: "app file write".into(),
            session_id: SessionId::new_v4(),
            mode: RunMode::Supervised,
            justification: Some("because".into()),
        };
        assert_eq!(Request::decode(&request.encode()), Some(request));
        for reply in [
            Reply::Output {
                text: "ok".into(),
                data: Some("{\"n\":1}".into()),
            },
            Reply::Output {
                text: String::new(),
                data: None,
            },
            Reply::Failed {
                message: "no".into(),
                usage: true,
            },
        ] {
            assert_eq!(Reply::decode(&reply.encode()), Some(reply));
        }
    }

    #[test]
    fn damaged_bytes_are_refused_not_trusted() {
        let request = Request {
            command: "x".into(),
            argv: vec![b"a".to_vec()],
            session: "s".into(),
            session_id: SessionId::new_v4(),
            mode: RunMode::Autonomous,
            justification: None,
        }
        .encode();
        assert_eq!(Request::decode(&request[..request.len() - 1]), None);
        let mut longer = request.clone();
        longer.push(0);
        assert_eq!(Request::decode(&longer), None);
        assert_eq!(Reply::decode(&[9]), None);
        assert_eq!(Reply::decode(&[]), None);
    }
}
