//! The OpenTelemetry side of [`telemetry`](super): the SDK's providers, the OTLP/HTTP
//! exporters with a client of our own over `std::net`, the instruments, and spans made
//! with explicit parents (a call's spans are made on the thread that runs the call; no
//! span is ever "current").

use std::collections::HashMap;
use std::fmt;
use std::future::{Future, ready};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use opentelemetry::metrics::{Counter, MeterProvider as _};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{
    MetricExporter, Protocol, RetryPolicy, SpanExporter, WithExportConfig as _, WithHttpConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The instrumentation scope of every span and instrument.
const SCOPE: &str = "cnv";

/// How long one export may take when `OTEL_EXPORTER_OTLP_TIMEOUT` does not say: the
/// specification's default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes of a collector's answer read.
const MAX_ANSWER: u64 = 1024 * 1024;

/// Exporting: the providers (kept for flushing), the tracer and the instruments.
pub(crate) struct Otel {
    tracer: SdkTracer,
    traces: SdkTracerProvider,
    metrics: SdkMeterProvider,
    calls: Counter<u64>,
    refusals: Counter<u64>,
    deadline_kills: Counter<u64>,
    quota_refusals: Counter<u64>,
    /// Whether argument values and justifications are recorded (the operator opted in).
    pub(crate) record_arguments: bool,
}

impl fmt::Debug for Otel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Otel")
            .field("record_arguments", &self.record_arguments)
            .finish_non_exhaustive()
    }
}

/// Where the exporters send: the collector's base URL given in code, or the standard
/// variables, which the exporters read themselves.
pub(crate) enum Endpoint<'a> {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, … as the OTLP
    /// exporter reads them; metrics only when a variable names where they go (`metrics`),
    /// never to the exporter's default `localhost:4318`.
    FromEnv {
        /// Whether `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
        /// is set.
        metrics: bool,
    },
    /// A base URL: `/v1/traces` and `/v1/metrics` are appended.
    Base(&'a str),
}

impl Otel {
    /// The providers and instruments of a process named `service` (unless
    /// `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` names it), exporting to
    /// `endpoint`.
    ///
    /// # Errors
    ///
    /// What the exporters refused (an endpoint that does not read as a URL).
    pub(crate) fn start(
        service: &str,
        endpoint: &Endpoint<'_>,
        timeout: Option<Duration>,
        record_arguments: bool,
    ) -> Result<Self, String> {
        let client = PlainHttp {
            timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        };
        let mut spans = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_http_client(client.clone())
            .with_retry_policy(retry());
        let mut metrics = MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_http_client(client)
            .with_retry_policy(retry());
        if let Endpoint::Base(base) = endpoint {
            let base = base.trim_end_matches('/');
            spans = spans.with_endpoint(format!("{base}/v1/traces"));
            metrics = metrics.with_endpoint(format!("{base}/v1/metrics"));
        }
        let spans = spans.build().map_err(|err| err.to_string())?;
        let metrics = metrics.build().map_err(|err| err.to_string())?;
        let resource = resource(service);
        let traces = SdkTracerProvider::builder()
            .with_batch_exporter(spans)
            .with_resource(resource.clone())
            .build();
        let mut provider = SdkMeterProvider::builder().with_resource(resource);
        let send_metrics = match endpoint {
            Endpoint::FromEnv { metrics } => *metrics,
            Endpoint::Base(_) => true,
        };
        if send_metrics {
            provider = provider.with_reader(PeriodicReader::builder(metrics).build());
        }
        // Without a reader, the counters count into nothing and nothing is sent.
        let metrics = provider.build();
        let meter = metrics.meter(SCOPE);
        let counter = |name: &'static str, unit: &'static str, description: &'static str| {
            meter
                .u64_counter(name)
                .with_unit(unit)
                .with_description(description)
                .build()
        };
        Ok(Self {
            tracer: traces.tracer(SCOPE),
            calls: counter(
                "cnv.calls",
                "{call}",
                "Calls, by capability class and result",
            ),
            refusals: counter(
                "cnv.refusals",
                "{call}",
                "Calls refused by the gate, the sandbox or the audit trail, by rule",
            ),
            deadline_kills: counter(
                "cnv.deadline_kills",
                "{call}",
                "Calls stopped at the end of their resource band's time, by class and band",
            ),
            quota_refusals: counter(
                "cnv.quota_refusals",
                "{call}",
                "Calls refused by a quota, by rule",
            ),
            traces,
            metrics,
            record_arguments,
        })
    }

    /// Exports what is pending now (a one-shot command line, before it exits).
    pub(crate) fn flush(&self) {
        let _ = self.traces.force_flush();
        let _ = self.metrics.force_flush();
    }

    /// A root span named `name` started at `start`, the child of the remote span in
    /// `traceparent` (and `tracestate`) when they read as W3C trace context, of a new
    /// trace otherwise.
    pub(crate) fn root(
        &self,
        name: &'static str,
        kind: SpanKind,
        start: SystemTime,
        parent: Option<(&str, Option<&str>)>,
        attributes: Vec<KeyValue>,
    ) -> Context {
        let parent = parent.map_or_else(Context::new, |(traceparent, tracestate)| {
            let mut carrier = HashMap::with_capacity(2);
            carrier.insert("traceparent".to_owned(), traceparent.to_owned());
            if let Some(tracestate) = tracestate {
                carrier.insert("tracestate".to_owned(), tracestate.to_owned());
            }
            TraceContextPropagator::new().extract(&carrier)
        });
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(kind)
            .with_start_time(start)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        parent.with_span(span)
    }

    /// A span named `name` starting now, the child of the span in `parent`.
    pub(crate) fn child(&self, parent: &Context, name: &'static str) -> Context {
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .start_with_context(&self.tracer, parent);
        parent.with_span(span)
    }

    /// Counts a call that ended with `result`, of `class` when it reached a verb.
    pub(crate) fn count_call(&self, class: Option<&'static str>, result: &'static str) {
        let mut attributes = vec![KeyValue::new("cnv.result", result)];
        if let Some(class) = class {
            attributes.push(KeyValue::new("cnv.class", class));
        }
        self.calls.add(1, &attributes);
    }

    /// Counts a refusal by `rule`.
    pub(crate) fn count_refusal(&self, rule: &'static str) {
        self.refusals.add(1, &[KeyValue::new("cnv.rule", rule)]);
    }

    /// Counts a call stopped at the end of its band's time.
    pub(crate) fn count_deadline_kill(&self, class: &'static str, band: &'static str) {
        self.deadline_kills.add(
            1,
            &[
                KeyValue::new("cnv.class", class),
                KeyValue::new("cnv.band", band),
            ],
        );
    }

    /// Counts a call refused by the quota `rule`.
    pub(crate) fn count_quota_refusal(&self, rule: String) {
        self.quota_refusals
            .add(1, &[KeyValue::new("cnv.quota.rule", rule)]);
    }
}

/// How an export that failed is retried: once, 100 ms later. A command line waits for its
/// exports before it exits, so a collector that is down costs each run the time of two
/// attempts of each signal, not the four (with back-off, about 1.7 s) of the exporter's
/// default.
fn retry() -> RetryPolicy {
    RetryPolicy::recommended().with_max_retries(1)
}

/// Sets `key` to `value` on the span in `cx`.
pub(crate) fn set(cx: &Context, attribute: KeyValue) {
    cx.span().set_attribute(attribute);
}

/// Ends the span in `cx`, an error when `error` says why (a label, never a message that
/// could hold an agent's text).
pub(crate) fn end(cx: &Context, error: Option<&'static str>) {
    let span = cx.span();
    if let Some(error) = error {
        span.set_status(Status::error(error));
    }
    span.end();
}

/// The process's resource: the SDK's (its variables), named `service` unless they name
/// it.
fn resource(service: &str) -> Resource {
    let from_env = Resource::builder().build();
    let named = from_env
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    if named {
        from_env
    } else {
        Resource::builder()
            .with_service_name(service.to_owned())
            .build()
    }
}

// ---------------------------------------------------------------------------------------
// The exporters' HTTP client: one POST per connection over `std::net`, plain HTTP only.

/// OTLP's HTTP client: plain HTTP/1.1 over `std::net`, one request per connection, every
/// step within `timeout`. No TLS: an operator exports to a collector on the machine or
/// its network (the OpenTelemetry Collector's usual place), which forwards elsewhere.
#[derive(Clone, Debug)]
struct PlainHttp {
    timeout: Duration,
}

impl HttpClient for PlainHttp {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        // The SDK's exporting threads block on this future: the request is made here.
        Box::pin(ready(self.post(&request)))
    }
}

/// Why an export could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
enum SendError {
    /// The endpoint is not `http://`.
    #[error(
        "the OTLP endpoint {uri} is not plain http://: cnv exports over plain HTTP only (to a collector on the machine or its network, which forwards elsewhere)"
    )]
    NotHttp { uri: String },
    /// The endpoint names no host.
    #[error("the OTLP endpoint {uri} names no host")]
    NoHost { uri: String },
    /// The collector could not be reached or answered badly.
    #[error("the OTLP collector at {uri}: {reason}")]
    Exchange { uri: String, reason: String },
}

impl PlainHttp {
    fn post(&self, request: &Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let uri = request.uri();
        let text = uri.to_string();
        if uri.scheme_str() != Some("http") {
            return Err(Box::new(SendError::NotHttp { uri: text }));
        }
        let Some(host) = uri.host() else {
            return Err(Box::new(SendError::NoHost { uri: text }));
        };
        let port = uri.port_u16().unwrap_or(80);
        let path = uri.path_and_query().map_or("/", |path| path.as_str());
        let exchange = |reason: String| SendError::Exchange {
            uri: text.clone(),
            reason,
        };
        let mut head = format!(
            "{} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
            request.method(),
            request.body().len()
        );
        for (name, value) in request.headers() {
            let Ok(value) = value.to_str() else { continue };
            if name == "host" || name == "connection" || name == "content-length" {
                continue;
            }
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut stream = connect(host, port, self.timeout).map_err(exchange)?;
        let sent = stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .and_then(|()| stream.write_all(head.as_bytes()))
            .and_then(|()| stream.write_all(request.body()));
        sent.map_err(|err| exchange(format!("sending: {err}")))?;
        // The answer is read as its head frames it, never by waiting for the collector to
        // close: one that keeps the connection open despite `Connection: close` must not
        // hold the export until the read times out.
        let answer = read_answer(&mut BufReader::new(stream)).map_err(exchange)?;
        Ok(answer)
    }
}

/// A connection to `host:port`, trying each of its addresses within `timeout`.
fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|err| format!("resolving: {err}"))?;
    let mut last = String::from("no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(err) => last = format!("connecting to {addr}: {err}"),
        }
    }
    Err(last)
}

/// The most bytes of an answer's head.
const MAX_HEAD: usize = 16 * 1024;

/// One line of an answer's head (at most what is left of [`MAX_HEAD`]).
fn head_line(reader: &mut impl BufRead, read: &mut usize) -> Result<String, String> {
    let mut line = Vec::new();
    let left = MAX_HEAD.saturating_sub(*read) as u64;
    let n = reader
        .by_ref()
        .take(left)
        .read_until(b'\n', &mut line)
        .map_err(|err| format!("reading the answer: {err}"))?;
    *read += n;
    if n == 0 {
        return Err("the connection closed before the answer's head ended".to_owned());
    }
    if !line.ends_with(b"\n") {
        return Err(format!("an answer's head over {MAX_HEAD} bytes"));
    }
    String::from_utf8(line)
        .map(|line| line.trim_end_matches(['\r', '\n']).to_owned())
        .map_err(|_| "an answer's head that is not text".to_owned())
}

/// An HTTP/1.1 answer, read as its head frames it: status, headers, and a body of its
/// `Content-Length`, in chunks, or (with neither) to the connection's end; at most
/// [`MAX_ANSWER`] bytes of body.
fn read_answer(reader: &mut impl BufRead) -> Result<Response<Bytes>, String> {
    let not_http = || "an answer that is not HTTP".to_owned();
    let mut read = 0;
    let status_line = head_line(reader, &mut read)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(not_http)?;
    let mut response = Response::builder().status(status);
    let mut chunked = false;
    let mut length = None;
    loop {
        let line = head_line(reader, &mut read)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(not_http)?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<u64>().map_err(|_| not_http())?);
        }
        response = response.header(name, value);
    }
    let too_large = || format!("an answer's body over {MAX_ANSWER} bytes");
    let failed = |err: std::io::Error| format!("reading the answer's body: {err}");
    let mut body = Vec::new();
    if status == 204 || status == 304 {
        // No body.
    } else if chunked {
        loop {
            let mut size_read = 0;
            let size = head_line(reader, &mut size_read)?;
            let size = size.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| not_http())?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !head_line(reader, &mut size_read)?.is_empty() {}
                break;
            }
            if body.len() as u64 + size > MAX_ANSWER {
                return Err(too_large());
            }
            let start = body.len();
            body.resize(start + usize::try_from(size).map_err(|_| too_large())?, 0);
            reader.read_exact(&mut body[start..]).map_err(failed)?;
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf).map_err(failed)?;
        }
    } else if let Some(length) = length {
        if length > MAX_ANSWER {
            return Err(too_large());
        }
        body.resize(usize::try_from(length).map_err(|_| too_large())?, 0);
        reader.read_exact(&mut body).map_err(failed)?;
    } else {
        reader
            .take(MAX_ANSWER)
            .read_to_end(&mut body)
            .map_err(failed)?;
    }
    response.body(Bytes::from(body)).map_err(|_| not_http())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(raw: &[u8]) -> Result<Response<Bytes>, String> {
        read_answer(&mut std::io::Cursor::new(raw))
    }

    #[test]
    fn answers_read_with_a_length_chunked_or_to_the_end() {
        // Read as far as the length says, whatever follows (a collector that keeps the
        // connection open sends nothing more, and is not waited for).
        let ok = answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokAND MORE").expect("read");
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.body().as_ref(), b"ok");
        let chunked = answer(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n",
        )
        .expect("read");
        assert_eq!(chunked.status(), 503);
        assert_eq!(chunked.headers()["retry-after"], "3");
        assert_eq!(chunked.body().as_ref(), b"abc");
        let to_end = answer(b"HTTP/1.1 200 OK\r\n\r\nall of it").expect("read");
        assert_eq!(to_end.body().as_ref(), b"all of it");
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nX: y",
        ] {
            assert!(answer(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let huge_head = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "y".repeat(MAX_HEAD));
        let err = answer(huge_head.as_bytes()).expect_err("too long");
        assert!(err.contains("over 16384 bytes"), "{err}");
    }

    #[test]
    fn an_https_endpoint_is_refused_with_a_reason() {
        let client = PlainHttp {
            timeout: Duration::from_secs(1),
        };
        let request = Request::builder()
            .method("POST")
            .uri("https://collector.example/v1/traces")
            .body(Bytes::from_static(b""))
            .expect("a request");
        let err = client.post(&request).expect_err("no TLS");
        assert!(err.to_string().contains("plain HTTP only"), "{err}");
    }
}
