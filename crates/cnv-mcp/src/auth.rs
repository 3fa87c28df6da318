//! Who is calling: the MCP server over HTTP as an OAuth 2.1 resource server.
//!
//! With the operator's identity settings ([`AuthSettings`]), every request to `/mcp`
//! carries `Authorization: Bearer <token>`, and the token is one of two kinds, told apart
//! by its shape:
//!
//! * a **JWT access token** (three base64url parts joined by two `.`), verified against
//!   the authorization server's JWKS ([`JwksCache`]: fetched at start, refreshed when a
//!   token names a key it does not have, at most once a minute) for the configured
//!   issuer and audience (`cnv_token::AccessPolicy`); its `cnv:` scopes bound what it
//!   may call;
//! * a **capability token** (`cnv-token`'s biscuit: base64url without a `.`), verified
//!   offline against the operator's public token key, its every block's checks holding
//!   for each call (scopes, expiry, call budget), with the chain of delegates.
//!
//! The verified caller ([`Caller`]) travels with the request (its extensions) to the
//! handler: the one place a call's principal is read, for the audit trail and anything
//! keyed on who calls. A server without identity settings serves every request as
//! [`Caller::anonymous`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cnv_audit::{CallPrincipal, DelegationLink};
use cnv_caps::CapabilityClass;
use cnv_token::{
    AccessPolicy, BearerError, CallCounter, Capability, KeySet, MemoryCounter, Request, Scope,
    Scopes, TokenPublicKey,
};
use rmcp::model::Extensions;
use serde_json::json;

use crate::McpError;

/// How often the JWKS may be fetched again because a token named a key it lacks.
pub(crate) const JWKS_REFRESH: Duration = Duration::from_secs(60);

/// How long fetching the JWKS over HTTP may take.
const JWKS_FETCH_TIME: Duration = Duration::from_secs(10);

/// The largest JWKS document read, in bytes.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// The issuer a capability token's principal is recorded under: `cnv-token:` and the
/// operator's public token key.
const CAPABILITY_ISSUER: &str = "cnv-token:";

/// How long a verified token is taken again without verifying its signature: at most
/// this, never past its `exp` (with the leeway), and never across a change of the keys.
const VERIFIED_FOR: Duration = Duration::from_secs(60);

/// The most verified tokens remembered (the expired ones are dropped when it is reached,
/// and all of them if none has expired).
const MAX_VERIFIED: usize = 1024;

/// The longest token remembered, in bytes.
const MAX_VERIFIED_TOKEN: usize = 8 * 1024;

/// Where the JWKS comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JwksSource {
    /// An `http://` URL (fetched with a GET).
    Url(String),
    /// A file holding the JWKS document (read again on a refresh).
    File(PathBuf),
}

impl JwksSource {
    /// The source `text` names: an `http://` URL, or a file path. `https://` is refused:
    /// this build has no TLS client (put the JWKS in a file, or fetch it through a proxy
    /// on loopback).
    pub(crate) fn parse(text: &str) -> Result<Self, &'static str> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("https://") {
            Err(
                "an http:// URL or a file path: this build of the server has no TLS client, so an https:// JWKS cannot be fetched; save the JWKS to a file (and refresh it with a job of yours) or serve it over http on loopback",
            )
        } else if lower.starts_with("http://") {
            Ok(Self::Url(text.to_owned()))
        } else if lower.contains("://") {
            Err("an http:// URL or a file path")
        } else {
            Ok(Self::File(PathBuf::from(text)))
        }
    }
}

/// The operator's identity settings, resolved: what the server accepts as bearer tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthSettings {
    /// This server's resource identifier: the audience access tokens must name, and the
    /// `resource` of its metadata.
    pub(crate) audience: String,
    /// Access tokens: the issuer they must name, and where its JWKS is.
    pub(crate) jwt: Option<(String, JwksSource)>,
    /// Capability tokens: the operator's public token key file.
    pub(crate) token_key: Option<PathBuf>,
}

/// The authorization server's keys, as last fetched, and when they were.
pub(crate) struct JwksCache {
    source: JwksSource,
    keys: RwLock<Arc<KeySet>>,
    /// When the keys were last fetched (or tried); held while fetching, so that one
    /// fetch serves every request that waited for it.
    fetched: tokio::sync::Mutex<Instant>,
    /// The least time between two fetches ([`JWKS_REFRESH`]).
    pub(crate) refresh: Duration,
    http: reqwest::Client,
    /// How many times new keys were installed: a token verified with older keys is
    /// verified again.
    generation: AtomicU64,
}

impl JwksCache {
    /// The keys of `source`, fetched now.
    ///
    /// # Errors
    ///
    /// What stopped the fetch, or a document that is not a JWKS.
    pub(crate) async fn new(source: JwksSource) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(JWKS_FETCH_TIME)
            .build()
            .map_err(|err| err.to_string())?;
        let keys = fetch(&source, &http).await?;
        Ok(Self {
            source,
            keys: RwLock::new(Arc::new(keys)),
            fetched: tokio::sync::Mutex::new(Instant::now()),
            refresh: JWKS_REFRESH,
            http,
            generation: AtomicU64::new(0),
        })
    }

    /// How many times new keys were installed since the first.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Verifies `token` with the cached keys; when it names a key they lack, fetches the
    /// keys again (unless they were fetched less than [`refresh`](Self::refresh) ago)
    /// and tries once more.
    pub(crate) async fn verify(
        &self,
        policy: &AccessPolicy,
        token: &str,
    ) -> Result<cnv_token::Access, BearerError> {
        match policy.verify(token, &self.current()) {
            Err(BearerError::UnknownKey { .. }) if self.refreshed().await => {
                policy.verify(token, &self.current())
            }
            verified => verified,
        }
    }

    /// Fetches the keys again if the last fetch is old enough; whether new keys were
    /// installed. A failed fetch keeps the old keys (and counts as a fetch).
    async fn refreshed(&self) -> bool {
        let mut fetched = self.fetched.lock().await;
        if fetched.elapsed() < self.refresh {
            return false;
        }
        *fetched = Instant::now();
        match fetch(&self.source, &self.http).await {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
                self.generation.fetch_add(1, Ordering::SeqCst);
                true
            }
            Err(_) => false,
        }
    }
}

/// Reads the JWKS of `source`.
async fn fetch(source: &JwksSource, http: &reqwest::Client) -> Result<KeySet, String> {
    let bytes = match source {
        JwksSource::Url(url) => {
            let response = http
                .get(url)
                .send()
                .await
                .map_err(|err| format!("cannot fetch {url}: {err}"))?;
            if !response.status().is_success() {
                return Err(format!("{url} answered {}", response.status()));
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|err| format!("cannot read {url}: {err}"))?;
            bytes.to_vec()
        }
        JwksSource::File(path) => tokio::fs::read(path)
            .await
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?,
    };
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(format!(
            "the JWKS is {} bytes, more than the {MAX_JWKS_BYTES} read",
            bytes.len()
        ));
    }
    KeySet::from_jwks(&bytes).map_err(|err| err.to_string())
}

/// What a verified token grants.
#[derive(Clone)]
enum Grant {
    /// No token is asked for: the gate alone decides.
    Everything,
    /// An access token's `cnv:` scopes.
    Scopes(Scopes),
    /// A capability token, with the counters of its call budgets.
    Capability {
        capability: Arc<Capability>,
        counter: Arc<dyn CallCounter>,
    },
}

/// Who is calling, as the server verified them, and what their token grants: carried
/// with every request (its extensions) to the handler, and read in one place
/// ([`caller`]). Over stdio, and over HTTP without identity settings, every caller is
/// [`anonymous`](Self::anonymous).
#[derive(Clone)]
pub(crate) struct Caller {
    principal: Option<CallPrincipal>,
    grant: Grant,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// Why a call is beyond its caller's token: what to tell the caller (403) and the
/// audit trail, and a scope that would grant it.
#[derive(Clone, Debug)]
pub(crate) struct NotGranted {
    pub(crate) message: String,
    pub(crate) scope: String,
}

impl Caller {
    /// A caller no token names: a server that takes no tokens serves every request so.
    pub(crate) fn anonymous() -> Self {
        Self {
            principal: None,
            grant: Grant::Everything,
        }
    }

    /// Who the token names (`None`: anonymous), as the audit trail records them.
    pub(crate) fn principal(&self) -> Option<&CallPrincipal> {
        self.principal.as_ref()
    }

    /// A key naming the principal, for what is kept per caller: `anonymous`, or the
    /// issuer, subject, client and delegates, each quoted.
    pub(crate) fn key(&self) -> String {
        match &self.principal {
            None => "anonymous".to_owned(),
            Some(principal) => {
                let delegates: Vec<&str> = principal
                    .chain
                    .iter()
                    .map(|link| link.to.as_deref().unwrap_or(""))
                    .collect();
                format!(
                    "{:?} {:?} {:?} {:?}",
                    principal.issuer, principal.subject, principal.client_id, delegates
                )
            }
        }
    }

    /// Whether `tools/list` shows this caller the verb `command` of `class`: whether its
    /// token would grant a call of it now (without counting one).
    pub(crate) fn lists(&self, class: CapabilityClass, command: &str) -> bool {
        match &self.grant {
            Grant::Everything => true,
            Grant::Scopes(scopes) => scopes.grants(class, command),
            Grant::Capability {
                capability,
                counter,
            } => {
                confined_out(capability, class).is_none()
                    && counter.peek(&capability.budget_keys()).is_ok_and(|calls| {
                        capability
                            .authorize(&Request::new(class, command).with_calls(&calls))
                            .is_ok()
                    })
            }
        }
    }

    /// Whether this caller's token grants a call of `command` (of `class`) now; for a
    /// capability token the call is counted against its budgets.
    pub(crate) fn admit(&self, class: CapabilityClass, command: &str) -> Result<(), NotGranted> {
        let scope = Scope::verb(command).to_string();
        match &self.grant {
            Grant::Everything => Ok(()),
            Grant::Scopes(scopes) if scopes.grants(class, command) => Ok(()),
            Grant::Scopes(_) => Err(NotGranted {
                message: format!(
                    "the caller's access token grants no scope that reaches `{command}` ({class}): it needs `{scope}` or `cnv:{class}`"
                ),
                scope,
            }),
            Grant::Capability {
                capability,
                counter,
            } => {
                if let Some(dir) = confined_out(capability, class) {
                    return Err(NotGranted {
                        message: format!(
                            "the caller's capability token confines its calls to the workspace directory `{dir}`, and this server cannot run a `{class}` call confined to a sub-directory: ask for a token without that bound"
                        ),
                        scope,
                    });
                }
                let keys = capability.budget_keys();
                let calls = counter.reserve(&keys).map_err(|err| NotGranted {
                    message: err.to_string(),
                    scope: scope.clone(),
                })?;
                capability
                    .authorize(&Request::new(class, command).with_calls(&calls))
                    .map_err(|err| {
                        counter.release(&keys);
                        NotGranted {
                            message: err.to_string(),
                            scope,
                        }
                    })
            }
        }
    }
}

/// The workspace directory a capability token confines its calls to, when a call of
/// `class` would reach the workspace and so cannot be confined: the server runs a call
/// in the operator's whole workspace, never in a part of it.
fn confined_out(capability: &Capability, class: CapabilityClass) -> Option<&str> {
    let dir = capability.workspace();
    if dir.is_empty() {
        return None;
    }
    let reaches_workspace = match class {
        CapabilityClass::Pure | CapabilityClass::Environment | CapabilityClass::Network => false,
        CapabilityClass::ReadOnlyFS
        | CapabilityClass::ReadWriteFS
        | CapabilityClass::Subprocess
        | CapabilityClass::Dangerous => true,
    };
    reaches_workspace.then_some(dir)
}

/// The caller of a request, as the HTTP edge put it in the request's extensions (rmcp
/// hands the request's `Parts` to the handler); [`Caller::anonymous`] over stdio.
pub(crate) fn caller(extensions: &Extensions) -> Caller {
    extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .cloned()
        .unwrap_or_else(Caller::anonymous)
}

/// Why a request's bearer token was not accepted (HTTP 401, or 400 for a token in the
/// query string).
#[derive(Clone, Debug)]
pub(crate) enum Unauthenticated {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A token was sent and refused: why.
    Invalid(String),
    /// The token came in the query string, which no request may do.
    InQuery,
}

impl Unauthenticated {
    /// In words, for the audit trail.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Missing => "the request carried no bearer token (Authorization: Bearer)".to_owned(),
            // The verifier's own sentence: "the token was refused: it has expired".
            Self::Invalid(why) => why.clone(),
            Self::InQuery => "the request carried an access token in its query string, which the server never reads there".to_owned(),
        }
    }
}

/// The server's identity check: its settings, its keys, and its metadata.
pub(crate) struct Auth {
    policy: Option<(AccessPolicy, JwksCache)>,
    token_key: Option<TokenPublicKey>,
    counter: Arc<MemoryCounter>,
    /// Tokens verified lately, and who they named: the signature of a token a client
    /// sends with every request is checked once a minute, not at every request.
    verified: Verified,
    /// The URL of the protected resource metadata (RFC 9728), for `WWW-Authenticate`.
    metadata_url: String,
    /// The metadata document.
    metadata: String,
}

impl Auth {
    /// The identity check `settings` describe, its JWKS fetched now; `scopes` are the
    /// scopes the metadata lists.
    ///
    /// # Errors
    ///
    /// [`McpError::Auth`] when the JWKS or the token key cannot be read.
    pub(crate) async fn new(
        settings: &AuthSettings,
        scopes: Vec<String>,
    ) -> Result<Self, McpError> {
        let policy = match &settings.jwt {
            Some((issuer, source)) => {
                let cache = JwksCache::new(source.clone()).await.map_err(|reason| {
                    McpError::Auth(format!(
                        "the authorization server's JWKS ({}) cannot be used: {reason}",
                        crate::MCP_AUTH_JWKS_ENV
                    ))
                })?;
                Some((AccessPolicy::new(issuer, &settings.audience), cache))
            }
            None => None,
        };
        let token_key = match &settings.token_key {
            Some(path) => Some(TokenPublicKey::load(path).map_err(|err| {
                McpError::Auth(format!(
                    "the operator's token key ({}) cannot be used: {err}",
                    crate::MCP_TOKEN_KEY_ENV
                ))
            })?),
            None => None,
        };
        let metadata_url = metadata_url(&settings.audience);
        let servers: Vec<&str> = settings
            .jwt
            .iter()
            .map(|(issuer, _)| issuer.as_str())
            .collect();
        let metadata = json!({
            "resource": settings.audience,
            "authorization_servers": servers,
            "scopes_supported": scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "cnv MCP server",
        })
        .to_string();
        Ok(Self {
            policy,
            token_key,
            counter: Arc::new(MemoryCounter::new()),
            verified: Verified::default(),
            metadata_url,
            metadata,
        })
    }

    /// The metadata document (RFC 9728).
    pub(crate) fn metadata(&self) -> &str {
        &self.metadata
    }

    /// Who sent a request with `headers` and `query`: its bearer token verified.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Caller, Unauthenticated> {
        if query.is_some_and(token_in_query) {
            return Err(Unauthenticated::InQuery);
        }
        let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Err(Unauthenticated::Missing);
        };
        if values.next().is_some() {
            return Err(Unauthenticated::Invalid(
                "the request has more than one Authorization header".to_owned(),
            ));
        }
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Unauthenticated::Invalid(
                    "the Authorization header is not `Bearer <token>`".to_owned(),
                )
            })?;
        let generation = self.keys_generation();
        if let Some(caller) = self.verified.get(token, generation) {
            return Ok(caller);
        }
        let (caller, until) = if token.bytes().filter(|byte| *byte == b'.').count() == 2 {
            let caller = self.access_token(token).await?;
            let Some(until) = access_token_expiry(token) else {
                // No `exp` it can read (the verifier demands one): not remembered.
                return Ok(caller);
            };
            (caller, Some(until))
        } else {
            // A capability token's expiry is one of its checks, decided at each call.
            (self.capability_token(token)?, None)
        };
        // Verified with the keys of `generation` or newer: remembered under the older,
        // so a refresh in between only makes it verified again.
        self.verified.insert(token, &caller, until, generation);
        Ok(caller)
    }

    /// How many times the JWKS was replaced (0 without access tokens).
    fn keys_generation(&self) -> u64 {
        self.policy
            .as_ref()
            .map_or(0, |(_, keys)| keys.generation())
    }

    async fn access_token(&self, token: &str) -> Result<Caller, Unauthenticated> {
        let Some((policy, keys)) = &self.policy else {
            return Err(Unauthenticated::Invalid(format!(
                "the token is a JWT, and this server takes no access tokens (the operator set no {})",
                crate::MCP_AUTH_ISSUER_ENV
            )));
        };
        let access = keys
            .verify(policy, token)
            .await
            .map_err(|err| Unauthenticated::Invalid(err.to_string()))?;
        let principal = access.principal;
        Ok(Caller {
            principal: Some(
                CallPrincipal::new(principal.issuer, principal.subject)
                    .with_client(principal.client_id),
            ),
            grant: Grant::Scopes(access.scopes),
        })
    }

    fn capability_token(&self, token: &str) -> Result<Caller, Unauthenticated> {
        let Some(key) = &self.token_key else {
            return Err(Unauthenticated::Invalid(format!(
                "the token is not a JWT, and this server takes no capability tokens (the operator set no {})",
                crate::MCP_TOKEN_KEY_ENV
            )));
        };
        let capability = cnv_token::verify(token, key)
            .map_err(|err| Unauthenticated::Invalid(err.to_string()))?;
        let chain = capability
            .chain()
            .iter()
            .map(|link| {
                DelegationLink::new(
                    u32::try_from(link.block).unwrap_or(u32::MAX),
                    link.to.clone(),
                    link.source.clone(),
                )
            })
            .collect();
        let principal =
            CallPrincipal::new(format!("{CAPABILITY_ISSUER}{key}"), capability.principal())
                .with_chain(chain);
        Ok(Caller {
            principal: Some(principal),
            grant: Grant::Capability {
                capability: Arc::new(capability),
                counter: Arc::clone(&self.counter) as Arc<dyn CallCounter>,
            },
        })
    }

    /// The answer to a request whose token was not accepted: 401 (400 for a token in the
    /// query string) with `WWW-Authenticate: Bearer resource_metadata="…"`, and
    /// `error="invalid_token"` when a token was sent.
    pub(crate) fn unauthenticated(&self, why: &Unauthenticated) -> Response {
        let (status, error) = match why {
            Unauthenticated::Missing => (StatusCode::UNAUTHORIZED, None),
            Unauthenticated::Invalid(_) => (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            Unauthenticated::InQuery => (StatusCode::BAD_REQUEST, Some("invalid_request")),
        };
        let description = (!matches!(why, Unauthenticated::Missing)).then(|| why.message());
        self.challenge(status, error, description.as_deref(), None)
    }

    /// The answer to a call beyond the caller's token: 403 with
    /// `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`.
    pub(crate) fn forbidden(&self, not_granted: &NotGranted) -> Response {
        self.challenge(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            Some(&not_granted.message),
            Some(&not_granted.scope),
        )
    }

    fn challenge(
        &self,
        status: StatusCode,
        error: Option<&str>,
        description: Option<&str>,
        scope: Option<&str>,
    ) -> Response {
        let mut params = Vec::new();
        if let Some(error) = error {
            params.push(format!("error=\"{error}\""));
        }
        if let Some(scope) = scope {
            params.push(format!("scope=\"{}\"", quotable(scope)));
        }
        params.push(format!(
            "resource_metadata=\"{}\"",
            quotable(&self.metadata_url)
        ));
        if let Some(description) = description {
            params.push(format!("error_description=\"{}\"", quotable(description)));
        }
        let challenge = format!("Bearer {}", params.join(", "));
        let message = description
            .unwrap_or("this server needs a bearer token: Authorization: Bearer <token>");
        let body = json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": { "code": -32001, "message": message },
        });
        let mut response = (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body.to_string(),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// Tokens verified lately: each with who it named, until when it may be taken again
/// without verifying it, and the keys' generation it was verified with.
#[derive(Default)]
struct Verified(RwLock<HashMap<String, (Caller, Instant, u64)>>);

impl Verified {
    /// Who `token` named, if it was verified lately with the keys of `generation`.
    fn get(&self, token: &str, generation: u64) -> Option<Caller> {
        let verified = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let (caller, until, verified_with) = verified.get(token)?;
        (*verified_with == generation && Instant::now() < *until).then(|| caller.clone())
    }

    /// Remembers that `token` names `caller`, for [`VERIFIED_FOR`] and not past `until`.
    fn insert(&self, token: &str, caller: &Caller, until: Option<Instant>, generation: u64) {
        if token.len() > MAX_VERIFIED_TOKEN {
            return;
        }
        let now = Instant::now();
        let until = until.map_or(now + VERIFIED_FOR, |until| until.min(now + VERIFIED_FOR));
        if until <= now {
            return;
        }
        let mut verified = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= MAX_VERIFIED {
            verified.retain(|_, (_, until, _)| *until > now);
            if verified.len() >= MAX_VERIFIED {
                verified.clear();
            }
        }
        verified.insert(token.to_owned(), (caller.clone(), until, generation));
    }
}

/// When a verified access token stops being accepted — its `exp` plus the leeway — as an
/// instant of this process; `None` when its payload does not say.
fn access_token_expiry(token: &str) -> Option<Instant> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let exp = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_u64()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let left = exp
        .saturating_add(cnv_token::LEEWAY_SECONDS)
        .checked_sub(now)?;
    Some(Instant::now() + Duration::from_secs(left))
}

/// Whether a query string carries an access token (`access_token=`, RFC 6750 §2.3).
fn token_in_query(query: &str) -> bool {
    query.split('&').any(|pair| {
        pair.split('=')
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case("access_token"))
    })
}

/// `text` as it may stand in a quoted parameter of `WWW-Authenticate` (RFC 6750: the
/// printable ASCII characters but `"` and `\`).
fn quotable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// The URL of the protected resource metadata of the resource `resource`: RFC 9728's
/// well-known path inserted between its origin and its path
/// (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`). A resource
/// that is not a URL gets the root path's.
pub(crate) fn metadata_url(resource: &str) -> String {
    let after_scheme = resource.find("://").map_or(0, |at| at + 3);
    let (origin, path) = match resource[after_scheme..].find('/') {
        Some(at) => resource.split_at(after_scheme + at),
        None => (resource, ""),
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    format!("{origin}{WELL_KNOWN}{}", path.trim_end_matches('/'))
}

/// RFC 9728's well-known path.
pub(crate) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The scopes a server of `verbs` (class and command of each) lists in its metadata:
/// a class scope for each class, a verb scope for each verb.
pub(crate) fn scopes_supported<'a>(
    verbs: impl IntoIterator<Item = (CapabilityClass, &'a str)>,
) -> Vec<String> {
    let mut scopes: Vec<String> = CapabilityClass::ALL
        .iter()
        .map(|class| Scope::Class(*class).to_string())
        .collect();
    let mut verbs: Vec<String> = verbs
        .into_iter()
        .map(|(_, command)| Scope::verb(command).to_string())
        .collect();
    verbs.sort();
    scopes.extend(verbs);
    scopes
}

/// The open HTTP sessions' owners: who opened each, so that no other principal's request
/// reaches it.
#[derive(Debug, Default)]
pub(crate) struct Owners(RwLock<HashMap<String, Option<CallPrincipal>>>);

impl Owners {
    /// Records that `principal` opened the session `id`.
    pub(crate) fn insert(&self, id: String, principal: Option<CallPrincipal>) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, principal);
    }

    /// Forgets the session `id`.
    pub(crate) fn remove(&self, id: &str) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    /// Whether the session `id`, if open, belongs to someone other than `principal`.
    pub(crate) fn belongs_to_another(&self, id: &str, principal: Option<&CallPrincipal>) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .is_some_and(|owner| owner.as_ref() != principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_inserts_the_well_known_path_before_the_resource_s_path() {
        assert_eq!(
            metadata_url("https://mcp.example:8443/mcp"),
            "https://mcp.example:8443/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://mcp.example"),
            "https://mcp.example/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_url("https://mcp.example/tools/mcp/?x=1"),
            "https://mcp.example/.well-known/oauth-protected-resource/tools/mcp"
        );
    }

    #[test]
    fn a_token_in_the_query_string_is_seen_whatever_its_case() {
        assert!(token_in_query("access_token=abc"));
        assert!(token_in_query("a=1&ACCESS_TOKEN=abc"));
        assert!(!token_in_query("token=abc&x=access_token"));
    }

    #[test]
    fn jwks_sources_are_http_urls_or_files_and_https_is_refused_with_what_to_do() {
        assert_eq!(
            JwksSource::parse("http://127.0.0.1:9/jwks"),
            Ok(JwksSource::Url("http://127.0.0.1:9/jwks".to_owned()))
        );
        assert_eq!(
            JwksSource::parse("/etc/cnv/jwks.json"),
            Ok(JwksSource::File(PathBuf::from("/etc/cnv/jwks.json")))
        );
        let refused = JwksSource::parse("https://id.example/jwks").unwrap_err();
        assert!(
            refused.contains("no TLS client") && refused.contains("file"),
            "{refused}"
        );
        assert!(JwksSource::parse("ftp://x/jwks").is_err());
    }

    /// A JWKS of Ed25519 keys named `kids` (any 32 bytes make a key the set takes).
    fn jwks(kids: &[&str]) -> String {
        let keys: Vec<serde_json::Value> = kids
            .iter()
            .map(|kid| {
                json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
                       "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
            })
            .collect();
        json!({ "keys": keys }).to_string()
    }

    #[tokio::test]
    async fn the_jwks_is_fetched_again_only_when_the_last_fetch_is_old_enough() {
        let dir = std::env::temp_dir().join(format!("cnv-mcp-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let file = dir.join("jwks.json");
        std::fs::write(&file, jwks(&["a"])).expect("written");
        let mut cache = JwksCache::new(JwksSource::File(file.clone()))
            .await
            .expect("read");
        assert_eq!(cache.current().len(), 1);
        assert_eq!(cache.refresh, Duration::from_secs(60));

        // The authorization server rotates in a key: within the minute, not fetched.
        std::fs::write(&file, jwks(&["a", "b"])).expect("rotated");
        assert!(!cache.refreshed().await);
        assert_eq!(cache.current().len(), 1);
        // Once the minute has passed (here: no minute), fetched again.
        cache.refresh = Duration::ZERO;
        assert!(cache.refreshed().await);
        assert_eq!(cache.current().len(), 2);
        // A set that no longer reads keeps the keys the server had.
        std::fs::write(&file, "not json").expect("broken");
        assert!(!cache.refreshed().await);
        assert_eq!(cache.current().len(), 2);

        assert!(
            JwksCache::new(JwksSource::File(dir.join("missing.json")))
                .await
                .is_err()
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    fn capability(mint: &cnv_token::Mint) -> Caller {
        let key = cnv_token::TokenKey::generate();
        let token = cnv_token::mint(&key, mint).expect("minted");
        let capability = cnv_token::verify(&token, &key.public_key()).expect("verified");
        Caller {
            principal: None,
            grant: Grant::Capability {
                capability: Arc::new(capability),
                counter: Arc::new(MemoryCounter::new()),
            },
        }
    }

    #[test]
    fn scopes_list_and_admit_the_same_verbs_and_a_refusal_names_the_verb_s_scope() {
        let caller = Caller {
            principal: None,
            grant: Grant::Scopes(Scopes::parse(["cnv:Pure cnv:file.read"]).expect("scopes")),
        };
        assert!(caller.lists(CapabilityClass::Pure, "calc sum"));
        assert!(caller.admit(CapabilityClass::Pure, "calc sum").is_ok());
        assert!(caller.lists(CapabilityClass::ReadOnlyFS, "file read"));
        assert!(!caller.lists(CapabilityClass::ReadOnlyFS, "file list"));
        let refused = caller
            .admit(CapabilityClass::ReadWriteFS, "file write")
            .expect_err("beyond the token");
        assert_eq!(refused.scope, "cnv:file.write");
        assert!(
            refused.message.contains("cnv:ReadWriteFS"),
            "{}",
            refused.message
        );
        let anonymous = Caller::anonymous();
        assert!(
            anonymous
                .admit(CapabilityClass::Dangerous, "workspace wipe")
                .is_ok()
        );
        assert_eq!(anonymous.key(), "anonymous");
    }

    #[test]
    fn a_capability_token_s_budget_is_counted_per_call_and_listing_counts_nothing() {
        let scopes = Scopes::parse(["cnv:ReadOnlyFS"]).expect("scopes");
        let caller = capability(&cnv_token::Mint::new("agent", scopes).budget(2));
        for _ in 0..5 {
            assert!(
                caller.lists(CapabilityClass::Pure, "calc sum"),
                "listing is free"
            );
        }
        assert!(caller.admit(CapabilityClass::Pure, "calc sum").is_ok());
        // A refused call is not counted.
        assert!(
            caller
                .admit(CapabilityClass::ReadWriteFS, "file write")
                .is_err()
        );
        assert!(
            caller
                .admit(CapabilityClass::ReadOnlyFS, "file read")
                .is_ok()
        );
        let spent = caller
            .admit(CapabilityClass::Pure, "calc sum")
            .expect_err("the budget is spent");
        assert!(spent.message.contains("calls"), "{}", spent.message);
        assert!(!caller.lists(CapabilityClass::Pure, "calc sum"));
    }

    #[test]
    fn a_token_confined_to_a_sub_directory_runs_no_call_that_reaches_the_workspace() {
        let scopes = Scopes::parse(["cnv:ReadWriteFS"]).expect("scopes");
        let caller = capability(&cnv_token::Mint::new("agent", scopes).workspace("reports"));
        for class in CapabilityClass::ALL {
            let reaches = match class {
                CapabilityClass::Pure | CapabilityClass::Environment | CapabilityClass::Network => {
                    false
                }
                CapabilityClass::ReadOnlyFS
                | CapabilityClass::ReadWriteFS
                | CapabilityClass::Subprocess
                | CapabilityClass::Dangerous => true,
            };
            let within = scope_reaches(*class);
            let admitted = caller.admit(*class, "some verb");
            match (reaches, within) {
                (true, _) => {
                    let refused = admitted.expect_err("confined out");
                    assert!(refused.message.contains("reports/"), "{}", refused.message);
                    assert!(!caller.lists(*class, "some verb"));
                }
                (false, true) => assert!(admitted.is_ok(), "{class}: {admitted:?}"),
                (false, false) => assert!(admitted.is_err(), "{class}"),
            }
        }
    }

    /// Whether `cnv:ReadWriteFS` reaches `class`.
    fn scope_reaches(class: CapabilityClass) -> bool {
        cnv_token::at_or_below(class, CapabilityClass::ReadWriteFS)
    }

    #[test]
    fn a_verified_token_is_remembered_no_longer_than_it_is_good_nor_across_new_keys() {
        let verified = Verified::default();
        let caller = Caller::anonymous();
        let now = Instant::now();
        verified.insert("a", &caller, None, 0);
        assert!(verified.get("a", 0).is_some());
        assert!(verified.get("a", 1).is_none(), "new keys: verified again");
        assert!(verified.get("b", 0).is_none());
        // Past its expiry (with the leeway) already: never remembered.
        verified.insert("old", &caller, Some(now), 0);
        assert!(verified.get("old", 0).is_none());
        // An expiry before the minute bounds the memory.
        let expiry = access_token_expiry(&format!(
            "e30.{}.sig",
            base64_url(format!("{{\"exp\": {}}}", unix_now() + 5).as_bytes())
        ))
        .expect("an exp");
        let left = expiry.saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_secs(5 + cnv_token::LEEWAY_SECONDS)
                && left > Duration::from_secs(60),
            "{left:?}"
        );
        let gone = access_token_expiry(&format!(
            "e30.{}.sig",
            base64_url(format!("{{\"exp\": {}}}", unix_now() - 3600).as_bytes())
        ));
        assert!(gone.is_none(), "expired beyond the leeway");
        assert!(access_token_expiry("e30.bm90IGpzb24.sig").is_none());
        // Full: the expired go first, then everyone.
        for n in 0..MAX_VERIFIED + 1 {
            verified.insert(&n.to_string(), &caller, None, 0);
        }
        assert!(verified.0.read().expect("a lock").len() <= MAX_VERIFIED);
        verified.insert(&"x".repeat(MAX_VERIFIED_TOKEN + 1), &caller, None, 0);
        assert!(
            verified
                .get(&"x".repeat(MAX_VERIFIED_TOKEN + 1), 0)
                .is_none()
        );
    }

    fn unix_now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    }

    fn base64_url(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_challenge_never_quotes_a_quote() {
        assert_eq!(quotable("a \"b\" \\ é\n"), "a 'b' ' ??");
    }
}
