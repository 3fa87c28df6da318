//! The `workbench` example served over MCP and driven by a client no one here wrote: the
//! official Python MCP SDK, at the version pinned in `tests/mcp/requirements.txt`, in the
//! venv `cargo xtask mcp-venv` makes (`cargo xtask ci` makes it before the tests).
//!
//! The script (`tests/mcp/e2e.py`) goes through stdio and streamable HTTP as an agent
//! would; this test then checks, with `cnv-audit`'s own verifier, that the operator's
//! signed audit logs the server wrote are intact. `progress.py` hears a slow verb's
//! progress; `elicitation.py` plays the person at a client who approves, or not, on a
//! supervised server; `client_docs.py` runs the guide's client configurations and Python
//! snippet as they are written.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

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

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cnv-mcp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ws")).expect("scratch dir");
    dir
}

fn here(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_official_python_sdk_drives_the_workbench_over_stdio_and_http() {
    let python = venv_python();
    let workbench = common::example("workbench");
    let dir = scratch("python");
    std::fs::write(dir.join("ws").join("hello.txt"), "hello from the operator").expect("a file");
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).expect("keys");
    let key = cnv_audit::keygen(&keys.join("operator")).expect("a key pair");

    let out = Command::new(&python)
        .arg(here("tests/mcp/e2e.py"))
        .arg(&workbench)
        .arg(here("../cnv-grammar/tests/data/mcp-schema-2025-11-25.json"))
        .arg(&dir)
        .arg(&key.secret)
        .env_remove("CNV_AGENT")
        .env_remove("CNV_WORKSPACE")
        .env_remove("CNV_AUDIT_LOG")
        .env_remove("CNV_AUDIT_KEY")
        .env_remove("CNV_MCP_IDLE_TIMEOUT")
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

    for log in ["stdio-audit.jsonl", "http-audit.jsonl"] {
        let log = dir.join(log);
        let verified = cnv_audit::verify(&log, Some(&key.public_key));
        assert!(
            verified.is_intact(),
            "{}: {:?}",
            log.display(),
            verified.problem
        );
        assert_eq!(verified.signed_through, verified.lines, "{verified:?}");
        // Every call the gate saw ended, and its end is in the log: the ones that ran
        // and the ones that did not (2 calc sum, 1 file read, 3 file write, 2 workspace
        // wipe, 1 net send, and the HTTP server's 300 calc sum of its many sessions).
        assert!(verified.calls >= 9, "{verified:?}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_slow_verb_sends_progress_to_the_python_sdk_over_stdio_and_http_and_a_fast_one_does_not() {
    let python = venv_python();
    let workbench = common::example("workbench");
    let dir = scratch("progress");
    let out = Command::new(&python)
        .arg(here("tests/mcp/progress.py"))
        .arg(&workbench)
        .arg(&dir)
        .env_remove("CNV_AGENT")
        .env_remove("CNV_MCP_SUPERVISED")
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
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_person_at_an_elicitation_capable_client_approves_only_on_a_supervised_server() {
    let python = venv_python();
    let workbench = common::example("workbench");
    let dir = scratch("elicitation");
    let out = Command::new(&python)
        .arg(here("tests/mcp/elicitation.py"))
        .arg(&workbench)
        .arg(&dir)
        .env_remove("CNV_AGENT")
        .env_remove("CNV_MCP_SUPERVISED")
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
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn the_guide_s_client_configurations_and_python_snippet_run_as_written() {
    let python = venv_python();
    let workbench = common::example("workbench");
    let examples = workbench.parent().expect("the examples' directory");
    let dir = scratch("client-docs");
    let out = Command::new(&python)
        .arg(here("tests/mcp/client_docs.py"))
        .arg(here("../../docs/guide.md"))
        .arg(examples)
        .arg(&dir)
        .env_remove("CNV_AGENT")
        .env_remove("CNV_WORKSPACE")
        .env_remove("CNV_AUDIT_LOG")
        .env_remove("CNV_MCP_SUPERVISED")
        .output()
        .expect("the venv's Python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "the guide's blocks did not run as written ({}):\n{stdout}\n{stderr}",
        out.status
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
