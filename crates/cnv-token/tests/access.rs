//! OAuth access tokens as a resource server must take them, and every token it must not:
//! good RS256, ES256 and EdDSA tokens pass and say who they are for; expired, not yet
//! valid, another audience, another issuer, an unknown key, `alg: none`, HS256 signed
//! with the public key, and malformed keys in the JWKS are refused.

use std::time::{SystemTime, UNIX_EPOCH};

use cnv_caps::CapabilityClass;
use cnv_token::{AccessPolicy, BearerError, KeySet};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, encode};
use serde_json::{Value, json};

const ISSUER: &str = "https://auth.example";
const AUDIENCE: &str = "https://tools.example/mcp";

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn ed25519(kid: &str) -> (EncodingKey, Jwk) {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("randomness");
    let secret = ed25519_dalek::SigningKey::from_bytes(&seed);
    let encoding = EncodingKey::from_ed_der(secret.to_pkcs8_der().expect("der").as_bytes());
    let decoding = DecodingKey::from_ed_components(&base64url(secret.verifying_key().as_bytes()))
        .expect("key");
    let mut jwk = Jwk::from_decoding_key(&decoding, Some(Algorithm::EdDSA)).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    (encoding, jwk)
}

fn p256(kid: &str) -> (EncodingKey, Jwk) {
    use p256::pkcs8::EncodePrivateKey;
    let mut scalar = [0u8; 32];
    getrandom::fill(&mut scalar).expect("randomness");
    scalar[0] &= 0x7f;
    let secret = p256::ecdsa::SigningKey::from_slice(&scalar).expect("a scalar");
    let encoding = EncodingKey::from_ec_der(secret.to_pkcs8_der().expect("der").as_bytes());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    (encoding, jwk)
}

fn rsa(kid: &str) -> (EncodingKey, Jwk, Vec<u8>) {
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    let secret = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("a key");
    let encoding = EncodingKey::from_rsa_der(secret.to_pkcs1_der().expect("der").as_bytes());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    let public = secret
        .to_public_key()
        .to_pkcs1_der()
        .expect("der")
        .as_bytes()
        .to_vec();
    (encoding, jwk, public)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn claims(scope: &str) -> Value {
    json!({
        "iss": ISSUER,
        "aud": [AUDIENCE, "another"],
        "sub": "alice",
        "azp": "claude-code",
        "exp": now() + 300,
        "nbf": now() - 10,
        "scope": scope,
    })
}

fn sign(algorithm: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, key).expect("signed")
}

#[test]
fn good_tokens_of_each_algorithm_pass_and_say_who() {
    let (ed_key, ed_jwk) = ed25519("ed");
    let (ec_key, ec_jwk) = p256("ec");
    let (rs_key, rs_jwk, _) = rsa("rs");
    let jwks = serde_json::to_vec(&JwkSet {
        keys: vec![ed_jwk, ec_jwk, rs_jwk],
    })
    .expect("json");
    let keys = KeySet::from_jwks(&jwks).expect("a JWKS");
    assert_eq!(keys.len(), 3);
    let policy = AccessPolicy::new(ISSUER, AUDIENCE);
    for (algorithm, kid, key) in [
        (Algorithm::EdDSA, "ed", &ed_key),
        (Algorithm::ES256, "ec", &ec_key),
        (Algorithm::RS256, "rs", &rs_key),
    ] {
        let token = sign(
            algorithm,
            kid,
            key,
            &claims("openid cnv:ReadOnlyFS cnv:file.write"),
        );
        let access = policy.verify(&token, &keys).expect("accepted");
        assert_eq!(access.principal.subject, "alice");
        assert_eq!(access.principal.issuer, ISSUER);
        assert_eq!(access.principal.client_id.as_deref(), Some("claude-code"));
        assert!(
            access
                .scopes
                .grants(CapabilityClass::ReadOnlyFS, "file read")
        );
        assert!(
            access
                .scopes
                .grants(CapabilityClass::ReadWriteFS, "file write")
        );
        assert!(
            !access
                .scopes
                .grants(CapabilityClass::ReadWriteFS, "file move")
        );
    }
}

#[test]
fn every_bad_token_is_refused_with_its_reason() {
    let (key, jwk) = ed25519("ed");
    let (rs_key, rs_jwk, rs_public) = rsa("rs");
    let keys = KeySet::from_jwks(
        &serde_json::to_vec(&JwkSet {
            keys: vec![jwk, rs_jwk],
        })
        .expect("json"),
    )
    .expect("a JWKS");
    let policy = AccessPolicy::new(ISSUER, AUDIENCE);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims("cnv:Pure");
        change(&mut claims);
        sign(Algorithm::EdDSA, "ed", &key, &claims)
    };
    let refused = |token: &str| policy.verify(token, &keys).expect_err("refused");
    let invalid = |token: &str, why: &str| match refused(token) {
        BearerError::Invalid { reason } => assert!(reason.contains(why), "{reason}"),
        other => panic!("{why}: {other:?}"),
    };
    invalid(&with(&|c| c["exp"] = json!(now() - 61)), "expired");
    invalid(&with(&|c| c["nbf"] = json!(now() + 120)), "not valid yet");
    invalid(
        &with(&|c| c["aud"] = json!("https://other.example/mcp")),
        "another audience",
    );
    invalid(
        &with(&|c| c["iss"] = json!("https://evil.example")),
        "another issuer",
    );
    invalid(
        &with(&|c| {
            c.as_object_mut().expect("an object").remove("aud");
        }),
        "`aud`",
    );
    // Within the leeway: 30 s past `exp` still passes.
    assert!(
        policy
            .verify(&with(&|c| c["exp"] = json!(now() - 30)), &keys)
            .is_ok()
    );
    // A key the set does not have: the server refreshes and retries.
    let (other, _) = ed25519("other");
    assert!(matches!(
        refused(&sign(
            Algorithm::EdDSA,
            "other",
            &other,
            &claims("cnv:Pure")
        )),
        BearerError::UnknownKey { kid: Some(_) }
    ));
    // `alg: none`, unsigned.
    let unsigned = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT","kid":"ed"}"#),
        base64url(claims("cnv:Pure").to_string().as_bytes())
    );
    assert_eq!(refused(&unsigned), BearerError::Malformed);
    // HS256 with the RSA key's public half as the shared secret.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rs".to_owned());
    let confused = encode(
        &header,
        &claims("cnv:Pure"),
        &EncodingKey::from_secret(&rs_public).expect("a secret"),
    )
    .expect("signed");
    assert_eq!(refused(&confused), BearerError::Algorithm);
    // ES256 naming an RSA key.
    let (ec_key, _) = p256("x");
    assert_eq!(
        refused(&sign(Algorithm::ES256, "rs", &ec_key, &claims("cnv:Pure"))),
        BearerError::Algorithm
    );
    // A signature by another key under a known kid.
    invalid(
        &sign(Algorithm::EdDSA, "ed", &other, &claims("cnv:Pure")),
        "signature",
    );
    // The RSA key itself still works: the refusals were the tokens', not the set's.
    assert!(
        policy
            .verify(
                &sign(Algorithm::RS256, "rs", &rs_key, &claims("cnv:Pure")),
                &keys
            )
            .is_ok()
    );
    assert_eq!(refused("not.a.jwt"), BearerError::Malformed);
    assert!(matches!(
        refused(&with(&|c| c["scope"] = json!("cnv:nonsense"))),
        BearerError::Scope(_)
    ));
}

#[test]
fn keys_a_verifier_must_not_use_are_left_out_of_the_set() {
    let (_, good) = ed25519("good");
    let mut jwks = serde_json::to_value(JwkSet { keys: vec![good] }).expect("json");
    let keys = jwks["keys"].as_array_mut().expect("a list");
    // A short Ed25519 key (the verifier would slice 32 bytes of it), an HMAC key, a key
    // without a kid, an encryption key, and a key whose declared algorithm disagrees.
    keys.push(json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "short"}));
    keys.push(json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}));
    let mut no_kid = keys[0].clone();
    no_kid.as_object_mut().expect("an object").remove("kid");
    keys.push(no_kid);
    let mut encryption = keys[0].clone();
    encryption["kid"] = json!("enc");
    encryption["use"] = json!("enc");
    keys.push(encryption);
    let mut mismatched = keys[0].clone();
    mismatched["kid"] = json!("mismatched");
    mismatched["alg"] = json!("RS256");
    keys.push(mismatched);
    let set = KeySet::from_jwks(&serde_json::to_vec(&jwks).expect("json")).expect("a JWKS");
    assert_eq!(set.len(), 1, "{set:?}");
    assert!(KeySet::from_jwks(b"[]").is_err());
}
