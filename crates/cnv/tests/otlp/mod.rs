//! An OTLP/HTTP receiver on loopback for the traces tests: it accepts `POST /v1/traces`
//! and `/v1/metrics` with protobuf bodies, decodes them with the protocol's own messages
//! and hands the tests what it was sent.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use prost::Message as _;

/// The longest a test waits for something that must happen.
pub const WAIT: Duration = Duration::from_secs(30);

/// What the receiver was sent, decoded.
enum Got {
    Traces(ExportTraceServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

/// One span, as the tests read it.
#[derive(Clone, Debug)]
pub struct Span {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent: String,
    pub trace_state: String,
    pub kind: i32,
    pub error: bool,
    pub attributes: HashMap<String, String>,
    pub service: String,
}

impl Span {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// One data point of a counter.
#[derive(Clone, Debug)]
pub struct Point {
    pub metric: String,
    pub attributes: HashMap<String, String>,
    pub value: i64,
}

pub struct Collector {
    pub url: String,
    got: Receiver<Got>,
    pub spans: Vec<Span>,
    pub points: Vec<Point>,
    /// How many requests it was sent, and how many of them were metrics.
    pub requests: usize,
    pub metric_requests: usize,
}

fn text_of(attributes: &[KeyValue]) -> HashMap<String, String> {
    attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                Some(Any::StringValue(text)) => text,
                Some(Any::IntValue(n)) => n.to_string(),
                Some(Any::BoolValue(b)) => b.to_string(),
                Some(Any::DoubleValue(d)) => d.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Collector {
    /// A receiver on a free loopback port.
    pub fn start() -> Self {
        Self::start_at("127.0.0.1:0")
    }

    /// A receiver at `addr` (which must be free).
    pub fn start_at(addr: &str) -> Self {
        let listener = TcpListener::bind(addr)
            .unwrap_or_else(|err| panic!("the receiver needs {addr} free: {err}"));
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let (tx, got) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let tx = tx.clone();
                std::thread::spawn(move || serve(stream, &tx));
            }
        });
        Self {
            url,
            got,
            spans: Vec::new(),
            points: Vec::new(),
            requests: 0,
            metric_requests: 0,
        }
    }

    fn take(&mut self, got: Got) {
        self.requests += 1;
        if matches!(got, Got::Metrics(_)) {
            self.metric_requests += 1;
        }
        match got {
            Got::Traces(request) => {
                for resource in request.resource_spans {
                    let attributes = resource
                        .resource
                        .map(|r| text_of(&r.attributes))
                        .unwrap_or_default();
                    let service = attributes.get("service.name").cloned().unwrap_or_default();
                    for scope in resource.scope_spans {
                        for span in scope.spans {
                            self.spans.push(Span {
                                name: span.name,
                                trace_id: hex(&span.trace_id),
                                span_id: hex(&span.span_id),
                                parent: hex(&span.parent_span_id),
                                trace_state: span.trace_state,
                                kind: span.kind,
                                error: span.status.is_some_and(|s| s.code == 2),
                                attributes: text_of(&span.attributes),
                                service: service.clone(),
                            });
                        }
                    }
                }
            }
            Got::Metrics(request) => {
                for resource in request.resource_metrics {
                    for scope in resource.scope_metrics {
                        for metric in scope.metrics {
                            let Some(Data::Sum(sum)) = metric.data else {
                                continue;
                            };
                            for point in sum.data_points {
                                let Some(Number::AsInt(value)) = point.value else {
                                    continue;
                                };
                                self.points.push(Point {
                                    metric: metric.name.clone(),
                                    attributes: text_of(&point.attributes),
                                    value,
                                });
                            }
                        }
                    }
                }
            }
        }
    }

    /// Everything sent so far (after the exporting process exited, that is all it sent:
    /// it waits for each answer before it exits).
    pub fn drain(&mut self) {
        while let Ok(got) = self.got.try_recv() {
            self.take(got);
        }
    }

    /// Waits until `done` holds of what was sent (at most [`WAIT`]).
    pub fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let until = Instant::now() + WAIT;
        while !done(self) {
            let left = until.saturating_duration_since(Instant::now());
            match self.got.recv_timeout(left) {
                Ok(got) => self.take(got),
                Err(_) => panic!(
                    "the receiver never got {what}: spans {:#?}, points {:#?}",
                    self.spans, self.points
                ),
            }
        }
    }

    pub fn named(&self, name: &str) -> Vec<&Span> {
        self.spans.iter().filter(|span| span.name == name).collect()
    }

    pub fn one(&self, name: &str) -> &Span {
        let found = self.named(name);
        assert_eq!(found.len(), 1, "one `{name}` span: {:#?}", self.spans);
        found[0]
    }

    /// The sum of `metric`'s points whose attributes include `with`.
    pub fn count(&self, metric: &str, with: &[(&str, &str)]) -> i64 {
        self.points
            .iter()
            .filter(|point| point.metric == metric)
            .filter(|point| {
                with.iter().all(|(key, value)| {
                    point.attributes.get(*key).map(String::as_str) == Some(value)
                })
            })
            .map(|point| point.value)
            .max()
            .unwrap_or(0)
    }
}

/// Serves one connection: each request's body decoded as the path says, answered 200
/// (400 for what does not decode).
fn serve(stream: TcpStream, tx: &Sender<Got>) {
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut words = line.split_whitespace();
        let method = words.next().unwrap_or_default().to_owned();
        let path = words.next().unwrap_or_default().to_owned();
        let (mut length, mut content_type, mut close) = (0usize, String::new(), false);
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "content-type" => content_type = value.trim().to_owned(),
                    "connection" => close = value.trim().eq_ignore_ascii_case("close"),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let protobuf = content_type == "application/x-protobuf";
        let ok = method == "POST"
            && protobuf
            && match path.as_str() {
                "/v1/traces" => ExportTraceServiceRequest::decode(&body[..])
                    .map(|request| tx.send(Got::Traces(request)))
                    .is_ok(),
                "/v1/metrics" => ExportMetricsServiceRequest::decode(&body[..])
                    .map(|request| tx.send(Got::Metrics(request)))
                    .is_ok(),
                _ => false,
            };
        let status = if ok { "200 OK" } else { "400 Bad Request" };
        let _ = write!(
            writer,
            "HTTP/1.1 {status}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
        );
        let _ = writer.flush();
        if close {
            return;
        }
    }
}
