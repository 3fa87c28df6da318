//! MCP over standard input and output: newline-delimited JSON-RPC, one session per
//! connection.
//!
//! rmcp's own stdio transport skips a line that is not JSON without a word; this one
//! answers it with a JSON-RPC parse error (`-32700`), answers JSON that is not a JSON-RPC
//! message with `-32600`, refuses a line longer than [`MAX_LINE`] whole, and ends the
//! connection after the operator's idle timeout (never while a call is under way).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cnv_audit::McpTransport;
use futures::StreamExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::{ServerInitializeError, ServiceExt};
use rmcp::{RoleServer, transport::Transport};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;
use tokio_util::bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, FramedRead};
use tokio_util::sync::CancellationToken;

use crate::McpError;
use crate::handler::{CnvServer, Shared};

/// The longest line read (4 MiB, as an HTTP request's body).
pub(crate) const MAX_LINE: usize = 4 * 1024 * 1024;

/// Serves one session over `transport` until the client closes it, it idles out, or
/// `stop` completes.
pub(crate) async fn serve<R, W>(
    shared: Arc<Shared>,
    transport: LineTransport<R, W>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), McpError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let ct = CancellationToken::new();
    let server = CnvServer::new(
        shared,
        McpTransport::Stdio,
        Some(Arc::clone(&transport.busy)),
    );
    let stopper = ct.clone();
    let watch = tokio::spawn(async move {
        stop.await;
        stopper.cancel();
    });
    let running = tokio::select! {
        running = server.serve_with_ct(transport, ct.clone()) => running,
        () = ct.cancelled() => {
            watch.abort();
            return Ok(());
        }
    };
    let result = match running {
        Ok(running) => running
            .waiting()
            .await
            .map(drop)
            .map_err(|err| McpError::Connection(err.to_string())),
        // The client left (or idled out) before `initialize`: nothing to serve.
        Err(ServerInitializeError::ConnectionClosed(_)) => Ok(()),
        Err(err) => Err(McpError::Connection(err.to_string())),
    };
    watch.abort();
    result
}

/// Newline-delimited JSON-RPC over `R` and `W`.
pub(crate) struct LineTransport<R, W> {
    lines: FramedRead<R, CappedLines>,
    out: Arc<Mutex<W>>,
    idle: Option<Duration>,
    /// Calls under way, counted by the session's handler.
    busy: Arc<AtomicUsize>,
}

impl<R: AsyncRead, W> LineTransport<R, W> {
    pub(crate) fn new(read: R, write: W, idle: Option<Duration>) -> Self {
        Self {
            lines: FramedRead::new(read, CappedLines::default()),
            out: Arc::new(Mutex::new(write)),
            idle,
            busy: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// Writes `bytes` and a newline, whole, then flushes.
async fn write_line<W: AsyncWrite + Unpin>(out: &Mutex<W>, mut bytes: Vec<u8>) -> io::Result<()> {
    bytes.push(b'\n');
    let mut out = out.lock().await;
    out.write_all(&bytes).await?;
    out.flush().await
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let out = Arc::clone(&self.out);
        async move { write_line(&out, serde_json::to_vec(&item)?).await }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            // Both `next` and the timeout around it are cancel-safe: rmcp polls
            // `receive` inside a `select!`.
            let frame = match self.idle {
                None => self.lines.next().await,
                Some(idle) => match tokio::time::timeout(idle, self.lines.next()).await {
                    Ok(frame) => frame,
                    Err(_) if self.busy.load(Ordering::SeqCst) > 0 => continue,
                    Err(_) => {
                        eprintln!(
                            "cnv mcp: the stdio session was idle for {} s; closing it",
                            idle.as_secs()
                        );
                        return None;
                    }
                },
            };
            let line = match frame? {
                Ok(Line::Complete(line)) => line,
                Ok(Line::TooLong) => {
                    self.reply_error(
                        None,
                        -32700,
                        format!("Parse error: the message is longer than {MAX_LINE} bytes"),
                    );
                    continue;
                }
                // Reading standard input failed: the connection is over.
                Err(_) => return None,
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<ClientJsonRpcMessage>(&line) {
                Ok(message) => return Some(message),
                Err(err) => {
                    let value = serde_json::from_slice::<Value>(&line).ok();
                    let (code, what) = if value.is_none() {
                        (-32700, "Parse error")
                    } else {
                        (-32600, "Invalid Request")
                    };
                    let id = value
                        .and_then(|value| value.get("id").cloned())
                        .filter(|id| id.is_string() || id.is_i64() || id.is_u64());
                    self.reply_error(id, code, format!("{what}: {err}"));
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl<R, W> LineTransport<R, W>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Answers a message that is not one with a JSON-RPC error (with its `id` when it
    /// has a readable one). Written by a task of its own, so that a `receive` cancelled
    /// half-way never leaves half a line.
    fn reply_error(&self, id: Option<Value>, code: i64, message: String) {
        let mut reply = json!({
            "jsonrpc": "2.0",
            "error": { "code": code, "message": message },
        });
        if let Some(id) = id {
            reply["id"] = id;
        }
        let out = Arc::clone(&self.out);
        tokio::spawn(async move {
            let _ = write_line(&out, reply.to_string().into_bytes()).await;
        });
    }
}

/// One line of input.
#[derive(Debug)]
enum Line {
    /// The line, without its newline.
    Complete(BytesMut),
    /// A line longer than [`MAX_LINE`], skipped whole.
    TooLong,
}

/// Splits input into lines of at most [`MAX_LINE`] bytes; a longer one is reported once
/// and skipped to its newline, and reading goes on (a codec error would end the stream).
#[derive(Debug, Default)]
struct CappedLines {
    /// Skipping the rest of a line too long.
    discarding: bool,
    /// Where the search for a newline resumes.
    searched: usize,
}

impl Decoder for CappedLines {
    type Item = Line;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Line>> {
        loop {
            let newline = buf[self.searched..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|at| at + self.searched);
            match (self.discarding, newline) {
                (true, Some(at)) => {
                    buf.advance(at + 1);
                    self.discarding = false;
                    self.searched = 0;
                }
                (true, None) => {
                    buf.clear();
                    self.searched = 0;
                    return Ok(None);
                }
                (false, Some(at)) => {
                    self.searched = 0;
                    let mut line = buf.split_to(at + 1);
                    line.truncate(at);
                    if line.last() == Some(&b'\r') {
                        line.truncate(at - 1);
                    }
                    if line.len() > MAX_LINE {
                        return Ok(Some(Line::TooLong));
                    }
                    return Ok(Some(Line::Complete(line)));
                }
                (false, None) if buf.len() > MAX_LINE => {
                    buf.clear();
                    self.searched = 0;
                    self.discarding = true;
                    return Ok(Some(Line::TooLong));
                }
                (false, None) => {
                    self.searched = buf.len();
                    return Ok(None);
                }
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Line>> {
        if let Some(line) = self.decode(buf)? {
            return Ok(Some(line));
        }
        if buf.is_empty() || self.discarding {
            buf.clear();
            return Ok(None);
        }
        // The last line, without a newline.
        self.searched = 0;
        Ok(Some(Line::Complete(buf.split())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut codec = CappedLines::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(line) = codec.decode(&mut buf).expect("never fails") {
            out.push(match line {
                Line::Complete(line) => String::from_utf8_lossy(&line).into_owned(),
                Line::TooLong => "<too long>".to_owned(),
            });
        }
        if let Some(Line::Complete(line)) = codec.decode_eof(&mut buf).expect("never fails") {
            out.push(String::from_utf8_lossy(&line).into_owned());
        }
        out
    }

    #[test]
    fn lines_are_split_and_a_long_one_is_skipped_whole() {
        assert_eq!(lines(b"a\r\nb\n\nc"), ["a", "b", "", "c"]);
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\nnext\n");
        assert_eq!(lines(&input), ["<too long>", "next"]);
        let mut exact = vec![b'y'; MAX_LINE];
        exact.push(b'\n');
        assert_eq!(lines(&exact).len(), 1);
        assert_eq!(lines(&exact)[0].len(), MAX_LINE);
    }
}
