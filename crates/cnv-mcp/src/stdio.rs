//! MCP over standard input and output: newline-delimited JSON-RPC, one session per
//! connection.
//!
//! rmcp's own stdio transport skips a line that is not JSON without a word; this one
//! answers it with a JSON-RPC parse error (`-32700`), answers JSON that is not a JSON-RPC
//! message with `-32600`, refuses a line over the operator's message cap (its bytes or its
//! JSON values) while reading it, without keeping it, and ends the connection after the
//! operator's idle timeout (never while a call is under way).
//!
//! It also pushes back: rmcp reads the next message as soon as it has dispatched one, and
//! sends each answer from a task of its own, so a client that writes without reading would
//! have the server hold every answer. This transport counts the bytes of the answers not
//! yet written and the session's calls under way, and reads nothing more while either is
//! at its bound: the client's writes then wait in the pipe.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cnv_audit::McpTransport;
use futures::StreamExt;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, GetExtensions, ServerJsonRpcMessage};
use rmcp::service::{ServerInitializeError, ServiceExt};
use rmcp::{RoleServer, transport::Transport};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, Notify};
use tokio_util::bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, FramedRead};
use tokio_util::sync::CancellationToken;

use crate::calls::{Arrival, Counter};
use crate::handler::{CnvServer, Shared};
use crate::message::{self, Refused, ValueCount};
use crate::{McpError, McpLimits};

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
    let server = CnvServer::new(shared, McpTransport::Stdio);
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
    lines: FramedRead<R, MessageLines>,
    out: Arc<Outbox<W>>,
    idle: Option<Duration>,
    /// The session's calls under way: each `tools/call` read gets a ticket, which its
    /// handler keeps until the call is recorded.
    calls: Arc<Counter>,
    /// How many calls may be under way before reading stops: as many running as the
    /// session may, and as many waiting.
    max_calls: usize,
}

impl<R: AsyncRead, W> LineTransport<R, W> {
    pub(crate) fn new(read: R, write: W, idle: Option<Duration>, limits: &McpLimits) -> Self {
        let codec = MessageLines::new(limits.max_message_bytes, limits.max_message_values());
        Self {
            lines: FramedRead::new(read, codec),
            out: Arc::new(Outbox {
                writer: Mutex::new(write),
                unwritten: AtomicUsize::new(0),
                written: Notify::new(),
                // A message's worth of answers may wait for the client.
                bound: limits.max_message_bytes,
            }),
            idle,
            calls: Arc::default(),
            max_calls: limits.calls_per_session.saturating_mul(2),
        }
    }
}

/// Where answers go: the writer, and the bytes handed to it and not yet written.
struct Outbox<W> {
    writer: Mutex<W>,
    unwritten: AtomicUsize,
    written: Notify,
    /// Above this many unwritten bytes, nothing more is read.
    bound: usize,
}

impl<W: AsyncWrite + Unpin> Outbox<W> {
    /// `message` as a line to write: counted as unwritten from now until it is written
    /// (or its write is dropped).
    fn line(self: &Arc<Self>, message: &impl serde::Serialize) -> io::Result<Line<W>> {
        let mut bytes = serde_json::to_vec(message)?;
        bytes.push(b'\n');
        self.unwritten.fetch_add(bytes.len(), Ordering::SeqCst);
        Ok(Line {
            outbox: Arc::clone(self),
            bytes,
        })
    }

    /// Waits until the unwritten answers are within the bound (cancel-safe).
    async fn room(&self) {
        loop {
            let written = self.written.notified();
            tokio::pin!(written);
            written.as_mut().enable();
            if self.unwritten.load(Ordering::SeqCst) <= self.bound {
                return;
            }
            written.await;
        }
    }
}

/// One answer on its way out.
struct Line<W> {
    outbox: Arc<Outbox<W>>,
    bytes: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> Line<W> {
    /// Writes the line whole, then flushes.
    async fn write(self) -> io::Result<()> {
        let mut writer = self.outbox.writer.lock().await;
        writer.write_all(&self.bytes).await?;
        writer.flush().await
    }
}

impl<W> Drop for Line<W> {
    fn drop(&mut self) {
        self.outbox
            .unwritten
            .fetch_sub(self.bytes.len(), Ordering::SeqCst);
        self.outbox.written.notify_waiters();
    }
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
        // Made now, so that it counts as unwritten from the moment rmcp hands it over.
        let line = self.out.line(&item);
        async move { line?.write().await }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            // Every wait here is cancel-safe: rmcp polls `receive` inside a `select!`.
            tokio::join!(self.out.room(), self.calls.below(self.max_calls));
            let frame = match self.idle {
                None => self.lines.next().await,
                Some(idle) => match tokio::time::timeout(idle, self.lines.next()).await {
                    Ok(frame) => frame,
                    Err(_) if self.calls.get() > 0 => continue,
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
                Ok(Frame::Line(line)) => line,
                Ok(Frame::Refused { why, id }) => {
                    self.reply_error(id, -32700, format!("Parse error: {}", why.message()));
                    continue;
                }
                // Reading standard input failed: the connection is over.
                Err(_) => return None,
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let arrival = Instant::now();
            match serde_json::from_slice::<ClientJsonRpcMessage>(&line) {
                Ok(mut message) => {
                    if let ClientJsonRpcMessage::Request(request) = &mut message {
                        let is_call = matches!(request.request, ClientRequest::CallToolRequest(_));
                        let extensions = request.request.extensions_mut();
                        extensions.insert(Arrival(arrival));
                        if is_call {
                            extensions.insert(self.calls.enter());
                        }
                    }
                    return Some(message);
                }
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
    /// half-way never leaves half a line; counted as unwritten until it is written.
    fn reply_error(&self, id: Option<Value>, code: i64, message: String) {
        let mut reply = json!({
            "jsonrpc": "2.0",
            "error": { "code": code, "message": message },
        });
        if let Some(id) = id {
            reply["id"] = id;
        }
        if let Ok(line) = self.out.line(&reply) {
            tokio::spawn(async move {
                let _ = line.write().await;
            });
        }
    }
}

/// One message of input, or what refused it.
#[derive(Debug)]
enum Frame {
    /// The line, without its newline.
    Line(BytesMut),
    /// A line over the cap, skipped to its newline without being kept; the `id` of its
    /// first bytes, if they name one.
    Refused { why: Refused, id: Option<Value> },
}

/// Splits input into lines within the message cap, counting each line's JSON values as
/// its bytes arrive; a line over either limit is reported at once and skipped to its
/// newline, and reading goes on (a codec error would end the stream).
#[derive(Debug)]
struct MessageLines {
    max_bytes: usize,
    max_values: usize,
    /// Skipping the rest of a refused line.
    discarding: bool,
    /// How much of the buffer's line has been scanned.
    scanned: usize,
    values: ValueCount,
}

impl MessageLines {
    fn new(max_bytes: usize, max_values: usize) -> Self {
        Self {
            max_bytes,
            max_values,
            discarding: false,
            scanned: 0,
            values: ValueCount::default(),
        }
    }

    /// Refuses the line at the front of `buf`, scanned up to `at`, for `why`: what of it
    /// is in the buffer is dropped, and the rest is skipped as it arrives.
    fn refuse(&mut self, buf: &mut BytesMut, at: usize, why: Refused) -> Frame {
        let id = message::leading_id(&buf[..buf.len().min(message::ID_PREFIX)]);
        match buf[at..].iter().position(|&b| b == b'\n') {
            Some(newline) => buf.advance(at + newline + 1),
            None => {
                buf.clear();
                self.discarding = true;
            }
        }
        self.scanned = 0;
        self.values = ValueCount::default();
        Frame::Refused { why, id }
    }
}

impl Decoder for MessageLines {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        if self.discarding {
            match buf.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    buf.advance(at + 1);
                    self.discarding = false;
                }
                None => {
                    buf.clear();
                    return Ok(None);
                }
            }
        }
        let mut at = self.scanned;
        while at < buf.len() {
            let byte = buf[at];
            if byte == b'\n' {
                // A newline never occurs inside a JSON string (it would be escaped).
                let mut line = buf.split_to(at + 1);
                line.truncate(at);
                if line.last() == Some(&b'\r') {
                    line.truncate(at - 1);
                }
                self.scanned = 0;
                self.values = ValueCount::default();
                if line.len() > self.max_bytes {
                    // Only a carriage return can have let it this far.
                    return Ok(Some(Frame::Refused {
                        why: Refused::TooLong(self.max_bytes),
                        id: message::leading_id(&line[..line.len().min(message::ID_PREFIX)]),
                    }));
                }
                return Ok(Some(Frame::Line(line)));
            }
            // One byte more than the cap may be the carriage return of `\r\n`.
            if at > self.max_bytes {
                return Ok(Some(self.refuse(buf, at, Refused::TooLong(self.max_bytes))));
            }
            if self.values.over(byte, self.max_values) {
                return Ok(Some(self.refuse(
                    buf,
                    at,
                    Refused::TooManyValues(self.max_values),
                )));
            }
            at += 1;
        }
        self.scanned = at;
        Ok(None)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if buf.is_empty() || self.discarding {
            buf.clear();
            return Ok(None);
        }
        // The last line, without a newline.
        self.scanned = 0;
        self.values = ValueCount::default();
        Ok(Some(Frame::Line(buf.split())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 4096;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut codec = MessageLines::new(MAX, message::max_values(MAX));
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        let show = |frame: Frame| match frame {
            Frame::Line(line) => String::from_utf8_lossy(&line).into_owned(),
            Frame::Refused { why, id } => format!("<{why:?} {id:?}>"),
        };
        while let Some(frame) = codec.decode(&mut buf).expect("never fails") {
            out.push(show(frame));
        }
        if let Some(frame) = codec.decode_eof(&mut buf).expect("never fails") {
            out.push(show(frame));
        }
        out
    }

    #[test]
    fn lines_are_split_and_a_long_one_is_skipped_whole() {
        assert_eq!(lines(b"a\r\nb\n\nc"), ["a", "b", "", "c"]);
        let mut input = br#"{"jsonrpc":"2.0","id":9,"params":""#.to_vec();
        input.extend(vec![b'x'; MAX + 10]);
        input.extend_from_slice(b"\nnext\n");
        assert_eq!(lines(&input), ["<TooLong(4096) Some(Number(9))>", "next"]);
        let mut exact = vec![b'y'; MAX];
        exact.push(b'\n');
        assert_eq!(lines(&exact).len(), 1);
        assert_eq!(lines(&exact)[0].len(), MAX);
        let mut crlf = vec![b'y'; MAX];
        crlf.extend_from_slice(b"\r\n");
        assert_eq!(lines(&crlf)[0].len(), MAX);
    }

    #[test]
    fn a_line_of_too_many_values_is_refused_as_it_is_read() {
        // 64 values at a cap of 4096 bytes.
        let values = message::max_values(MAX);
        let ok = format!("[{}]\n", vec!["1"; values].join(","));
        assert_eq!(lines(ok.as_bytes()).len(), 1);
        let over = format!(r#"{{"id":"a","x":[{}]}}"#, vec!["1"; values].join(","));
        let input = format!("{over}\n[2]\n");
        assert_eq!(
            lines(input.as_bytes()),
            [r#"<TooManyValues(64) Some(String("a"))>"#, "[2]"]
        );
        // Commas in strings are not values.
        let strings = format!("[\"{}\"]\n", ",".repeat(1000));
        assert_eq!(lines(strings.as_bytes()).len(), 1);
    }
}
