//! The state a server's replicas may share, behind one trait ([`StateBackend`]) with two
//! backends: in this process ([`memory`], the default, no setup) and Redis ([`redis`],
//! chosen by the operator with [`MCP_STATE_ENV`](crate::MCP_STATE_ENV) or
//! [`McpBuilder::mcp_state`](crate::McpBuilder::mcp_state)).
//!
//! Through it go: the quota counters of each principal (one atomic step per call, across
//! every replica), the legacy sessions' `initialize` parameters (rmcp's `SessionStore`, so
//! that a session initialized on one replica goes on at another with the same
//! `Mcp-Session-Id`), and the principal each session belongs to. What stays per replica:
//! the session registry (a replica's own open sessions), the calls under way and their
//! places, and the audit trail.

pub(crate) mod memory;
pub(crate) mod redis;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rmcp::transport::streamable_http_server::session::SessionStore;
use rmcp::transport::streamable_http_server::session::store::EventStore;

use crate::McpError;

/// Who makes a call: the authenticated caller where the server checks callers, else the
/// one `anonymous` principal of the server. Quotas are counted per principal, and a
/// session stays its principal's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Principal(Arc<str>);

impl Principal {
    /// The longest principal kept, in bytes: it becomes a key in the shared state.
    const MAX_LEN: usize = 512;

    /// The principal of every call when the server authenticates no one.
    pub(crate) fn anonymous() -> Self {
        Self(Arc::from("anonymous"))
    }

    /// The principal `name` (an authenticated subject), cut to a sane length.
    pub(crate) fn new(name: &str) -> Self {
        let mut end = name.len().min(Self::MAX_LEN);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        Self(Arc::from(&name[..end]))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One counter a call is charged to: a quota's, of one principal.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counter<'a> {
    /// The quota as written (`calc.sum=5/min`): with the principal, the counter's name.
    pub(crate) name: &'a str,
    /// The calls its window holds.
    pub(crate) calls: u32,
    /// How long its window lasts from the first call counted.
    pub(crate) window: Duration,
}

/// What charging a call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charged {
    /// Every counter had room: the call counts against each.
    Admitted,
    /// The counter at this index is full until its window ends, in `frees_in`; the call
    /// counts against none.
    Over { index: usize, frees_in: Duration },
}

/// The shared state cannot be reached or did not answer as it should.
#[derive(Clone, Debug, thiserror::Error)]
#[error("the shared state at {backend} is unavailable: {reason}")]
pub(crate) struct StateError {
    /// The backend, as the operator named it (its password left out).
    pub(crate) backend: String,
    /// What went wrong.
    pub(crate) reason: String,
}

/// The state a server's replicas share (see the module documentation).
pub(crate) trait StateBackend: Send + Sync + 'static {
    /// Charges one call of `principal` to every one of `counters`, atomically: when each
    /// has room the call counts against all of them, else against none.
    fn charge<'a>(
        &'a self,
        principal: &'a Principal,
        counters: &'a [Counter<'a>],
    ) -> BoxFuture<'a, Result<Charged, StateError>>;

    /// Records that the legacy session `session` belongs to `principal`.
    fn bind_session<'a>(
        &'a self,
        session: &'a str,
        principal: &'a Principal,
    ) -> BoxFuture<'a, Result<(), StateError>>;

    /// The principal the legacy session `session` belongs to, if it is known.
    fn session_principal<'a>(
        &'a self,
        session: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, StateError>>;

    /// Where rmcp keeps the legacy sessions' `initialize` parameters so that another
    /// replica can restore them (`None`: sessions live in this process only).
    fn session_store(&self) -> Option<Arc<dyn SessionStore>>;

    /// Where rmcp keeps the legacy sessions' SSE events so that a client can resume a
    /// stream (`Last-Event-ID`) at another replica (`None`: each replica's own cache).
    fn event_store(&self) -> Option<Arc<dyn EventStore>>;
}

/// The operator's choice of backend: a value of [`MCP_STATE_ENV`](crate::MCP_STATE_ENV)
/// or of [`McpBuilder::mcp_state`](crate::McpBuilder::mcp_state).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum StateChoice {
    /// In this process.
    Memory,
    /// Redis at this URL (`redis://HOST:PORT/DB`).
    Redis(String),
}

impl StateChoice {
    /// `value` as a choice: `memory`, or a `redis://` (or `rediss://`) URL.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value == "memory" {
            Some(Self::Memory)
        } else if value.starts_with("redis://") || value.starts_with("rediss://") {
            Some(Self::Redis(value.to_owned()))
        } else {
            None
        }
    }

    /// The backend chosen, connected (Redis answers, or this is an error).
    pub(crate) async fn connect(&self, app: &str) -> Result<Arc<dyn StateBackend>, McpError> {
        match self {
            Self::Memory => Ok(memory::MemoryState::new()),
            Self::Redis(url) => match redis::RedisState::connect(url, app).await {
                Ok(state) => Ok(state),
                Err(err) => Err(McpError::State(err.to_string())),
            },
        }
    }
}

impl fmt::Debug for StateChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory => f.write_str("Memory"),
            Self::Redis(url) => f
                .debug_tuple("Redis")
                .field(&without_password(url))
                .finish(),
        }
    }
}

/// A URL without its password (`redis://user:secret@host` → `redis://user:***@host`),
/// for messages.
pub(crate) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let shown = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("***@{host}"),
        },
        None => authority.to_owned(),
    };
    if path.is_empty() && !rest.contains('/') {
        format!("{scheme}://{shown}")
    } else {
        format!("{scheme}://{shown}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            without_password("redis://user:secret@db:6379/2"),
            "redis://user:***@db:6379/2"
        );
        assert_eq!(
            without_password("redis://:secret@db:6379"),
            "redis://:***@db:6379"
        );
        assert_eq!(
            without_password("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
    }

    #[test]
    fn the_operator_chooses_memory_or_a_redis_url() {
        assert_eq!(StateChoice::parse(" memory "), Some(StateChoice::Memory));
        assert_eq!(
            StateChoice::parse("redis://127.0.0.1:6379/0"),
            Some(StateChoice::Redis("redis://127.0.0.1:6379/0".into()))
        );
        assert_eq!(StateChoice::parse("postgres://db"), None);
    }
}
