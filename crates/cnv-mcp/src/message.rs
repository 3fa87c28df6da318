//! What a client's message may be, checked while it is read: at most the operator's
//! number of bytes, and at most one JSON value per [`BYTES_PER_VALUE`] bytes of that cap,
//! so that parsing it (rmcp's types, then the call's arguments, its command line and its
//! audit record) holds no more than a small multiple of the cap in memory whatever its
//! shape. A message of a few megabytes made of `[1,1,1,…]` used to grow to hundreds of
//! megabytes on its way to being refused; counted here, it is refused at the value past
//! the limit, before anything is parsed.
//!
//! Both transports count with [`ValueCount`] as bytes arrive (stdio: a line; HTTP: a
//! body, after its length was checked against the cap), and answer a refused message
//! with [`leading_id`]'s id when its first bytes name one.

use serde_json::Value;

/// Bytes of the message cap per JSON value a message may hold: 64, so 65,536 values at
/// the default 4 MiB. Each value costs a few hundred bytes once parsed and carried to the
/// command line, so a message at both limits stays within a small multiple of the cap.
pub(crate) const BYTES_PER_VALUE: usize = 64;

/// The most JSON values a message of a server whose cap is `max_bytes` may hold.
pub(crate) const fn max_values(max_bytes: usize) -> usize {
    let values = max_bytes / BYTES_PER_VALUE;
    if values == 0 { 1 } else { values }
}

/// Why a message was refused while it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Longer than the cap (in bytes).
    TooLong(usize),
    /// More JSON values than the cap allows.
    TooManyValues(usize),
}

impl Refused {
    /// What the client is told (a JSON-RPC error's message).
    pub(crate) fn message(self) -> String {
        match self {
            Self::TooLong(max) => format!(
                "the message is longer than {max} bytes, the most this server reads in one message; send a smaller one"
            ),
            Self::TooManyValues(max) => format!(
                "the message holds more than {max} JSON values (array elements and object members), the most this server reads in one message; send fewer"
            ),
        }
    }
}

/// Counts the JSON values of a message as its bytes arrive: each `[` and `{` and each `,`
/// outside a string (an upper bound of the elements and members, without parsing).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ValueCount {
    values: usize,
    in_string: bool,
    escaped: bool,
}

impl ValueCount {
    /// Counts `byte`; returns whether the message now holds more than `max` values.
    #[inline]
    pub(crate) fn over(&mut self, byte: u8, max: usize) -> bool {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.in_string = false;
            }
            return false;
        }
        match byte {
            b'"' => self.in_string = true,
            b'[' | b'{' | b',' => {
                self.values += 1;
                return self.values > max;
            }
            _ => {}
        }
        false
    }

    /// Whether the whole of `bytes` holds more than `max` values.
    pub(crate) fn exceeds(bytes: &[u8], max: usize) -> bool {
        let mut count = Self::default();
        bytes.iter().any(|&byte| count.over(byte, max))
    }
}

/// How much of a refused message [`leading_id`] reads.
pub(crate) const ID_PREFIX: usize = 1024;

/// The `id` of a JSON-RPC message, read from its first bytes only (a message refused for
/// its size is never parsed whole): a string or an integer among the top-level members
/// before the prefix ends, as clients write `{"jsonrpc":"2.0","id":7,…}`.
pub(crate) fn leading_id(prefix: &[u8]) -> Option<Value> {
    let prefix = &prefix[..prefix.len().min(ID_PREFIX)];
    let mut at = skip_space(prefix, 0);
    if prefix.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_space(prefix, at);
        let key_end = string_end(prefix, at)?;
        let key = &prefix[at..key_end];
        at = skip_space(prefix, key_end);
        if prefix.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(prefix, at + 1);
        let value_end = value_end(prefix, at)?;
        if key == b"\"id\"" {
            let id: Value = serde_json::from_slice(&prefix[at..value_end]).ok()?;
            return (id.is_string() || id.is_i64() || id.is_u64()).then_some(id);
        }
        at = skip_space(prefix, value_end);
        match prefix.get(at) {
            Some(b',') => at += 1,
            _ => return None,
        }
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The end (past its closing quote) of the string that starts at `at`.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut escaped = false;
    for (offset, &byte) in bytes.get(at + 1..)?.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(at + 1 + offset + 1),
            _ => {}
        }
    }
    None
}

/// The end of the JSON value that starts at `at`, if it ends within `bytes`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut count = ValueCount::default();
            for (offset, &byte) in bytes.get(at..)?.iter().enumerate() {
                let in_string = count.in_string;
                count.over(byte, usize::MAX);
                if in_string || count.in_string {
                    continue;
                }
                match byte {
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + offset + 1);
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        _ => {
            let len = bytes
                .get(at..)?
                .iter()
                .position(|&b| b == b',' || b == b'}' || b == b']' || b.is_ascii_whitespace())?;
            Some(at + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_counted_outside_strings_only() {
        let count = |text: &str| {
            let mut count = ValueCount::default();
            for byte in text.bytes() {
                count.over(byte, usize::MAX);
            }
            count.values
        };
        assert_eq!(count(r#"{"a":[1,2,3],"b":{}}"#), 6);
        assert_eq!(count(r#"{"a":"[,{\",\\","b":1}"#), 2);
        assert!(ValueCount::exceeds(b"[1,1,1,1]", 3));
        assert!(!ValueCount::exceeds(b"[1,1,1]", 3));
        assert_eq!(max_values(4 * 1024 * 1024), 65_536);
    }

    #[test]
    fn the_leading_id_is_read_from_the_first_bytes() {
        let id = |text: &str| leading_id(text.as_bytes());
        assert_eq!(
            id(r#"{"jsonrpc":"2.0","id":7,"method":"x"}"#),
            Some(json!(7))
        );
        assert_eq!(
            id(r#" { "method" : "a,b}" , "params":{"x":[1,{"id":2}]}, "id" : "q\"1" "#),
            Some(json!("q\"1"))
        );
        assert_eq!(id(r#"{"jsonrpc":"2.0","params":{"a":"#), None);
        assert_eq!(id(r#"{"id":null}"#), None);
        assert_eq!(id("xxxx"), None);
        let long = format!(
            r#"{{"jsonrpc":"2.0","id":12,"params":"{}"#,
            "x".repeat(5000)
        );
        assert_eq!(id(&long), Some(json!(12)));
    }
}
