//! `cnv-token` as the operator and a holder use it: a key pair, a token minted, narrowed
//! for a sub-agent from standard input, and inspected with and without the key.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-token-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn cnv_token(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cnv-token"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cnv-token runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("written");
    child.wait_with_output().expect("it ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

#[test]
fn mint_narrow_and_inspect_a_token() {
    let dir = scratch("cli");
    let prefix = dir.join("operator");
    let prefix = prefix.to_str().expect("a UTF-8 path");
    let out = cnv_token(&["keygen", "--out", prefix], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = format!("{prefix}.key");
    let public = format!("{prefix}.pub");
    let out = cnv_token(
        &[
            "mint",
            "--key",
            &key,
            "--to",
            "orchestrator",
            "--scope",
            "cnv:ReadWriteFS",
            "--expires",
            "1h",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout);
    let out = cnv_token(
        &[
            "attenuate",
            "--to",
            "summariser",
            "--scope",
            "cnv:file.read",
            "--workspace",
            "reports",
            "--budget",
            "3",
        ],
        &token,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let narrowed = text(&out.stdout);
    let out = cnv_token(&["inspect", "--key", &public], &narrowed);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("verified against "), "{shown}");
    assert!(shown.contains("issued to orchestrator"), "{shown}");
    assert!(shown.contains("workspace directory reports/"), "{shown}");
    assert!(shown.contains("block 1 (to summariser)"), "{shown}");
    assert!(shown.contains("file.read"), "{shown}");
    let out = cnv_token(&["inspect"], &narrowed);
    assert!(text(&out.stdout).starts_with("NOT verified"));
    // Another operator's key refuses it; a scope that is not cnv's is an error.
    let other = dir.join("other");
    let other = other.to_str().expect("a UTF-8 path");
    assert!(cnv_token(&["keygen", "--out", other], "").status.success());
    let out = cnv_token(&["inspect", "--key", &format!("{other}.pub")], &narrowed);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not issued with the operator's key"),
        "{}",
        text(&out.stderr)
    );
    let out = cnv_token(
        &["mint", "--key", &key, "--to", "x", "--scope", "admin"],
        "",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("must be a cnv scope"),
        "{}",
        text(&out.stderr)
    );
    // Keys are never overwritten, and a secret key others can read is refused.
    assert!(!cnv_token(&["keygen", "--out", prefix], "").status.success());
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    let out = cnv_token(
        &["mint", "--key", &key, "--to", "x", "--scope", "cnv:Pure"],
        "",
    );
    assert!(
        text(&out.stderr).contains("chmod 600"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
