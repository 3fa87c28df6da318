//! The little HTTP/1.1 a witness and its clients speak, over `std::net`: one request per
//! connection (`Connection: close`), bodies with a `Content-Length` (a client also reads
//! chunked or to-the-end answers), strict limits on every part, timeouts on every read
//! and write. No async runtime: a writer submits from a thread of its own, inside or
//! outside anyone's tokio, and the witness serves a few requests a second at most.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The most bytes of a request line and its headers (and of an answer's).
const MAX_HEAD: usize = 16 * 1024;

/// The most bytes of an answer's body a client reads.
const MAX_ANSWER: usize = 64 * 1024;

/// The most connections a server serves at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 64;

/// How long a server waits for each read or write of a connection.
const SERVER_TIMEOUT: Duration = Duration::from_secs(10);

/// The URL of a witness: `http://HOST[:PORT][/PREFIX]` (plain HTTP: what a witness says
/// is signed, not secret). Its add-checkpoint endpoint is `PREFIX/add-checkpoint`, and
/// the latest checkpoint it cosigned for a log is at `PREFIX/<origin hash>/checkpoint`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WitnessUrl {
    text: String,
    host: String,
    port: u16,
    prefix: String,
}

impl WitnessUrl {
    /// The URL as given (without a trailing `/`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for WitnessUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for WitnessUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WitnessUrl({})", self.text)
    }
}

/// Why a witness URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{url}` is not a witness URL ({reason}): write http://HOST[:PORT][/PREFIX], e.g. http://witness.example:7380"
)]
#[non_exhaustive]
pub struct UrlError {
    /// The text given (escaped).
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for WitnessUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = |reason| UrlError {
            url: cnv_caps::text::escape_for_display(s),
            reason,
        };
        let rest = s
            .strip_prefix("http://")
            .ok_or_else(|| error("only http:// is spoken"))?;
        if s.len() > 2048 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(error(
                "it holds a space, a control or a non-ASCII character",
            ));
        }
        if s.contains(['?', '#', '@']) {
            return Err(error("it has a query, a fragment or a user name"));
        }
        let (authority, prefix) = match rest.find('/') {
            Some(at) => (&rest[..at], rest[at..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| error("an IPv6 address has no closing `]`"))?;
            (format!("[{host}]"), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(error("it names no host"));
        }
        let port = match port {
            Some(port) => port
                .parse()
                .map_err(|_| error("its port is not a number"))?,
            None => 80,
        };
        Ok(Self {
            text: s.trim_end_matches('/').to_owned(),
            host,
            port,
            prefix: prefix.to_owned(),
        })
    }
}

/// An HTTP answer, or a request's parts.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Sends one request to `url`'s `path` (after its prefix) and reads the answer, every
/// connect, read and write waiting at most `timeout`.
pub(crate) fn call(
    url: &WitnessUrl,
    method: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> io::Result<Answer> {
    let addrs = (
        url.host.trim_start_matches('[').trim_end_matches(']'),
        url.port,
    )
        .to_socket_addrs()?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(connected) => {
                stream = Some(connected);
                break;
            }
            Err(err) => last = err,
        }
    }
    let mut stream = stream.ok_or(last)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let _ = stream.set_nodelay(true);
    let head = format!(
        "{method} {}{path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: cnv-audit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.prefix,
        url.host,
        url.port,
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request)?;
    let (head, rest) = read_head(&mut stream)?.ok_or_else(|| protocol("no answer"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1."))
        .and_then(|line| line.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| protocol("not an HTTP answer"))?;
    let headers = headers(lines)?;
    let body = if headers.chunked {
        read_chunked(&mut stream, rest)?
    } else {
        read_body(&mut stream, rest, headers.length, MAX_ANSWER)?
    };
    Ok(Answer { status, body })
}

fn protocol(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

struct Headers {
    length: Option<usize>,
    chunked: bool,
}

fn headers<'a>(lines: impl Iterator<Item = &'a str>) -> io::Result<Headers> {
    let mut out = Headers {
        length: None,
        chunked: false,
    };
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| protocol("a header has no `:`"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse()
                .map_err(|_| protocol("Content-Length is not a number"))?;
            if out.length.is_some_and(|seen| seen != length) {
                return Err(protocol("two Content-Lengths"));
            }
            out.length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            out.chunked = true;
        }
    }
    Ok(out)
}

/// Reads up to the blank line that ends the head: the head (without it) and what was
/// read after it. `None` when the peer closed before sending anything.
fn read_head(stream: &mut impl Read) -> io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0; 2048];
    loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(at + 4);
            buf.truncate(at);
            let head = String::from_utf8(buf).map_err(|_| protocol("the head is not UTF-8"))?;
            return Ok(Some((head, rest)));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::OutOfMemory, "head too long"));
        }
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(protocol("the connection closed in the head"))
            };
        }
        buf.extend_from_slice(&chunk[..read]);
    }
}

/// The body: `length` bytes, or (without one) everything to the end, at most `limit`.
fn read_body(
    stream: &mut impl Read,
    mut body: Vec<u8>,
    length: Option<usize>,
    limit: usize,
) -> io::Result<Vec<u8>> {
    match length {
        Some(length) if length > limit => Err(io::Error::new(
            io::ErrorKind::OutOfMemory,
            "the body is too long",
        )),
        Some(length) => {
            if body.len() < length {
                let mut more = vec![0; length - body.len()];
                stream.read_exact(&mut more)?;
                body.extend_from_slice(&more);
            }
            body.truncate(length);
            Ok(body)
        }
        None => {
            stream
                .take((limit + 1 - body.len().min(limit)) as u64)
                .read_to_end(&mut body)?;
            if body.len() > limit {
                return Err(io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    "the body is too long",
                ));
            }
            Ok(body)
        }
    }
}

fn read_chunked(stream: &mut impl Read, start: Vec<u8>) -> io::Result<Vec<u8>> {
    let raw = read_body(stream, start, None, MAX_ANSWER + 4096)?;
    let mut body = Vec::new();
    let mut rest = &raw[..];
    loop {
        let at = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| protocol("a chunk has no size"))?;
        let size_text = std::str::from_utf8(&rest[..at]).map_err(|_| protocol("chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| protocol("chunk size"))?;
        rest = &rest[at + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| protocol("a chunk is cut short"))?;
        body.extend_from_slice(chunk);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

/// A request a server read: its method, its path and its body.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Vec<u8>,
}

/// An answer a server writes, with any extra headers.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    pub(crate) no_cache: bool,
}

impl Reply {
    pub(crate) fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            no_cache: false,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

fn write_reply(stream: &mut impl Write, reply: &Reply) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    if reply.no_cache {
        out.push_str("Cache-Control: no-cache\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&reply.body);
    stream.write_all(&bytes)?;
    stream.flush()
}

/// Reads one request of at most `limit` bytes of body: `Err(reply)` for a request that
/// cannot be served, `Ok(None)` when the peer sent nothing.
fn read_request(stream: &mut impl Read, limit: usize) -> Result<Option<Request>, Reply> {
    let bad = |why: &str| Reply::text(400, format!("{why}\n"));
    let (head, rest) = match read_head(stream) {
        Ok(Some(head)) => head,
        Ok(None) => return Ok(None),
        Err(err) if err.kind() == io::ErrorKind::OutOfMemory => {
            return Err(Reply::text(413, "the request's head is too long\n"));
        }
        Err(_) => return Err(bad("not an HTTP/1.1 request")),
    };
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the request line is not `METHOD PATH HTTP/1.1`"));
    };
    if !version.starts_with("HTTP/1.") || !path.starts_with('/') {
        return Err(bad("the request line is not `METHOD PATH HTTP/1.1`"));
    }
    let headers = headers(lines).map_err(|_| bad("a header is malformed"))?;
    if headers.chunked {
        return Err(Reply::text(
            411,
            "a chunked body is not accepted: send it with a Content-Length\n",
        ));
    }
    let body = match (method, headers.length) {
        ("POST", None) => {
            return Err(Reply::text(411, "a POST needs a Content-Length\n"));
        }
        (_, length) => read_body(stream, rest, Some(length.unwrap_or(0)), limit),
    };
    let body = match body {
        Ok(body) => body,
        Err(err) if err.kind() == io::ErrorKind::OutOfMemory => {
            return Err(Reply::text(
                413,
                format!("the body is longer than {limit} bytes\n"),
            ));
        }
        Err(_) => return Err(bad("the body ended early")),
    };
    Ok(Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        body,
    }))
}

/// Serves `listener` forever: each connection on a thread of its own (at most
/// [`MAX_CONNECTIONS`] at once), one request each, answered by `handle`.
pub(crate) fn serve(
    listener: &TcpListener,
    limit: usize,
    handle: Arc<dyn Fn(Request) -> Reply + Send + Sync>,
) -> io::Result<()> {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            // A connection that failed before it was accepted, or too many files open:
            // the next one may do better.
            Err(err) if err.kind() != io::ErrorKind::InvalidInput => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(err) => return Err(err),
        };
        let _ = stream.set_read_timeout(Some(SERVER_TIMEOUT));
        let _ = stream.set_write_timeout(Some(SERVER_TIMEOUT));
        if active.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::AcqRel);
            let _ = write_reply(&mut stream, &Reply::text(503, "too many connections\n"));
            continue;
        }
        let (count, handle) = (Arc::clone(&active), Arc::clone(&handle));
        let spawned = std::thread::Builder::new()
            .name("cnv-witness-conn".to_owned())
            .spawn(move || {
                let reply = match read_request(&mut stream, limit) {
                    Ok(Some(request)) => Some(handle(request)),
                    Ok(None) => None,
                    Err(reply) => Some(reply),
                };
                if let Some(reply) = reply {
                    let _ = write_reply(&mut stream, &reply);
                }
                let _ = stream.shutdown(Shutdown::Write);
                // Let the client read the answer before the socket closes: drain what it
                // still sends, briefly.
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = io::copy(
                    &mut Read::by_ref(&mut stream).take(64 * 1024),
                    &mut io::sink(),
                );
                count.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            // No thread to be had: the connection was dropped (closed) with the closure,
            // which never ran; undo its count.
            active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witness_urls_are_read_strictly() {
        let url: WitnessUrl = "http://127.0.0.1:7380/".parse().expect("a URL");
        assert_eq!(url.as_str(), "http://127.0.0.1:7380");
        assert_eq!(
            (url.host.as_str(), url.port, url.prefix.as_str()),
            ("127.0.0.1", 7380, "")
        );
        let url: WitnessUrl = "http://w.example/a/b".parse().expect("a URL");
        assert_eq!(
            (url.host.as_str(), url.port, url.prefix.as_str()),
            ("w.example", 80, "/a/b")
        );
        let url: WitnessUrl = "http://[::1]:9/".parse().expect("a URL");
        assert_eq!((url.host.as_str(), url.port), ("[::1]", 9));
        for bad in [
            "https://w.example",
            "w.example",
            "http://",
            "http://w.example:x",
            "http://w.example/ a",
            "http://user@w.example",
            "http://w.example/?q",
            "http://[::1",
        ] {
            assert!(bad.parse::<WitnessUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_are_read_within_their_limits() {
        let read = |bytes: &[u8]| read_request(&mut &bytes[..], 16);
        let request = read(b"POST /add-checkpoint HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
            .expect("read")
            .expect("a request");
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/add-checkpoint")
        );
        assert_eq!(request.body, b"abc");
        assert!(matches!(read(b""), Ok(None)));
        let status = |bytes: &[u8]| read(bytes).expect_err("refused").status;
        assert_eq!(status(b"POST / HTTP/1.1\r\n\r\n"), 411);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n"),
            413
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            411
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"),
            400
        );
        assert_eq!(status(b"GARBAGE\r\n\r\n"), 400);
        assert_eq!(status(b"GET x HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
        assert_eq!(status(&[b'a'; MAX_HEAD + 10]), 413);
        assert_eq!(status(b"GET / HTTP/1.1\r\n"), 400);
    }

    #[test]
    fn chunked_answers_are_read() {
        let body = read_chunked(
            &mut &b""[..],
            b"3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n".to_vec(),
        )
        .expect("chunks");
        assert_eq!(body, b"abcde");
        assert!(read_chunked(&mut &b""[..], b"zz\r\n".to_vec()).is_err());
        assert!(read_chunked(&mut &b""[..], b"9\r\nabc".to_vec()).is_err());
    }
}
