//! The `workbench` example served over HTTP as an OAuth resource server, tried by clients
//! that hold every kind of token a caller may send, good and bad.
//!
//! The test is its own authorization server: keys of each algorithm a JWKS may hold
//! (RS256, ES256, EdDSA), their JWKS served on loopback by a thread of the test (which
//! counts how often the server fetches it), access tokens minted here with
//! `jsonwebtoken`, and capability tokens minted and narrowed with the operator's token
//! key. The raw HTTP checks (the metadata documents, the challenges' headers, a token in
//! the query string, the JWKS refreshed no more than once a minute) are made here; the
//! calls an agent makes are made by the official Python MCP SDK (`tests/mcp/auth.py`),
//! sending each token as its bearer token. Then the operator's audit log is read: every
//! refusal is in it, every call names its principal (a delegated one with its chain), and
//! no token is.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cnv_token::{Mint, Narrowing, Scopes, TokenKey};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, encode};
use serde_json::{Value, json};

mod common;

const ISSUER: &str = "https://id.example";
const AUDIENCE: &str = "https://mcp.example/mcp";
const METADATA_URL: &str = "https://mcp.example/.well-known/oauth-protected-resource/mcp";

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

/// An RSA key, its JWK, and its public key's DER (what an HS256 forgery signs with).
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

/// The test's authorization server: its keys, and its JWKS served on loopback.
struct Idp {
    rs: (EncodingKey, Vec<u8>),
    ec: EncodingKey,
    ed: EncodingKey,
    /// A key the JWKS does not hold.
    rotated: EncodingKey,
    jwks_url: String,
    fetches: Arc<AtomicUsize>,
}

impl Idp {
    fn start() -> Self {
        let (rs_key, rs_jwk, rs_public) = rsa("rs");
        let (ec_key, ec_jwk) = p256("ec");
        let (ed_key, ed_jwk) = ed25519("ed");
        let (rotated, _) = ed25519("rotated");
        let jwks = serde_json::to_string(&JwkSet {
            keys: vec![rs_jwk, ec_jwk, ed_jwk],
        })
        .expect("json");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let fetches = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&fetches);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = (&stream).write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{jwks}",
                        jwks.len()
                    )
                    .as_bytes(),
                );
            }
        });
        Self {
            rs: (rs_key, rs_public),
            ec: ec_key,
            ed: ed_key,
            rotated,
            jwks_url: format!("http://{addr}/jwks"),
            fetches,
        }
    }

    fn claims(subject: &str, scope: &str) -> Value {
        json!({
            "iss": ISSUER,
            "aud": [AUDIENCE, "https://another.example"],
            "sub": subject,
            "azp": "py-agent",
            "exp": now() + 600,
            "nbf": now() - 10,
            "scope": scope,
        })
    }

    fn sign(algorithm: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.to_owned());
        encode(&header, claims, key).expect("signed")
    }

    fn rs256(&self, claims: &Value) -> String {
        Self::sign(Algorithm::RS256, "rs", &self.rs.0, claims)
    }

    /// Every token the clients send, by name.
    fn tokens(&self, operator: &TokenKey) -> HashMap<&'static str, String> {
        let good = Self::claims("alice", "openid cnv:ReadWriteFS");
        let with = |field: &str, value: Value| {
            let mut claims = good.clone();
            claims[field] = value;
            claims
        };
        let none = format!(
            "{}.{}.",
            base64url(br#"{"alg":"none","typ":"JWT","kid":"rs"}"#),
            base64url(good.to_string().as_bytes())
        );
        let hs256 = Self::sign(
            Algorithm::HS256,
            "rs",
            &EncodingKey::from_secret(&self.rs.1).expect("a secret"),
            &good,
        );
        let orchestrator = cnv_token::mint(
            operator,
            &Mint::new("orchestrator", scopes("cnv:ReadWriteFS")),
        )
        .expect("minted");
        let summariser = cnv_token::attenuate(
            &orchestrator,
            &Narrowing::to("summariser").scopes(scopes("cnv:ReadOnlyFS")),
        )
        .expect("narrowed");
        let reader = cnv_token::mint(operator, &Mint::new("reader", scopes("cnv:ReadOnlyFS")))
            .expect("minted");
        let widened = cnv_token::attenuate(
            &reader,
            &Narrowing::to("writer").scopes(scopes("cnv:ReadWriteFS")),
        )
        .expect("a holder may append any block: the server decides what it grants");
        let forged = cnv_token::mint(
            &TokenKey::generate(),
            &Mint::new("orchestrator", scopes("cnv:ReadWriteFS")),
        )
        .expect("minted with another key");
        HashMap::from([
            ("rs256", self.rs256(&good)),
            ("es256", Self::sign(Algorithm::ES256, "ec", &self.ec, &good)),
            ("eddsa", Self::sign(Algorithm::EdDSA, "ed", &self.ed, &good)),
            ("bob", self.rs256(&Self::claims("bob", "cnv:ReadWriteFS"))),
            (
                "narrow",
                self.rs256(&Self::claims("carol", "cnv:Pure cnv:file.read")),
            ),
            ("root", self.rs256(&Self::claims("root", "cnv:Dangerous"))),
            ("expired", self.rs256(&with("exp", json!(now() - 3600)))),
            (
                "not_yet_valid",
                self.rs256(&with("nbf", json!(now() + 3600))),
            ),
            (
                "wrong_audience",
                self.rs256(&with("aud", json!("https://another.example"))),
            ),
            (
                "wrong_issuer",
                self.rs256(&with("iss", json!("https://evil.example"))),
            ),
            (
                "unknown_kid",
                Self::sign(Algorithm::EdDSA, "rotated", &self.rotated, &good),
            ),
            ("alg_none", none),
            ("hs256_with_public_key", hs256),
            ("forged_capability", forged),
            ("delegated", summariser),
            ("widened", widened),
        ])
    }
}

fn scopes(text: &str) -> Scopes {
    Scopes::parse([text]).expect("scopes")
}

/// A scratch directory: the workspace (with `hello.txt`), the operator's keys, the log.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cnv-mcp-auth-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ws")).expect("scratch dir");
        std::fs::write(dir.join("ws").join("hello.txt"), "hello from the operator")
            .expect("a file");
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The workbench serving over HTTP with the operator's identity settings.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(scratch: &Scratch, bind: &str, vars: &[(&str, String)]) -> Result<Self, String> {
        let audit_key = scratch.path("audit.key");
        if !audit_key.exists() {
            cnv_audit::keygen(&scratch.path("audit")).expect("an audit key");
        }
        let mut command = Command::new(common::example("workbench"));
        command
            .args(["--mcp-serve-http", bind])
            .env_remove("CNV_AGENT")
            .env_remove("CNV_MCP_ALLOW_REMOTE")
            .env_remove("CNV_MCP_IDLE_TIMEOUT")
            .env("CNV_WORKSPACE", scratch.path("ws"))
            .env("CNV_AUDIT_LOG", scratch.path("audit.jsonl"))
            .env("CNV_AUDIT_KEY", &audit_key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in vars {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the example runs");
        let stderr = child.stderr.take().expect("its standard error");
        let mut said = Vec::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Some(line) = lines.next() {
            let line = line.unwrap_or_default();
            if let Some(at) = line.find("serving MCP at http://") {
                let rest = &line[at + "serving MCP at http://".len()..];
                let addr = rest.split('/').next().unwrap_or_default();
                let addr: SocketAddr = addr.parse().expect("the address it serves at");
                // The server goes on telling the operator about sessions: read it all.
                std::thread::spawn(move || lines.for_each(drop));
                return Ok(Self { child, addr });
            }
            said.push(line);
        }
        let _ = child.wait();
        Err(said.join("\n"))
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response, as the raw checks read it.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One HTTP/1.1 request on a connection of its own.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("sent");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

fn post(addr: SocketAddr, path: &str, token: Option<&str>, body: &str) -> Response {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer));
    }
    http(addr, "POST", path, &headers, body)
}

/// The operator's identity settings for a server of `idp`, taking capability tokens of
/// `operator` (its public key written beside the workspace).
fn identity(scratch: &Scratch, idp: &Idp, operator: &TokenKey) -> Vec<(&'static str, String)> {
    let public = scratch.path("operator.pub");
    if !public.exists() {
        operator.public_key().save(&public).expect("the public key");
    }
    vec![
        ("CNV_MCP_AUTH_ISSUER", ISSUER.to_owned()),
        ("CNV_MCP_AUTH_AUDIENCE", AUDIENCE.to_owned()),
        ("CNV_MCP_AUTH_JWKS", idp.jwks_url.clone()),
        ("CNV_MCP_TOKEN_KEY", public.display().to_string()),
    ]
}

/// The entries of the operator's audit log.
fn audit(scratch: &Scratch) -> (String, Vec<Value>) {
    let text = std::fs::read_to_string(scratch.path("audit.jsonl")).expect("the audit log");
    let entries = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("an entry"))
        .collect();
    (text, entries)
}

/// The finished calls refused by `rule`.
fn refused_by<'a>(entries: &'a [Value], rule: &str) -> Vec<&'a Value> {
    entries
        .iter()
        .filter(|entry| entry["event"] == "finish" && entry["result"]["rule"] == rule)
        .collect()
}

#[test]
fn the_edge_answers_with_rfc_9728_metadata_and_bearer_challenges() {
    let scratch = Scratch::new("raw");
    let idp = Idp::start();
    let operator = TokenKey::generate();
    let server = Server::start(
        &scratch,
        "127.0.0.1:0",
        &identity(&scratch, &idp, &operator),
    )
    .expect("serves");
    let addr = server.addr;
    assert_eq!(
        idp.fetches.load(Ordering::SeqCst),
        1,
        "the JWKS is fetched at start"
    );

    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let metadata = http(addr, "GET", path, &[], "");
        assert_eq!(metadata.status, 200, "{path}: {}", metadata.body);
        assert!(
            metadata
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json"))
        );
        let document: Value = serde_json::from_str(&metadata.body).expect("JSON");
        assert_eq!(document["resource"], AUDIENCE);
        assert_eq!(document["authorization_servers"], json!([ISSUER]));
        assert_eq!(document["bearer_methods_supported"], json!(["header"]));
        let supported: Vec<&str> = document["scopes_supported"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for scope in [
            "cnv:Pure",
            "cnv:ReadWriteFS",
            "cnv:Dangerous",
            "cnv:file.write",
        ] {
            assert!(supported.contains(&scope), "{scope} in {supported:?}");
        }
    }

    let missing = post(addr, "/mcp", None, INITIALIZE);
    assert_eq!(missing.status, 401, "{}", missing.body);
    let challenge = missing.header("www-authenticate").expect("a challenge");
    assert!(
        challenge.starts_with("Bearer ")
            && challenge.contains(&format!("resource_metadata=\"{METADATA_URL}\""))
            && !challenge.contains("error="),
        "no token, no error: {challenge}"
    );

    let tokens = idp.tokens(&operator);
    let expired = post(addr, "/mcp", Some(&tokens["expired"]), INITIALIZE);
    assert_eq!(expired.status, 401);
    let challenge = expired.header("www-authenticate").expect("a challenge");
    assert!(
        challenge.contains("error=\"invalid_token\"")
            && challenge.contains(&format!("resource_metadata=\"{METADATA_URL}\""))
            && challenge.contains("expired"),
        "{challenge}"
    );

    // A token the JWKS has no key for: the JWKS was fetched less than a minute ago, so it
    // is not fetched again, whatever the token says.
    for _ in 0..3 {
        let unknown = post(addr, "/mcp", Some(&tokens["unknown_kid"]), INITIALIZE);
        assert_eq!(unknown.status, 401);
    }
    assert_eq!(
        idp.fetches.load(Ordering::SeqCst),
        1,
        "tokens naming an unknown key do not make the server fetch the JWKS more than once a minute"
    );

    // In the query string, even a good token is refused.
    let path = format!("/mcp?access_token={}", tokens["rs256"]);
    let in_query = post(addr, &path, None, INITIALIZE);
    assert_eq!(in_query.status, 400, "{}", in_query.body);
    let challenge = in_query.header("www-authenticate").expect("a challenge");
    assert!(
        challenge.contains("error=\"invalid_request\""),
        "{challenge}"
    );
    let both = post(addr, &path, Some(&tokens["rs256"]), INITIALIZE);
    assert_eq!(
        both.status, 400,
        "a token in the query string is refused beside a good header"
    );

    let granted = post(addr, "/mcp", Some(&tokens["rs256"]), INITIALIZE);
    assert_eq!(granted.status, 200, "{}", granted.body);
    let session = granted
        .header("mcp-session-id")
        .expect("a session")
        .to_owned();
    // Another principal's token with that session: no such session.
    let hijack = http(
        addr,
        "DELETE",
        "/mcp",
        &[
            ("mcp-session-id", &session),
            ("authorization", &format!("Bearer {}", tokens["bob"])),
        ],
        "",
    );
    assert_eq!(hijack.status, 404, "{}", hijack.body);
    let own = http(
        addr,
        "DELETE",
        "/mcp",
        &[
            ("mcp-session-id", &session),
            ("authorization", &format!("Bearer {}", tokens["rs256"])),
        ],
        "",
    );
    assert!(
        own.status == 204 || own.status == 200,
        "{} {}",
        own.status,
        own.body
    );

    let (text, entries) = audit(&scratch);
    let bearer = refused_by(&entries, "bearer_token");
    assert_eq!(
        bearer.len(),
        7,
        "every refusal for the token is audited: {bearer:#?}"
    );
    assert!(
        bearer
            .iter()
            .all(|entry| entry["call"]["command"] == "MCP initialize"
                && entry["call"]["origin"].get("principal").is_none()),
        "{bearer:#?}"
    );
    let hijacks = refused_by(&entries, "scope");
    assert_eq!(hijacks.len(), 1, "{hijacks:#?}");
    assert_eq!(hijacks[0]["call"]["origin"]["principal"]["subject"], "bob");
    assert_eq!(hijacks[0]["call"]["origin"]["session_id"], session.as_str());
    for token in tokens.values() {
        assert!(
            !text.contains(token.as_str()),
            "no token is written to the audit log"
        );
    }
}

#[test]
fn identity_settings_open_the_server_beyond_loopback_and_bad_ones_refuse_to_serve() {
    let scratch = Scratch::new("bind");
    let idp = Idp::start();
    let operator = TokenKey::generate();
    let vars = identity(&scratch, &idp, &operator);
    let server = Server::start(&scratch, "0.0.0.0:0", &vars).expect("serves beyond loopback");
    assert!(server.addr.ip().is_unspecified(), "{}", server.addr);
    drop(server);

    let refused = Server::start(&scratch, "0.0.0.0:0", &[])
        .err()
        .expect("refused");
    assert!(refused.contains("CNV_MCP_AUTH_ISSUER"), "{refused}");

    let mut https = vars.clone();
    https[2].1 = "https://id.example/jwks".to_owned();
    let refused = Server::start(&scratch, "127.0.0.1:0", &https)
        .err()
        .expect("refused");
    assert!(refused.contains("no TLS client"), "{refused}");

    let mut unreachable = vars.clone();
    unreachable[2].1 = scratch.path("no-such-jwks.json").display().to_string();
    let refused = Server::start(&scratch, "127.0.0.1:0", &unreachable)
        .err()
        .expect("refused");
    assert!(
        refused.contains("JWKS") && refused.contains("cannot"),
        "{refused}"
    );
}

/// The venv's Python: `mcp-venv` in the target directory this test was built in.
fn venv_python() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf();
    let python = target.join("mcp-venv").join("bin").join("python");
    assert!(
        python.exists(),
        "the Python MCP SDK's venv is missing ({} does not exist): make it with \
         `cargo xtask mcp-venv` (`cargo xtask ci` makes it before the tests); this test \
         never skips",
        python.display()
    );
    python
}

fn here(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_official_python_sdk_calls_with_bearer_tokens_and_gets_only_what_they_grant() {
    let python = venv_python();
    let scratch = Scratch::new("python");
    let idp = Idp::start();
    let operator = TokenKey::generate();
    let server = Server::start(
        &scratch,
        "127.0.0.1:0",
        &identity(&scratch, &idp, &operator),
    )
    .expect("serves");
    let tokens = idp.tokens(&operator);
    let tokens_file = scratch.path("tokens.json");
    std::fs::write(&tokens_file, serde_json::to_string(&tokens).expect("json")).expect("written");

    let out = Command::new(&python)
        .arg(here("tests/mcp/auth.py"))
        .arg(server.url())
        .arg(&tokens_file)
        .arg(METADATA_URL)
        .output()
        .expect("the venv's Python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "the Python client's checks failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    drop(server);

    let (text, entries) = audit(&scratch);
    for token in tokens.values() {
        assert!(
            !text.contains(token.as_str()),
            "no token is written to the audit log"
        );
    }
    // No token, and the eight bad ones: each refusal is in the trail.
    let bearer = refused_by(&entries, "bearer_token");
    assert_eq!(bearer.len(), 9, "{bearer:#?}");
    let principal = |entry: &Value| entry["call"]["origin"]["principal"].clone();
    // Beyond the token: the narrow token's write, the delegated token's write, the
    // widening token's write, alice's wipe, and bob's try at alice's session.
    let scope = refused_by(&entries, "scope");
    let by: Vec<(String, String)> = scope
        .iter()
        .map(|entry| {
            (
                principal(entry)["subject"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry["call"]["command"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    for expected in [
        ("carol", "file write"),
        ("orchestrator", "file write"),
        ("reader", "file write"),
        ("alice", "workspace wipe"),
        ("bob", "HTTP POST /mcp"),
    ] {
        assert!(
            by.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {by:?}"
        );
    }
    let widened = scope
        .iter()
        .find(|entry| principal(entry)["subject"] == "reader")
        .expect("the widening try");
    assert_eq!(principal(widened)["chain"][1]["to"], "writer");

    // A granted call names its principal: issuer, subject and client.
    let created: Vec<&Value> = entries.iter().filter(|e| e["event"] == "create").collect();
    let alice = created
        .iter()
        .find(|entry| principal(entry)["subject"] == "alice")
        .expect("alice's calls");
    assert_eq!(principal(alice)["issuer"], ISSUER);
    assert_eq!(principal(alice)["client_id"], "py-agent");
    // The delegated call carries the whole chain.
    let delegated = created
        .iter()
        .find(|entry| principal(entry)["subject"] == "orchestrator")
        .expect("the delegated call");
    let chain = principal(delegated)["chain"].clone();
    assert_eq!(chain.as_array().map(Vec::len), Some(2), "{chain}");
    assert_eq!(chain[0]["to"], "orchestrator");
    assert_eq!(chain[1]["to"], "summariser");
    assert!(
        chain[1]["source"]
            .as_str()
            .is_some_and(|source| source.contains("ReadOnlyFS")),
        "{chain}"
    );
    assert!(
        principal(delegated)["issuer"]
            .as_str()
            .is_some_and(|issuer| issuer == format!("cnv-token:{}", operator.public_key())),
        "{delegated}"
    );
    // A token never lets `Dangerous` run for an agent: root's wipe reached the gate,
    // which refused it.
    assert!(
        created
            .iter()
            .any(|entry| entry["call"]["command"] == "workspace wipe"
                && principal(entry)["subject"] == "root"),
        "root's wipe reached the gate"
    );
    assert!(
        entries.iter().any(|entry| entry["event"] == "finish"
            && entry["session"] == "workbench workspace wipe"
            && entry["result"]["rule"] == "dangerous_never_autonomous"),
        "the gate refused it"
    );
    assert!(
        scratch.path("ws").join("hello.txt").exists(),
        "nothing was wiped"
    );
}
