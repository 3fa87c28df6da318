//! The state on Redis, shared by every replica that names the same database: quota
//! counters (checked and counted by one Lua script, atomic across replicas), legacy
//! sessions' `initialize` parameters (rmcp's `SessionStore`) and sessions' principals.
//!
//! Keys (`<app>` is the program's name, so that two programs can share a database):
//! `cnv:<app>:q:{<principal, hex>}:<quota>` a quota's counter, expiring when its window
//! ends; `cnv:<app>:session:<id>` and `cnv:<app>:principal:<id>`, expiring a day after
//! the session was made; `cnv:<app>:events:{<stream>}`, a stream's messages for
//! resumption, expiring an hour after its last one. A principal's counters share one hash tag, so that the script's
//! keys are in one slot of a Redis Cluster.
//!
//! The connection is redis's `ConnectionManager`, which reconnects by itself: while
//! Redis is away every operation fails at once (after at most the response timeout) and
//! the calls that needed it are refused; once it is back the next operation reconnects.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use futures::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rmcp::transport::streamable_http_server::session::store::{
    EventId, EventStore, EventStoreError, EventStream, SessionState, SessionStoreError,
};
use rmcp::transport::streamable_http_server::session::{ServerSseMessage, SessionStore};

use super::{Charged, Counter, Principal, StateBackend, StateError, without_password};

/// How long a connection or an answer may take before the operation fails.
const TIMEOUT: Duration = Duration::from_secs(2);

/// How long a legacy session is kept for other replicas to restore.
const SESSION_TTL: Duration = Duration::from_secs(24 * 3600);

/// Checks every counter (`KEYS`, with `ARGV` = calls, window in ms, for each) and, when
/// each has room, counts the call against all of them; a counter's window starts with
/// its first call. Returns `{0, 0}` when admitted, else `{index from 1, ms until it
/// frees}`.
const CHARGE: &str = r"
for i = 1, #KEYS do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
      ttl = tonumber(ARGV[2 * i])
    end
    return {i, ttl}
  end
end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
  end
end
return {0, 0}
";

/// The Redis backend.
#[derive(Clone)]
pub(crate) struct RedisState {
    described: Arc<str>,
    prefix: Arc<str>,
    connection: ConnectionManager,
    charge: redis::Script,
    /// The last event number given ([`RedisState::next_number`]).
    numbers: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("at", &self.described)
            .finish_non_exhaustive()
    }
}

impl RedisState {
    /// Connects to the Redis at `url` for the program `app`, and checks that it answers.
    ///
    /// # Errors
    ///
    /// When the URL is not Redis's, or Redis cannot be reached or does not answer.
    pub(crate) async fn connect(url: &str, app: &str) -> Result<Arc<Self>, StateError> {
        let described: Arc<str> = Arc::from(without_password(url));
        let failed = |reason: String| StateError {
            backend: described.to_string(),
            reason,
        };
        let client = redis::Client::open(url)
            .map_err(|err| failed(format!("the URL is not one of Redis ({err})")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connect = client.get_connection_manager_with_config(config);
        let mut connection = tokio::time::timeout(TIMEOUT * 2, connect)
            .await
            .map_err(|_| failed("it did not answer in time".to_owned()))?
            .map_err(|err| failed(err.to_string()))?;
        let _pong: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(|err| failed(err.to_string()))?;
        Ok(Arc::new(Self {
            prefix: Arc::from(format!("cnv:{app}:")),
            described,
            connection,
            charge: redis::Script::new(CHARGE),
            numbers: Arc::new(AtomicU64::new(0)),
        }))
    }

    fn error(&self, err: &redis::RedisError) -> StateError {
        StateError {
            backend: self.described.to_string(),
            reason: err.to_string(),
        }
    }

    fn session_key(&self, session: &str) -> String {
        format!("{}session:{session}", self.prefix)
    }

    fn principal_key(&self, session: &str) -> String {
        format!("{}principal:{session}", self.prefix)
    }

    /// The counter of `quota` for `principal` (hex, so that no principal can reach into
    /// another's key or hash tag).
    fn counter_key(&self, principal: &Principal, quota: &str) -> String {
        let mut key = format!("{}q:{{", self.prefix);
        for byte in principal.as_str().bytes() {
            let _ = write!(key, "{byte:02x}");
        }
        key.push_str("}:");
        key.push_str(quota);
        key
    }
}

impl StateBackend for RedisState {
    fn charge<'a>(
        &'a self,
        principal: &'a Principal,
        counters: &'a [Counter<'a>],
    ) -> BoxFuture<'a, Result<Charged, StateError>> {
        async move {
            let mut invocation = self.charge.prepare_invoke();
            for counter in counters {
                let window_ms = u64::try_from(counter.window.as_millis()).unwrap_or(u64::MAX);
                invocation
                    .key(self.counter_key(principal, counter.name))
                    .arg(counter.calls)
                    .arg(window_ms);
            }
            let mut connection = self.connection.clone();
            let answer: (i64, i64) = invocation
                .invoke_async(&mut connection)
                .await
                .map_err(|err| self.error(&err))?;
            Ok(match answer {
                (0, _) => Charged::Admitted,
                (index, ms) => Charged::Over {
                    index: usize::try_from(index - 1).unwrap_or(0),
                    frees_in: Duration::from_millis(u64::try_from(ms).unwrap_or(0)),
                },
            })
        }
        .boxed()
    }

    fn bind_session<'a>(
        &'a self,
        session: &'a str,
        principal: &'a Principal,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        async move {
            let mut connection = self.connection.clone();
            connection
                .set_ex::<_, _, ()>(
                    self.principal_key(session),
                    principal.as_str(),
                    SESSION_TTL.as_secs(),
                )
                .await
                .map_err(|err| self.error(&err))
        }
        .boxed()
    }

    fn session_principal<'a>(
        &'a self,
        session: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, StateError>> {
        async move {
            let mut connection = self.connection.clone();
            let principal: Option<String> = connection
                .get(self.principal_key(session))
                .await
                .map_err(|err| self.error(&err))?;
            Ok(principal.map(|name| Principal::new(&name)))
        }
        .boxed()
    }

    fn session_store(&self) -> Option<Arc<dyn SessionStore>> {
        Some(Arc::new(self.clone()))
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        Some(Arc::new(self.clone()))
    }
}

/// How long a stream's events are kept for a client to resume from, after its last one.
const EVENTS_TTL: Duration = Duration::from_secs(3600);

impl RedisState {
    fn events_key(&self, stream: &str) -> String {
        format!("{}events:{{{stream}}}", self.prefix)
    }

    /// The next event number: the time in microseconds, or one more than the last number
    /// when that is later, so that the numbers of this replica only grow and those of
    /// replicas that serve one session in turn follow the clock.
    fn next_number(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
            });
        let previous = self
            .numbers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last.saturating_add(1)))
            })
            .unwrap_or_else(|last| last);
        now.max(previous.saturating_add(1))
    }
}

/// Resumption (`Last-Event-ID`) on any replica: each message a stream of a legacy session
/// sends is added to the stream's sorted set in Redis, scored by its number, and its id
/// (`<stream>/<number>`) names the set and the place in it; a client that resumes after
/// an id at any replica gets the messages numbered after it. An event without a message
/// (the retry hint that opens a stream) is numbered and not stored.
///
/// A message is in Redis before its id is returned (and so before the client can see it):
/// one round trip per message, none for the retry hint. A write that fails (Redis away)
/// leaves that message unresumable; the call it answers is served all the same: a call
/// under no quota does not need the shared state.
#[async_trait::async_trait]
impl EventStore for RedisState {
    async fn store_event(
        &self,
        stream_id: &str,
        event: &ServerSseMessage,
    ) -> Result<EventId, EventStoreError> {
        let number = self.next_number();
        if let Some(message) = &event.message {
            // Numbered in the member too: two equal messages of a stream stay two.
            let member = format!("{number} {}", serde_json::to_string(message.as_ref())?);
            let key = self.events_key(stream_id);
            let mut connection = self.connection.clone();
            let ttl = i64::try_from(EVENTS_TTL.as_millis()).unwrap_or(i64::MAX);
            let _unresumable: Result<(), _> = redis::pipe()
                .atomic()
                .zadd(&key, member, number)
                .ignore()
                .pexpire(&key, ttl)
                .ignore()
                .query_async(&mut connection)
                .await;
        }
        Ok(format!("{stream_id}/{number}"))
    }

    async fn replay_events_after(
        &self,
        last_event_id: &str,
    ) -> Result<EventStream, EventStoreError> {
        let Some((stream, number)) = last_event_id
            .rsplit_once('/')
            .and_then(|(stream, number)| Some((stream, number.parse::<u64>().ok()?)))
        else {
            return Err(format!(
                "the event id {last_event_id:?} is not one this server can resume from; send the request again"
            )
            .into());
        };
        let mut connection = self.connection.clone();
        let after: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.events_key(stream))
            .arg(format!("({number}"))
            .arg("+inf")
            .query_async(&mut connection)
            .await?;
        let mut events = Vec::with_capacity(after.len());
        for member in after {
            let Some((number, json)) = member.split_once(' ') else {
                continue;
            };
            let id = format!("{stream}/{number}");
            events.push(ServerSseMessage::new(id, serde_json::from_str(json)?));
        }
        Ok(Box::pin(futures::stream::iter(events)))
    }
}

#[async_trait::async_trait]
impl SessionStore for RedisState {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let mut connection = self.connection.clone();
        let stored: Option<String> = connection.get(self.session_key(session_id)).await?;
        stored
            .map(|json| serde_json::from_str(&json).map_err(Into::into))
            .transpose()
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let json = serde_json::to_string(state)?;
        let mut connection = self.connection.clone();
        connection
            .set_ex::<_, _, ()>(self.session_key(session_id), json, SESSION_TTL.as_secs())
            .await?;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        let mut connection = self.connection.clone();
        connection
            .del::<_, ()>(&[self.session_key(session_id), self.principal_key(session_id)])
            .await?;
        Ok(())
    }
}
