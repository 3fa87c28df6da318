//! What the operator decides about every run, whatever the command line says: the
//! settings a [`CliBuilder`](crate::CliBuilder) collects, and the environment variables in
//! which a launcher sets them.

use std::path::PathBuf;
use std::sync::Arc;

use cnv_audit::AuditSink;
use cnv_sandbox::Strictness;
use cnv_typestate::EscalationPolicy;

/// The environment variable that turns agent mode on, unless
/// [`CliBuilder::agent_env`](crate::CliBuilder::agent_env) names another.
pub const DEFAULT_AGENT_ENV: &str = "CNV_AGENT";

/// The environment variable in which a launcher names the audit log (beside the
/// program's own, [`CliBuilder::audit_log`](crate::CliBuilder::audit_log)).
pub const AUDIT_LOG_ENV: &str = "CNV_AUDIT_LOG";

/// The environment variable in which a launcher names the secret key that signs the
/// audit logs (made with `cnv-audit keygen`, readable by its owner only), unless the
/// program fixed it with [`CliBuilder::audit_key`](crate::CliBuilder::audit_key). With a key, the decision to run each
/// call is signed before its handler starts, and every call's end is signed, so
/// `cnv-audit verify --key` proves the trail was not rewritten by anyone without it.
pub const AUDIT_KEY_ENV: &str = "CNV_AUDIT_KEY";

/// The environment variable in which a launcher names the workspace, the directory the
/// file classes may touch (unless the program fixed it with [`CliBuilder::workspace`](crate::CliBuilder::workspace);
/// default: the current directory).
pub const WORKSPACE_ENV: &str = "CNV_WORKSPACE";

/// The environment variable with which a launcher demands a strict sandbox (`strict`):
/// a call whose class the kernel cannot fully enforce is refused. It can only tighten
/// what the program chose ([`CliBuilder::sandbox`](crate::CliBuilder::sandbox)).
pub const SANDBOX_ENV: &str = "CNV_SANDBOX";

/// When a command line runs in agent mode.
///
/// The gate holds only as far as agent mode does: if whoever calls the program chooses
/// its arguments and environment, they choose the mode. A program launched for an agent
/// by code the agent does not control (an MCP server, a tool runner) can leave the choice
/// to the launcher ([`FlagOrEnv`](Self::FlagOrEnv)); a program that only agents run, or
/// whose launcher the agent could bypass, should be [`Always`](Self::Always).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentMode {
    /// Agent mode when `--agent` is given or the agent environment variable is on.
    #[default]
    FlagOrEnv,
    /// Always agent mode: no flag or variable can turn it off.
    Always,
}

/// What the program (its author or the launcher that starts it) decides about every run,
/// whatever the command line says.
pub(crate) struct Settings {
    pub(crate) policy: EscalationPolicy,
    pub(crate) agent_env: String,
    pub(crate) agent_mode: AgentMode,
    pub(crate) audit_log: Option<PathBuf>,
    pub(crate) audit_key: Option<PathBuf>,
    pub(crate) audit_sinks: Vec<Arc<dyn AuditSink>>,
    pub(crate) workspace: Option<PathBuf>,
    pub(crate) strictness: Strictness,
    pub(crate) sandbox: bool,
}
