//! `cargo xtask mcp-venv`: the Python virtual environment in which the end-to-end tests
//! of the MCP server run the official Python MCP SDK (`mcp` on PyPI), at the versions
//! pinned in `crates/cnv/tests/mcp/requirements.txt`.
//!
//! It lives in `target/mcp-venv` and is made once: a venv whose recorded requirements are
//! the pinned ones is kept, any other is made anew. The test that uses it
//! (`crates/cnv/tests/mcp_python.rs`) fails, saying to run this, when it is missing.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::{step, workspace_root};

/// The pinned requirements, relative to the workspace root.
const REQUIREMENTS: &str = "crates/cnv/tests/mcp/requirements.txt";

/// Where the venv records the requirements it was made with.
const STAMP: &str = "cnv-requirements.txt";

/// The venv's directory: `mcp-venv` in the target directory.
pub(crate) fn dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
        .join("mcp-venv")
}

pub(crate) fn run() -> Result<(), String> {
    let root = workspace_root();
    let requirements = root.join(REQUIREMENTS);
    let wanted = fs::read_to_string(&requirements)
        .map_err(|err| format!("could not read {}: {err}", requirements.display()))?;
    let venv = dir();
    let python = venv.join("bin").join("python");
    let stamp = venv.join(STAMP);
    if python.exists() && fs::read_to_string(&stamp).is_ok_and(|made| made == wanted) {
        println!(
            "\n==> mcp venv: {} has the pinned requirements",
            venv.display()
        );
        return Ok(());
    }
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .map_err(|err| format!("could not remove the old {}: {err}", venv.display()))?;
    }
    let mut make = Command::new("python3");
    make.args(["-m", "venv"]).arg(&venv);
    step("mcp venv: python3 -m venv", make)?;
    let mut install = Command::new(&python);
    install
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
        ])
        .arg(&requirements)
        .current_dir(&root);
    step("mcp venv: pip install the pinned SDK", install)?;
    fs::write(&stamp, wanted).map_err(|err| format!("could not write {}: {err}", stamp.display()))
}
