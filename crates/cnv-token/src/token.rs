//! Capability tokens (biscuit): minted by the operator, narrowed by any holder for a
//! sub-agent without a call home, verified by any replica against the operator's public
//! key.
//!
//! A token is a chain of blocks. The first, signed with the operator's key, says who it
//! was issued to and what it grants (scopes), and may bound it (an expiry, a workspace
//! sub-directory, a call budget). Each later block, appended by a holder, holds only
//! *checks*: a call must pass every check of every block, and no fact of a later block is
//! trusted by the verifier's policy, so a block can narrow and never widen. Each block
//! says, in its context, who it was handed to (the chain of delegates the audit trail
//! records).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use biscuit_auth::builder::{Term, date, int, string};
use biscuit_auth::error::{FailedCheck, Logic, Token as BiscuitError};
use biscuit_auth::{AuthorizerBuilder, AuthorizerLimits, Biscuit, BlockBuilder, UnverifiedBiscuit};
use cnv_caps::CapabilityClass;
use serde::{Deserialize, Serialize};

use crate::error::TokenError;
use crate::key::{TokenKey, TokenPublicKey};
use crate::scope::{Scope, Scopes, ceilings_of, classes_below};

/// What the operator grants in a new token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mint {
    /// Who the token is issued to (recorded with every call made with it).
    pub principal: String,
    /// What it grants.
    pub scopes: Scopes,
    /// The workspace sub-directory its calls are confined to (`None`: the whole workspace).
    pub workspace: Option<String>,
    /// When it stops working.
    pub expires: Option<SystemTime>,
    /// How many calls it may make, across every token narrowed from it.
    pub budget: Option<u64>,
}

impl Mint {
    /// A token for `principal` granting `scopes`, with no other bound.
    #[must_use]
    pub fn new(principal: impl Into<String>, scopes: Scopes) -> Self {
        Self {
            principal: principal.into(),
            scopes,
            workspace: None,
            expires: None,
            budget: None,
        }
    }

    /// The same token, confined to the workspace sub-directory `dir`.
    #[must_use]
    pub fn workspace(self, dir: impl Into<String>) -> Self {
        Self {
            workspace: Some(dir.into()),
            ..self
        }
    }

    /// The same token, expiring at `when`.
    #[must_use]
    pub fn expires(self, when: SystemTime) -> Self {
        Self {
            expires: Some(when),
            ..self
        }
    }

    /// The same token, with a budget of `calls`.
    #[must_use]
    pub fn budget(self, calls: u64) -> Self {
        Self {
            budget: Some(calls),
            ..self
        }
    }
}

/// How a holder narrows a token for a sub-agent. Every field it sets can only narrow:
/// scopes within the token's, a directory within its workspace, an expiry before its
/// own, a budget within its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Narrowing {
    /// Who the narrowed token is handed to (the next link of the chain).
    pub delegate: Option<String>,
    /// The scopes the narrowed token keeps (classes and verbs).
    pub scopes: Option<Scopes>,
    /// The workspace sub-directory its calls are confined to.
    pub workspace: Option<String>,
    /// When it stops working.
    pub expires: Option<SystemTime>,
    /// How many calls the narrowed token (and every token narrowed from it) may make.
    pub budget: Option<u64>,
}

impl Narrowing {
    /// A narrowing that hands the token to `delegate` and changes nothing else yet.
    #[must_use]
    pub fn to(delegate: impl Into<String>) -> Self {
        Self {
            delegate: Some(delegate.into()),
            ..Self::default()
        }
    }

    /// The same narrowing, keeping only `scopes`.
    #[must_use]
    pub fn scopes(self, scopes: Scopes) -> Self {
        Self {
            scopes: Some(scopes),
            ..self
        }
    }

    /// The same narrowing, confining calls to the workspace sub-directory `dir`.
    #[must_use]
    pub fn workspace(self, dir: impl Into<String>) -> Self {
        Self {
            workspace: Some(dir.into()),
            ..self
        }
    }

    /// The same narrowing, expiring at `when`.
    #[must_use]
    pub fn expires(self, when: SystemTime) -> Self {
        Self {
            expires: Some(when),
            ..self
        }
    }

    /// The same narrowing, with a budget of `calls`.
    #[must_use]
    pub fn budget(self, calls: u64) -> Self {
        Self {
            budget: Some(calls),
            ..self
        }
    }
}

/// What a block says about itself, in its context (plain JSON beside its Datalog).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Context {
    /// The format.
    cnv: u8,
    /// Who the block's token was handed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delegate: Option<String>,
    /// The workspace directory the block's check confines calls to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workspace: Option<String>,
}

/// A verified token: who it was issued to, the chain of delegates it passed through, and
/// what its blocks check.
#[derive(Debug)]
pub struct Capability {
    token: Biscuit,
    principal: String,
    chain: Vec<Link>,
    workspace: String,
}

/// One block of a token's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Link {
    /// Its place: 0 is the operator's.
    pub block: usize,
    /// Who the token was handed to at this link (the principal, for block 0).
    pub to: Option<String>,
    /// What the block grants (block 0) or checks (the others), in the token's Datalog.
    pub source: String,
}

/// One call to authorise with a token.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The verb's class.
    pub class: CapabilityClass,
    /// The verb's command (`"file write"`).
    pub command: &'a str,
    /// Now.
    pub now: SystemTime,
    /// How many calls were made with each block of the token before this one
    /// ([`Capability::budget_keys`], in order); fewer than its blocks count as none.
    pub calls: &'a [u64],
}

impl<'a> Request<'a> {
    /// A call of `command` (of `class`) now, with no call counted before it.
    #[must_use]
    pub fn new(class: CapabilityClass, command: &'a str) -> Self {
        Self {
            class,
            command,
            now: SystemTime::now(),
            calls: &[],
        }
    }

    /// The same call, with the calls counted before it (per block).
    #[must_use]
    pub fn with_calls(self, calls: &'a [u64]) -> Self {
        Self { calls, ..self }
    }

    /// The same call at `now`.
    #[must_use]
    pub fn at(self, now: SystemTime) -> Self {
        Self { now, ..self }
    }
}

/// How long an authorisation may take: biscuit's default (1 ms) trips on a loaded machine.
const AUTHORIZE_TIME: Duration = Duration::from_millis(50);

fn params<const N: usize>(pairs: [(&str, Term); N]) -> HashMap<String, Term> {
    pairs
        .into_iter()
        .map(|(name, term)| (name.to_owned(), term))
        .collect()
}

/// No public-key parameter.
fn none<T>() -> HashMap<String, T> {
    HashMap::new()
}

/// A workspace directory as a token writes it: relative, its parts joined with `/`, with
/// a trailing `/` (so that `sub/` is not a prefix of `sub2/`); `""` is the whole
/// workspace.
///
/// # Errors
///
/// A path that leaves the workspace or is absolute.
pub fn workspace_dir(path: &str) -> Result<String, TokenError> {
    let mut dir = String::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(TokenError::Narrowing {
                    reason: format!("the workspace directory `{path}` climbs out with `..`"),
                });
            }
            part if part.contains('\0') => {
                return Err(TokenError::Narrowing {
                    reason: format!("the workspace directory `{path}` holds a NUL"),
                });
            }
            part => {
                dir.push_str(part);
                dir.push('/');
            }
        }
    }
    if path.starts_with('/') {
        return Err(TokenError::Narrowing {
            reason: format!(
                "the workspace directory `{path}` is absolute; give it relative to the workspace"
            ),
        });
    }
    Ok(dir)
}

/// The scope checks of a block: the classes and verbs it keeps.
fn scope_sets(scopes: &Scopes) -> (Term, Term) {
    let mut classes = BTreeSet::new();
    let mut verbs = BTreeSet::new();
    for scope in scopes.as_slice() {
        match scope {
            Scope::Class(ceiling) => {
                classes.extend(classes_below(*ceiling).map(|class| string(class.name())));
            }
            Scope::Verb(command) => {
                verbs.insert(string(&command.replace(' ', ".")));
            }
        }
    }
    (Term::Set(classes), Term::Set(verbs))
}

/// The check a token's block makes of its workspace: the call's directory lies within
/// `{dir}` (the same rule when minted and when narrowed).
const WORKSPACE_CHECK: &str = "check if workspace_dir($d), $d.starts_with({dir});";

/// The check a token's block makes of its expiry: the call's time is at or before `{exp}`.
const EXPIRY_CHECK: &str = "check if time($t), $t <= {exp};";

/// Mints a token with the operator's `key`.
///
/// # Errors
///
/// [`TokenError::Narrowing`] for a token that would grant nothing or a workspace
/// directory out of the workspace; [`TokenError::Invalid`] if the token library refuses.
pub fn mint(key: &TokenKey, mint: &Mint) -> Result<String, TokenError> {
    if mint.scopes.as_slice().is_empty() {
        return Err(TokenError::Narrowing {
            reason: "a token with no `cnv:` scope grants nothing; give at least one".to_owned(),
        });
    }
    let mut builder = Biscuit::builder()
        .code_with_params(
            "principal({p});",
            params([("p", string(&mint.principal))]),
            none(),
        )
        .map_err(TokenError::invalid)?;
    for scope in mint.scopes.as_slice() {
        let (kind, value) = match scope {
            Scope::Class(class) => ("class", class.name().to_owned()),
            Scope::Verb(command) => ("verb", command.replace(' ', ".")),
        };
        builder = builder
            .code_with_params(
                "right({kind}, {value});",
                params([("kind", string(kind)), ("value", string(&value))]),
                none(),
            )
            .map_err(TokenError::invalid)?;
    }
    let mut context = Context {
        cnv: 1,
        delegate: Some(mint.principal.clone()),
        workspace: None,
    };
    if let Some(dir) = &mint.workspace {
        let dir = workspace_dir(dir)?;
        builder = builder
            .code_with_params(WORKSPACE_CHECK, params([("dir", string(&dir))]), none())
            .map_err(TokenError::invalid)?;
        context.workspace = Some(dir);
    }
    if let Some(expires) = mint.expires {
        builder = builder
            .code_with_params(EXPIRY_CHECK, params([("exp", date(&expires))]), none())
            .map_err(TokenError::invalid)?;
    }
    if let Some(budget) = mint.budget {
        builder = builder
            .code_with_params(
                "check if calls(0, $n), $n < {budget};",
                params([("budget", int(clamp(budget)))]),
                none(),
            )
            .map_err(TokenError::invalid)?;
    }
    builder
        .context(serde_json::to_string(&context).map_err(TokenError::invalid)?)
        .build(key.pair())
        .and_then(|token| token.to_base64())
        .map_err(TokenError::invalid)
}

fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Narrows `token` as `narrowing` says: one more block of checks, appended offline (no key
/// is needed, and none is learnt). The token's signatures are not checked here; the
/// replica that verifies it checks every block.
///
/// # Errors
///
/// [`TokenError::Invalid`] for a token that does not read; [`TokenError::Narrowing`] for
/// a directory out of the workspace or scopes that keep nothing.
pub fn attenuate(token: &str, narrowing: &Narrowing) -> Result<String, TokenError> {
    let token = UnverifiedBiscuit::from_base64(token.trim()).map_err(TokenError::invalid)?;
    let index = token.block_count();
    let mut block = BlockBuilder::new();
    let mut context = Context {
        cnv: 1,
        delegate: narrowing.delegate.clone(),
        workspace: None,
    };
    if let Some(scopes) = &narrowing.scopes {
        if scopes.as_slice().is_empty() {
            return Err(TokenError::Narrowing {
                reason: "the narrowed token would keep no scope, and grant nothing".to_owned(),
            });
        }
        let (classes, verbs) = scope_sets(scopes);
        block = block
            .code_with_params(
                "check if class($c), {classes}.contains($c) or verb($v), {verbs}.contains($v);",
                params([("classes", classes), ("verbs", verbs)]),
                none(),
            )
            .map_err(TokenError::invalid)?;
    }
    if let Some(dir) = &narrowing.workspace {
        let dir = workspace_dir(dir)?;
        block = block
            .code_with_params(WORKSPACE_CHECK, params([("dir", string(&dir))]), none())
            .map_err(TokenError::invalid)?;
        context.workspace = Some(dir);
    }
    if let Some(expires) = narrowing.expires {
        block = block
            .code_with_params(EXPIRY_CHECK, params([("exp", date(&expires))]), none())
            .map_err(TokenError::invalid)?;
    }
    if let Some(budget) = narrowing.budget {
        block = block
            .code_with_params(
                "check if calls({i}, $n), $n < {budget};",
                params([
                    ("i", int(clamp(index as u64))),
                    ("budget", int(clamp(budget))),
                ]),
                none(),
            )
            .map_err(TokenError::invalid)?;
    }
    let block = block.context(serde_json::to_string(&context).map_err(TokenError::invalid)?);
    token
        .append(block)
        .and_then(|token| token.to_base64())
        .map_err(TokenError::invalid)
}

/// Verifies `token` against the operator's public key: every block's signature, the
/// chain unbroken. What it grants is decided per call ([`Capability::authorize`]).
///
/// # Errors
///
/// [`TokenError::Invalid`] for a token that does not read, or that another key signed.
pub fn verify(token: &str, key: &TokenPublicKey) -> Result<Capability, TokenError> {
    let token = Biscuit::from_base64(token.trim(), key.key()).map_err(TokenError::invalid)?;
    let contexts: Vec<Context> = token
        .context()
        .into_iter()
        .map(|context| {
            context
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default()
        })
        .collect();
    let mut chain = Vec::with_capacity(token.block_count());
    for (block, context) in contexts.iter().enumerate() {
        chain.push(Link {
            block,
            to: context.delegate.clone(),
            source: token
                .print_block_source(block)
                .map_err(TokenError::invalid)?,
        });
    }
    let principal = contexts
        .first()
        .and_then(|context| context.delegate.clone())
        .unwrap_or_default();
    // The deepest directory a block confines calls to: every block's check must hold for
    // it (one that claimed another would fail its own check, or an earlier one's).
    let workspace = contexts
        .iter()
        .filter_map(|context| context.workspace.clone())
        .max_by_key(String::len)
        .unwrap_or_default();
    Ok(Capability {
        token,
        principal,
        chain,
        workspace,
    })
}

impl Capability {
    /// Who the operator issued the token to.
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The token's blocks, the operator's first: who each link was handed to, and what it
    /// grants or checks.
    #[must_use]
    pub fn chain(&self) -> &[Link] {
        &self.chain
    }

    /// The workspace directory (relative, `""` for the whole workspace) the token's calls
    /// run in: the deepest any block confines them to.
    #[must_use]
    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// One key per block, for the counters of call budgets (its revocation identifier,
    /// unique to the block): count a call against every one, as [`Request::calls`] is
    /// read in the same order.
    #[must_use]
    pub fn budget_keys(&self) -> Vec<Vec<u8>> {
        self.token.revocation_identifiers()
    }

    /// Whether the token grants `request`: one of its operator's scopes grants the verb,
    /// and every block's checks hold (its scopes, its workspace directory, its expiry,
    /// its budget).
    ///
    /// # Errors
    ///
    /// [`TokenError::NotGranted`] with the checks that refused it.
    pub fn authorize(&self, request: &Request<'_>) -> Result<(), TokenError> {
        let verb = request.command.replace(' ', ".");
        let refused = |failed: String| TokenError::NotGranted {
            command: request.command.to_owned(),
            class: request.class,
            failed,
        };
        let mut authorizer = AuthorizerBuilder::new()
            .code_with_params(
                "time({now}); class({class}); verb({verb}); workspace_dir({dir});",
                params([
                    ("now", date(&request.now)),
                    ("class", string(request.class.name())),
                    ("verb", string(&verb)),
                    ("dir", string(&self.workspace)),
                ]),
                none(),
            )
            .map_err(TokenError::invalid)?;
        for ceiling in ceilings_of(request.class) {
            authorizer = authorizer
                .code_with_params(
                    "grants_class({c});",
                    params([("c", string(ceiling.name()))]),
                    none(),
                )
                .map_err(TokenError::invalid)?;
        }
        for block in 0..self.token.block_count() {
            let calls = request.calls.get(block).copied().unwrap_or(0);
            authorizer = authorizer
                .code_with_params(
                    "calls({i}, {n});",
                    params([("i", int(clamp(block as u64))), ("n", int(clamp(calls)))]),
                    none(),
                )
                .map_err(TokenError::invalid)?;
        }
        let mut authorizer = authorizer
            .code(
                r#"allow if right("class", $c), grants_class($c);
                   allow if right("verb", $v), verb($v);"#,
            )
            .map_err(TokenError::invalid)?
            .set_limits(AuthorizerLimits {
                max_time: AUTHORIZE_TIME,
                ..AuthorizerLimits::default()
            })
            .build(&self.token)
            .map_err(TokenError::invalid)?;
        match authorizer.authorize() {
            Ok(_) => Ok(()),
            Err(BiscuitError::FailedLogic(Logic::Unauthorized { checks, .. }))
                if !checks.is_empty() =>
            {
                Err(refused(failed_checks(&checks)))
            }
            Err(BiscuitError::FailedLogic(
                Logic::Unauthorized { .. } | Logic::NoMatchingPolicy { .. },
            )) => Err(refused(format!(
                "no scope it was issued with grants it (it would need `{}`)",
                Scope::verb(request.command)
            ))),
            Err(other) => Err(refused(other.to_string())),
        }
    }
}

/// The checks that failed, as their Datalog, with the block each belongs to.
fn failed_checks(checks: &[FailedCheck]) -> String {
    checks
        .iter()
        .map(|check| match check {
            FailedCheck::Block(block) => format!("block {}: `{}`", block.block_id, block.rule),
            FailedCheck::Authorizer(check) => format!("the verifier: `{}`", check.rule),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A token's blocks as their Datalog and context, without verifying it (no key needed):
/// what `cnv-token inspect` prints.
///
/// # Errors
///
/// [`TokenError::Invalid`] for a token that does not read.
pub fn inspect(token: &str) -> Result<Vec<Link>, TokenError> {
    let token = UnverifiedBiscuit::from_base64(token.trim()).map_err(TokenError::invalid)?;
    (0..token.block_count())
        .map(|block| {
            Ok(Link {
                block,
                to: None,
                source: token
                    .print_block_source(block)
                    .map_err(TokenError::invalid)?,
            })
        })
        .collect()
}
