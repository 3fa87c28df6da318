//! OAuth access tokens (JWT) as a resource server checks them: signed by a key of the
//! authorization server's JWKS (RS256, ES256 or EdDSA; never `none` or HMAC), issued by
//! the configured issuer for the configured audience, within their `exp` and `nbf` (60 s
//! of leeway). What they grant are their `cnv:` scopes ([`Scopes`]).
//!
//! Fetching and caching the JWKS is the server's (`cnv-mcp`): this module reads one
//! ([`KeySet::from_jwks`]) and verifies a token against it ([`AccessPolicy::verify`]),
//! saying when the token names a key the set does not have, so the server can refresh.

use std::collections::HashMap;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

use crate::scope::{ScopeError, Scopes};

/// The signature algorithms a token may use.
pub const ALGORITHMS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

/// The leeway on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 60;

/// The keys of an authorization server's JWKS that can verify a token, by `kid`.
#[derive(Clone, Default)]
pub struct KeySet {
    by_kid: HashMap<String, (Algorithm, DecodingKey)>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.by_kid.keys().collect();
        kids.sort();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

/// A JWKS that does not read.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
#[error("the JWKS does not read as a JSON Web Key Set ({reason}); it must be {{\"keys\": [...]}}")]
pub struct JwksError {
    /// What the parser said.
    pub reason: String,
}

impl KeySet {
    /// The signing keys of a JWKS document: RSA (RS256), P-256 (ES256) and Ed25519 (EdDSA)
    /// keys that have a `kid`; encryption keys, HMAC (`oct`) keys, other curves and keys
    /// whose declared algorithm disagrees with their type are left out.
    ///
    /// # Errors
    ///
    /// [`JwksError`] when the document is not a JWKS.
    pub fn from_jwks(bytes: &[u8]) -> Result<Self, JwksError> {
        let set: JwkSet = serde_json::from_slice(bytes).map_err(|error| JwksError {
            reason: error.to_string(),
        })?;
        let mut by_kid = HashMap::new();
        for jwk in &set.keys {
            let usable = matches!(
                jwk.common.public_key_use,
                None | Some(PublicKeyUse::Signature)
            );
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            if !usable {
                continue;
            }
            let declared = jwk.common.key_algorithm;
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::RSA(_)
                    if matches!(declared, None | Some(KeyAlgorithm::RS256)) =>
                {
                    Algorithm::RS256
                }
                AlgorithmParameters::EllipticCurve(params)
                    if params.curve == EllipticCurve::P256
                        && matches!(declared, None | Some(KeyAlgorithm::ES256)) =>
                {
                    Algorithm::ES256
                }
                // An Ed25519 key of any other length than 32 bytes would make the verifier
                // panic (it slices 32 bytes): such a key is left out.
                AlgorithmParameters::OctetKeyPair(params)
                    if params.curve == EllipticCurve::Ed25519
                        && matches!(declared, None | Some(KeyAlgorithm::EdDSA))
                        && base64url_len(&params.x) == Some(32) =>
                {
                    Algorithm::EdDSA
                }
                _ => continue,
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                by_kid.insert(kid, (algorithm, key));
            }
        }
        Ok(Self { by_kid })
    }

    /// How many keys can verify tokens.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_kid.len()
    }

    /// Whether no key can verify tokens.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

/// The decoded length of unpadded base64url text, if it is that.
fn base64url_len(text: &str) -> Option<usize> {
    let valid = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let rem = text.len() % 4;
    (valid && rem != 1).then(|| text.len() / 4 * 3 + rem.saturating_sub(1))
}

/// Who called, as the verified token says: recorded with every call (never the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Principal {
    /// The token's issuer (`iss`).
    pub issuer: String,
    /// Its subject (`sub`): the user or service the token was issued to.
    pub subject: String,
    /// The OAuth client it was issued through (`client_id`, else `azp`), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// A verified access token: who, and what its scopes grant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Access {
    /// Who called.
    pub principal: Principal,
    /// What the token grants.
    pub scopes: Scopes,
}

/// Why a token was refused (HTTP 401, `error="invalid_token"`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerError {
    /// Not a JWT, or its header does not read.
    #[error("the token is not a signed JWT")]
    Malformed,
    /// Signed with an algorithm the server does not take (`none`, HMAC, another).
    #[error(
        "the token is signed with an algorithm this server does not accept (it takes RS256, ES256 and EdDSA)"
    )]
    Algorithm,
    /// It names a key the JWKS does not have: refresh the JWKS and try once more.
    #[error(
        "the token names a signing key (kid {kid:?}) the authorization server's key set does not have"
    )]
    UnknownKey {
        /// The `kid` it names.
        kid: Option<String>,
    },
    /// The signature, the issuer, the audience, or the times do not hold.
    #[error("the token was refused: {reason}")]
    Invalid {
        /// Which.
        reason: String,
    },
    /// A `cnv:` scope that does not read.
    #[error(transparent)]
    Scope(#[from] ScopeError),
}

/// The claims read from a token, beside what the validation checks.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    sub: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    /// RFC 9068 / 8693: space-separated.
    #[serde(default)]
    scope: Option<String>,
    /// Some servers: a list.
    #[serde(default)]
    scp: Option<Vec<String>>,
}

/// What the server accepts: tokens of one issuer, for one audience.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessPolicy {
    /// The issuer (`iss`) tokens must name.
    pub issuer: String,
    /// The audience this server is: tokens must name it among their `aud`.
    pub audience: String,
}

impl AccessPolicy {
    /// Tokens of `issuer` for `audience`.
    #[must_use]
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// Verifies `token` with `keys`: its signature by the key its `kid` names (with that
    /// key's one algorithm), `iss`, `aud`, `exp` and `nbf` (60 s of leeway), and reads
    /// who it is for and its `cnv:` scopes.
    ///
    /// # Errors
    ///
    /// [`BearerError`]: [`BearerError::UnknownKey`] means "refresh the keys and retry".
    pub fn verify(&self, token: &str, keys: &KeySet) -> Result<Access, BearerError> {
        // `none` is no variant of the header's algorithm: it fails here.
        let header = decode_header(token).map_err(|_| BearerError::Malformed)?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err(BearerError::Algorithm);
        }
        let Some((algorithm, key)) = header.kid.as_deref().and_then(|kid| keys.by_kid.get(kid))
        else {
            return Err(BearerError::UnknownKey { kid: header.kid });
        };
        // The key's algorithm, not the token's: an HS256 token made with an RSA public key
        // as its secret, or an ES256 token naming an RSA key, are refused.
        if *algorithm != header.alg {
            return Err(BearerError::Algorithm);
        }
        let mut validation = Validation::new(*algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = decode::<Claims>(token, key, &validation)
            .map_err(|error| BearerError::Invalid {
                reason: describe(error.kind()),
            })?
            .claims;
        let listed = claims.scp.unwrap_or_default();
        let scopes = Scopes::parse(
            claims
                .scope
                .as_deref()
                .into_iter()
                .chain(listed.iter().map(String::as_str)),
        )?;
        Ok(Access {
            principal: Principal {
                issuer: claims.iss,
                subject: claims.sub,
                client_id: claims.client_id.or(claims.azp),
            },
            scopes,
        })
    }
}

/// A validation failure in words.
fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::ExpiredSignature => "it has expired".to_owned(),
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidAudience => "it was issued for another audience".to_owned(),
        ErrorKind::InvalidIssuer => "it was issued by another issuer".to_owned(),
        ErrorKind::InvalidSignature => "its signature does not verify".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("it has no `{claim}` claim"),
        ErrorKind::InvalidAlgorithm => "its algorithm is not its key's".to_owned(),
        other => format!("{other:?}"),
    }
}
