//! What the operator decides about every run, whatever the command line says: the
//! settings a [`CliBuilder`](crate::CliBuilder) collects, and the environment variables in
//! which a launcher sets them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use cnv_audit::AuditSink;
use cnv_caps::ResourceBand;
use cnv_sandbox::Strictness;
use cnv_sandbox::worker::Budgets;
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

/// The environment variable in which a launcher names the witnesses of the audit logs:
/// `URL[,URL…]` (`http://HOST[:PORT]`, each running `cnv-audit witness serve`), beside the
/// program's own ([`CliBuilder::audit_witness`](crate::CliBuilder::audit_witness)). At
/// the end of each call the log's checkpoint, signed with the audit key, is submitted to
/// each witness by a thread of the log's own (the call does not wait; a witness that is
/// down does not stop calls), and a command line submits its last one before it exits;
/// `cnv-audit verify --witness` then catches a log rolled back or forked after a witness
/// saw it. Needs the audit key (`CNV_AUDIT_KEY`).
pub const AUDIT_WITNESS_ENV: &str = "CNV_AUDIT_WITNESS";

/// The environment variable in which a launcher names the workspace, the directory the
/// file classes may touch (unless the program fixed it with [`CliBuilder::workspace`](crate::CliBuilder::workspace);
/// default: the current directory).
pub const WORKSPACE_ENV: &str = "CNV_WORKSPACE";

/// The environment variable with which a launcher demands a strict sandbox (`strict`):
/// a call whose class the kernel cannot fully enforce is refused. It can only tighten
/// what the program chose ([`CliBuilder::sandbox`](crate::CliBuilder::sandbox)).
pub const SANDBOX_ENV: &str = "CNV_SANDBOX";

/// The environment variable in which a launcher lowers the budgets of a band's calls
/// below the program's ([`CliBuilder::budgets`](crate::CliBuilder::budgets), whose
/// defaults are [`Budgets::of`]): space-separated `band.budget=value` settings, as
/// `CNV_BUDGET="fast.memory=64MiB instant.output=256KiB slow.processes=16"`. The budgets
/// are `memory`, `processes`, `written`, `output` and `console`; a value is a count, or
/// bytes with an optional `KiB`, `MiB` or `GiB`. It can only lower a budget: a higher
/// value leaves the program's. A setting that does not read so refuses every call, with
/// a message that names it.
pub const BUDGET_ENV: &str = "CNV_BUDGET";

/// The operator's variable that records argument values and justifications in traces
/// (`CNV_OTEL_RECORD_ARGUMENTS=1`; see [`telemetry`](crate::telemetry)); without it they
/// never are.
pub const RECORD_ARGUMENTS_ENV: &str = "CNV_OTEL_RECORD_ARGUMENTS";

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
    pub(crate) audit_witnesses: Vec<String>,
    pub(crate) audit_sinks: Vec<Arc<dyn AuditSink>>,
    pub(crate) workspace: Option<PathBuf>,
    pub(crate) strictness: Strictness,
    pub(crate) sandbox: bool,
    /// The program's budgets, where they are not a band's defaults.
    pub(crate) budgets: HashMap<ResourceBand, Budgets>,
}

impl Settings {
    /// The names of the variables in which a launcher sets what this program's runs may
    /// do: a worker process never inherits them.
    pub(crate) fn operator_vars(&self) -> Vec<String> {
        [
            AUDIT_LOG_ENV,
            AUDIT_KEY_ENV,
            AUDIT_WITNESS_ENV,
            WORKSPACE_ENV,
            SANDBOX_ENV,
            BUDGET_ENV,
            RECORD_ARGUMENTS_ENV,
            self.agent_env.as_str(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// What one call of `band` may use: the program's budgets, lowered by the launcher's
    /// `CNV_BUDGET` (`launcher`, when set).
    ///
    /// # Errors
    ///
    /// What is wrong with the launcher's setting.
    pub(crate) fn budgets(
        &self,
        band: ResourceBand,
        launcher: Option<&str>,
    ) -> Result<Budgets, String> {
        let mut budgets = self
            .budgets
            .get(&band)
            .copied()
            .unwrap_or_else(|| Budgets::of(band));
        let Some(launcher) = launcher else {
            return Ok(budgets);
        };
        for setting in launcher.split_whitespace() {
            let invalid = |why: &str| {
                format!(
                    "`{BUDGET_ENV}` has `{setting}`, which {why}; it takes space-separated `band.budget=value` settings (`fast.memory=64MiB`: budgets memory, processes, written, output, console; values a count or bytes with KiB, MiB or GiB)"
                )
            };
            let (name, value) = setting
                .split_once('=')
                .ok_or_else(|| invalid("has no `=`"))?;
            let (band_name, budget) = name
                .split_once('.')
                .ok_or_else(|| invalid("names no band (`fast.memory`)"))?;
            let named: ResourceBand = band_name
                .parse()
                .map_err(|_| invalid("names no band (instant, fast, medium, slow, cold)"))?;
            if named != band {
                continue;
            }
            let value = quantity(value).ok_or_else(|| invalid("has no number it can read"))?;
            let lower = |current: Option<u64>| Some(current.map_or(value, |c| c.min(value)));
            match budget {
                "memory" => budgets.memory_bytes = lower(budgets.memory_bytes),
                "processes" => budgets.processes = lower(budgets.processes),
                "written" => budgets.written_bytes = lower(budgets.written_bytes),
                "output" => budgets.output_bytes = budgets.output_bytes.min(value),
                "console" => budgets.console_bytes = budgets.console_bytes.min(value),
                _ => return Err(invalid("names no budget")),
            }
        }
        Ok(budgets)
    }
}

/// A count, or bytes with an optional binary unit (`64MiB`).
fn quantity(text: &str) -> Option<u64> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let scale: u64 = match unit {
        "" => 1,
        "KiB" | "K" | "k" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// The prefix of OpenTelemetry's variables: the operator's exporting settings (its
/// collector's address, and headers that may hold the collector's credentials).
pub(crate) const OTEL_ENV_PREFIX: &str = "OTEL_";

/// Whether no handler may read the variable `name`: one of the operator's settings
/// (`operator_vars`), or OpenTelemetry's.
pub(crate) fn hidden_from_handlers(operator_vars: &[String], name: &str) -> bool {
    name.starts_with(OTEL_ENV_PREFIX) || operator_vars.iter().any(|hidden| hidden == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            policy: EscalationPolicy::default(),
            agent_env: DEFAULT_AGENT_ENV.to_owned(),
            agent_mode: AgentMode::default(),
            audit_log: None,
            audit_key: None,
            audit_witnesses: Vec::new(),
            audit_sinks: Vec::new(),
            workspace: None,
            strictness: Strictness::BestEffort,
            sandbox: true,
            budgets: HashMap::new(),
        }
    }

    #[test]
    fn the_launcher_lowers_a_band_s_budgets_and_never_raises_them() {
        let settings = settings();
        let fast = settings
            .budgets(
                ResourceBand::Fast,
                Some("fast.memory=64MiB fast.output=100GiB slow.processes=1"),
            )
            .unwrap();
        assert_eq!(fast.memory_bytes, Some(64 << 20));
        assert_eq!(
            fast.output_bytes,
            Budgets::of(ResourceBand::Fast).output_bytes
        );
        assert_eq!(fast.processes, Budgets::of(ResourceBand::Fast).processes);
        let cold = settings
            .budgets(ResourceBand::Cold, Some("cold.memory=1G"))
            .unwrap();
        assert_eq!(
            cold.memory_bytes,
            Some(1 << 30),
            "a band without a limit gets one"
        );
    }

    #[test]
    fn the_witnesses_are_the_operator_s_and_no_worker_sees_them() {
        assert!(
            settings()
                .operator_vars()
                .contains(&AUDIT_WITNESS_ENV.to_owned())
        );
    }

    #[test]
    fn a_setting_that_does_not_read_is_an_error_that_names_it() {
        let settings = settings();
        for bad in [
            "fast.memory",
            "memory=1",
            "warp.memory=1",
            "fast.disk=1",
            "fast.memory=1TB",
        ] {
            let err = settings.budgets(ResourceBand::Fast, Some(bad)).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }
}
