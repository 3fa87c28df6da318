//! The operator's settings of a server, decided once when it is made: what the program's
//! author fixed with the builder ([`McpBuilder`](crate::McpBuilder)) first, then the
//! launcher's `CNV_MCP_*` variables, then the defaults. A variable whose value the server
//! cannot use refuses to serve rather than falling back.

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::{AuthSettings, JwksSource};
use crate::quota::Quota;
use crate::state::StateChoice;
use crate::{
    MCP_ALLOW_REMOTE_ENV, MCP_AUTH_AUDIENCE_ENV, MCP_AUTH_ISSUER_ENV, MCP_AUTH_JWKS_ENV,
    MCP_BODY_TIMEOUT_ENV, MCP_CALLS_PER_SESSION_ENV, MCP_HEADER_TIMEOUT_ENV, MCP_IDLE_TIMEOUT_ENV,
    MCP_MAX_MESSAGE_ENV, MCP_MAX_SESSIONS_ENV, MCP_QUOTA_ENV, MCP_STATE_ENV, MCP_SUPERVISED_ENV,
    MCP_TOKEN_KEY_ENV, McpError, McpLimits, McpSupervision,
};

/// What the program's author fixed with the builder; `None` leaves it to the launcher's
/// variable or the default.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fixed {
    /// `Some(None)`: sessions never expire.
    pub(crate) idle_timeout: Option<Option<Duration>>,
    pub(crate) allow_remote: bool,
    pub(crate) max_sessions: Option<usize>,
    /// `Some(None)`: no limit.
    pub(crate) header_timeout: Option<Option<Duration>>,
    /// `Some(None)`: no limit.
    pub(crate) body_timeout: Option<Option<Duration>>,
    pub(crate) max_message_bytes: Option<usize>,
    pub(crate) calls_per_session: Option<usize>,
    /// `Some`: the builder's quotas, in place of the launcher's.
    pub(crate) quotas: Option<Vec<Quota>>,
    /// The builder's state backend (`memory` or a `redis://` URL).
    pub(crate) state: Option<String>,
    pub(crate) auth_issuer: Option<String>,
    pub(crate) auth_audience: Option<String>,
    pub(crate) auth_jwks: Option<String>,
    pub(crate) token_key: Option<PathBuf>,
    pub(crate) supervision: Option<McpSupervision>,
}

/// The settings a server serves with.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    /// `None`: the transport's default; `Some(None)`: never.
    pub(crate) idle_timeout: Option<Option<Duration>>,
    pub(crate) allow_remote: bool,
    pub(crate) limits: McpLimits,
    /// Quotas per principal (none by default).
    pub(crate) quotas: Vec<Quota>,
    /// Where the state replicas share lives (this process by default).
    pub(crate) state: StateChoice,
    /// What the server takes as bearer tokens over HTTP (`None`: no token is asked for).
    pub(crate) auth: Option<AuthSettings>,
    pub(crate) supervision: McpSupervision,
}

/// The smallest message cap: an `initialize` must fit.
pub(crate) const MIN_MESSAGE_BYTES: usize = 4096;

/// `fixed`, with the variables `var` reads for what it leaves open.
pub(crate) fn resolve(
    fixed: &Fixed,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Resolved, McpError> {
    // An empty or blank variable is an unset one.
    let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let idle_timeout = match fixed.idle_timeout {
        Some(fixed) => Some(fixed),
        None => var(MCP_IDLE_TIMEOUT_ENV)
            .map(|value| {
                seconds(
                    MCP_IDLE_TIMEOUT_ENV,
                    value,
                    "a whole number of seconds (0: sessions never expire)",
                )
            })
            .transpose()?,
    };
    let allow_remote = fixed.allow_remote
        || var(MCP_ALLOW_REMOTE_ENV).is_some_and(|value| cnv_cli::switch_is_on(&value));
    let defaults = McpLimits::DEFAULT;
    let timeout = |fixed: Option<Option<Duration>>, name: &'static str, default| match fixed {
        Some(fixed) => Ok(fixed),
        None => var(name).map_or(Ok(default), |value| {
            seconds(name, value, "a whole number of seconds (0: no limit)")
        }),
    };
    let count =
        |fixed: Option<usize>, name: &'static str, min: usize, default, expected| match fixed {
            Some(fixed) => Ok(fixed.max(min)),
            None => var(name).map_or(Ok(default), |value| at_least(name, value, min, expected)),
        };
    let limits = McpLimits {
        max_sessions: count(
            fixed.max_sessions,
            MCP_MAX_SESSIONS_ENV,
            1,
            defaults.max_sessions,
            "a whole number of sessions, at least 1",
        )?,
        header_timeout: timeout(
            fixed.header_timeout,
            MCP_HEADER_TIMEOUT_ENV,
            defaults.header_timeout,
        )?,
        body_timeout: timeout(
            fixed.body_timeout,
            MCP_BODY_TIMEOUT_ENV,
            defaults.body_timeout,
        )?,
        max_message_bytes: count(
            fixed.max_message_bytes,
            MCP_MAX_MESSAGE_ENV,
            MIN_MESSAGE_BYTES,
            defaults.max_message_bytes,
            "a whole number of bytes, at least 4096",
        )?,
        calls_per_session: count(
            fixed.calls_per_session,
            MCP_CALLS_PER_SESSION_ENV,
            1,
            defaults.calls_per_session,
            "a whole number of calls, at least 1",
        )?,
    };
    let quotas = match &fixed.quotas {
        Some(quotas) => quotas.clone(),
        None => var(MCP_QUOTA_ENV).map_or(Ok(Vec::new()), |value| {
            Quota::parse_list(&value).map_err(|source| McpError::InvalidQuota {
                name: MCP_QUOTA_ENV,
                source,
            })
        })?,
    };
    let state = match fixed.state.clone() {
        Some(value) => Some((value, "the builder's mcp_state")),
        None => var(MCP_STATE_ENV).map(|value| (value, MCP_STATE_ENV)),
    };
    let state = match state {
        None => StateChoice::Memory,
        Some((value, name)) => StateChoice::parse(&value).ok_or(McpError::InvalidSetting {
            name,
            value,
            expected: "`memory` or a Redis URL (redis://HOST:PORT/DB)",
        })?,
    };
    let auth = auth(fixed, &var)?;
    let supervision = match fixed.supervision {
        Some(fixed) => fixed,
        None => var(MCP_SUPERVISED_ENV).map_or(Ok(McpSupervision::Autonomous), supervision)?,
    };
    Ok(Resolved {
        idle_timeout,
        allow_remote,
        limits,
        quotas,
        state,
        auth,
        supervision,
    })
}

/// The identity settings: the builder's, else the variables'. The issuer and the JWKS go
/// together (access tokens); the audience is needed by either kind of token.
fn auth(
    fixed: &Fixed,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<Option<AuthSettings>, McpError> {
    let text = |fixed: &Option<String>, name: &str| {
        fixed
            .clone()
            .or_else(|| var(name))
            .map(|value| value.trim().to_owned())
    };
    let issuer = text(&fixed.auth_issuer, MCP_AUTH_ISSUER_ENV);
    let audience = text(&fixed.auth_audience, MCP_AUTH_AUDIENCE_ENV);
    let jwks = text(&fixed.auth_jwks, MCP_AUTH_JWKS_ENV);
    let token_key = fixed
        .token_key
        .clone()
        .or_else(|| var(MCP_TOKEN_KEY_ENV).map(|value| PathBuf::from(value.trim())));
    let jwt = match (issuer, jwks) {
        (None, None) => None,
        (Some(issuer), Some(jwks)) => {
            let source = JwksSource::parse(&jwks).map_err(|expected| McpError::InvalidSetting {
                name: MCP_AUTH_JWKS_ENV,
                value: jwks.clone(),
                expected,
            })?;
            Some((issuer, source))
        }
        (Some(_), None) => {
            return Err(McpError::Auth(format!(
                "{MCP_AUTH_ISSUER_ENV} is set and {MCP_AUTH_JWKS_ENV} is not: access tokens are verified with the issuer's keys; set {MCP_AUTH_JWKS_ENV} to its JWKS (an http:// URL or a file)"
            )));
        }
        (None, Some(_)) => {
            return Err(McpError::Auth(format!(
                "{MCP_AUTH_JWKS_ENV} is set and {MCP_AUTH_ISSUER_ENV} is not: set {MCP_AUTH_ISSUER_ENV} to the issuer (`iss`) the access tokens name"
            )));
        }
    };
    if jwt.is_none() && token_key.is_none() {
        if audience.is_some() {
            return Err(McpError::Auth(format!(
                "{MCP_AUTH_AUDIENCE_ENV} is set, and no token is taken: set {MCP_AUTH_ISSUER_ENV} and {MCP_AUTH_JWKS_ENV} (access tokens), or {MCP_TOKEN_KEY_ENV} (capability tokens)"
            )));
        }
        return Ok(None);
    }
    let Some(audience) = audience else {
        return Err(McpError::Auth(format!(
            "bearer tokens are taken and {MCP_AUTH_AUDIENCE_ENV} is not set: set it to this server's resource identifier, the audience its access tokens are issued for (its public URL, `https://mcp.example.com/mcp`)"
        )));
    };
    Ok(Some(AuthSettings {
        audience,
        jwt,
        token_key,
    }))
}

/// `value` of [`MCP_SUPERVISED_ENV`]: `elicit`, or off.
fn supervision(value: String) -> Result<McpSupervision, McpError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "elicit" => Ok(McpSupervision::Elicit),
        "0" | "off" | "no" | "false" | "autonomous" => Ok(McpSupervision::Autonomous),
        _ => Err(McpError::InvalidSetting {
            name: MCP_SUPERVISED_ENV,
            value,
            expected: "`elicit` (a person at an MCP client that supports elicitation answers what \
                       the policy asks of a person) or `off` (autonomous, the default)",
        }),
    }
}

/// `value` of the variable `name` as whole seconds (`0`: none).
fn seconds(
    name: &'static str,
    value: String,
    expected: &'static str,
) -> Result<Option<Duration>, McpError> {
    match value.trim().parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(seconds) => Ok(Some(Duration::from_secs(seconds))),
        Err(_) => Err(McpError::InvalidSetting {
            name,
            value,
            expected,
        }),
    }
}

/// `value` of the variable `name` as a whole number of at least `min`.
fn at_least(
    name: &'static str,
    value: String,
    min: usize,
    expected: &'static str,
) -> Result<usize, McpError> {
    match value.trim().parse::<usize>() {
        Ok(number) if number >= min => Ok(number),
        _ => Err(McpError::InvalidSetting {
            name,
            value,
            expected,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Resolved, McpError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        resolve(&Fixed::default(), |name| {
            vars.iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn the_defaults_hold_until_a_variable_or_the_builder_says_otherwise() {
        let limits = with(&[]).expect("defaults").limits;
        assert_eq!(limits, McpLimits::DEFAULT);
        assert_eq!(limits.max_sessions, 1000);
        assert_eq!(limits.header_timeout, Some(Duration::from_secs(10)));
        assert_eq!(limits.body_timeout, Some(Duration::from_secs(30)));
        assert_eq!(limits.max_message_bytes, 4 * 1024 * 1024);
        assert_eq!(limits.calls_per_session, 16);

        let set = with(&[
            (MCP_MAX_SESSIONS_ENV, "3"),
            (MCP_HEADER_TIMEOUT_ENV, "0"),
            (MCP_BODY_TIMEOUT_ENV, " 2 "),
            (MCP_MAX_MESSAGE_ENV, "65536"),
            (MCP_CALLS_PER_SESSION_ENV, "1"),
        ])
        .expect("valid")
        .limits;
        assert_eq!(set.max_sessions, 3);
        assert_eq!(set.header_timeout, None);
        assert_eq!(set.body_timeout, Some(Duration::from_secs(2)));
        assert_eq!(set.max_message_bytes, 65536);
        assert_eq!(set.calls_per_session, 1);

        let fixed = Fixed {
            max_sessions: Some(0),
            max_message_bytes: Some(10),
            ..Fixed::default()
        };
        let numbers = |name: &str| {
            (name != MCP_QUOTA_ENV && name != MCP_STATE_ENV && name != MCP_SUPERVISED_ENV)
                .then(|| "7".to_owned())
        };
        let limits = resolve(&fixed, numbers).expect("the builder's").limits;
        assert_eq!(limits.max_sessions, 1, "raised to the least that serves");
        assert_eq!(limits.max_message_bytes, MIN_MESSAGE_BYTES);
    }

    #[test]
    fn quotas_and_the_state_come_from_the_builder_else_the_launcher() {
        let resolved = with(&[]).expect("defaults");
        assert!(resolved.quotas.is_empty());
        assert_eq!(resolved.state, StateChoice::Memory);
        let resolved = with(&[
            (MCP_QUOTA_ENV, "calc.sum=5/min,ReadWriteFS=100/h"),
            (MCP_STATE_ENV, "redis://127.0.0.1:6379/0"),
        ])
        .expect("valid");
        assert_eq!(resolved.quotas.len(), 2);
        assert_eq!(
            resolved.state,
            StateChoice::Redis("redis://127.0.0.1:6379/0".into())
        );
        let fixed = Fixed {
            quotas: Some(Vec::new()),
            state: Some("memory".into()),
            ..Fixed::default()
        };
        let resolved = resolve(&fixed, |name| {
            (name == MCP_QUOTA_ENV).then(|| "calc.sum=1/s".to_owned())
        })
        .expect("the builder's");
        assert!(resolved.quotas.is_empty(), "the builder's quotas hold");
        assert_eq!(resolved.state, StateChoice::Memory);

        let err = with(&[(MCP_QUOTA_ENV, "calc.sum=5/week")]).expect_err("refused");
        let message = err.to_string();
        assert!(
            message.contains(MCP_QUOTA_ENV) && message.contains("not `s`, `min` or `h`"),
            "{message}"
        );
        let err = with(&[(MCP_STATE_ENV, "mysql://db")]).expect_err("refused");
        assert!(err.to_string().contains("redis://HOST:PORT/DB"), "{err}");
    }

    #[test]
    fn identity_settings_go_together_or_are_refused_with_what_is_missing() {
        assert!(with(&[]).expect("none").auth.is_none());
        let auth = with(&[
            (MCP_AUTH_ISSUER_ENV, "https://id.example"),
            (MCP_AUTH_AUDIENCE_ENV, "https://mcp.example/mcp"),
            (MCP_AUTH_JWKS_ENV, "/etc/jwks.json"),
        ])
        .expect("access tokens")
        .auth
        .expect("configured");
        assert_eq!(auth.audience, "https://mcp.example/mcp");
        assert_eq!(
            auth.jwt,
            Some((
                "https://id.example".to_owned(),
                JwksSource::File(PathBuf::from("/etc/jwks.json"))
            ))
        );
        let capabilities = with(&[
            (MCP_AUTH_AUDIENCE_ENV, "https://mcp.example/mcp"),
            (MCP_TOKEN_KEY_ENV, "/etc/cnv/operator.pub"),
        ])
        .expect("capability tokens alone")
        .auth
        .expect("configured");
        assert!(capabilities.jwt.is_none());
        assert_eq!(
            capabilities.token_key,
            Some(PathBuf::from("/etc/cnv/operator.pub"))
        );

        for (vars, said) in [
            (
                &[(MCP_AUTH_ISSUER_ENV, "i"), (MCP_AUTH_AUDIENCE_ENV, "a")][..],
                MCP_AUTH_JWKS_ENV,
            ),
            (
                &[(MCP_AUTH_JWKS_ENV, "/j"), (MCP_AUTH_AUDIENCE_ENV, "a")][..],
                MCP_AUTH_ISSUER_ENV,
            ),
            (
                &[(MCP_AUTH_ISSUER_ENV, "i"), (MCP_AUTH_JWKS_ENV, "/j")][..],
                MCP_AUTH_AUDIENCE_ENV,
            ),
            (&[(MCP_TOKEN_KEY_ENV, "/k")][..], MCP_AUTH_AUDIENCE_ENV),
            (&[(MCP_AUTH_AUDIENCE_ENV, "a")][..], MCP_TOKEN_KEY_ENV),
            (
                &[
                    (MCP_AUTH_ISSUER_ENV, "i"),
                    (MCP_AUTH_AUDIENCE_ENV, "a"),
                    (MCP_AUTH_JWKS_ENV, "https://id.example/jwks"),
                ][..],
                "no TLS client",
            ),
        ] {
            let message = with(vars).expect_err("refused").to_string();
            assert!(message.contains(said), "{message}");
        }
    }

    #[test]
    fn a_server_is_autonomous_unless_the_operator_says_elicit() {
        assert_eq!(
            with(&[]).expect("default").supervision,
            McpSupervision::Autonomous
        );
        for (value, supervision) in [
            ("elicit", McpSupervision::Elicit),
            (" Elicit ", McpSupervision::Elicit),
            ("off", McpSupervision::Autonomous),
            ("", McpSupervision::Autonomous),
        ] {
            let resolved = with(&[(MCP_SUPERVISED_ENV, value)]).expect("valid");
            assert_eq!(resolved.supervision, supervision, "{value:?}");
        }
        for value in ["1", "yes", "approve"] {
            let message = with(&[(MCP_SUPERVISED_ENV, value)])
                .expect_err("refused")
                .to_string();
            assert!(
                message.contains(MCP_SUPERVISED_ENV) && message.contains("`elicit`"),
                "{message}"
            );
        }
        let fixed = Fixed {
            supervision: Some(McpSupervision::Elicit),
            ..Fixed::default()
        };
        let resolved = resolve(&fixed, |name| {
            (name == MCP_SUPERVISED_ENV).then(|| "off".to_owned())
        })
        .expect("the builder's");
        assert_eq!(resolved.supervision, McpSupervision::Elicit);
    }

    #[test]
    fn a_value_the_server_cannot_use_is_refused_with_what_it_should_be() {
        for (name, value, said) in [
            (MCP_MAX_SESSIONS_ENV, "0", "at least 1"),
            (MCP_MAX_MESSAGE_ENV, "1024", "at least 4096"),
            (MCP_MAX_MESSAGE_ENV, "4MiB", "a whole number of bytes"),
            (MCP_HEADER_TIMEOUT_ENV, "1.5", "whole number of seconds"),
            (MCP_CALLS_PER_SESSION_ENV, "-1", "at least 1"),
        ] {
            let err = with(&[(name, value)]).expect_err("refused");
            let message = err.to_string();
            assert!(
                message.contains(name) && message.contains(said),
                "{message}"
            );
        }
    }
}
