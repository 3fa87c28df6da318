//! The introspection flags of the root command: `--completions`, `--grammar`,
//! `--mcp-tools` and `--capabilities`, and the capability table they print.

use clap::ArgMatches;
use cnv_caps::{CapabilityClass, ResourceBand, SafetyProfile};
use cnv_sandbox::{Enforcement, Grant, Sandbox};
use cnv_typestate::{EscalationPolicy, Requirement, RunMode};
use serde::Serialize;

use crate::cli::Cli;
use crate::command::global;
use crate::console::Console;
use crate::output::Exit;
use crate::report;
use crate::serve::Serve;

/// One row of `--capabilities`: a verb, its contract, and what running it needs in each
/// mode (the policy's [`Requirement`], the one answer the gate acts on).
///
/// With `--format json` the rows are printed as a JSON array of these objects:
///
/// ```json
/// {"command":"file write","class":"ReadWriteFS","risk":6,"band":"Fast",
///  "safety":"HumanReviewRequired","agent":"--justify 20+",
///  "agent_needs":{"needs":"justification","min_chars":20},
///  "human_needs":{"needs":"confirmation","scripted":true},
///  "kernel":{"class":"ReadWriteFS","restricted":false,"applied_abi":7,…,"gaps":[]}}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CapabilityRow {
    /// The command: nouns, then the verb.
    pub command: String,
    /// Its capability class.
    pub class: CapabilityClass,
    /// The class's risk level, 0 to 10.
    pub risk: u8,
    /// Its resource band.
    pub band: ResourceBand,
    /// Its safety profile.
    pub safety: SafetyProfile,
    /// What agent mode demands, in the table's words: `yes`, `--justify N+` or `never`.
    pub agent: String,
    /// What agent mode demands.
    pub agent_needs: Requirement,
    /// What a person running it is asked for.
    pub human_needs: Requirement,
    /// What the kernel of this machine enforces for its class (the sandbox's plan: the
    /// Landlock ABI, each aspect enforced or not, the gaps), in words in the table.
    pub kernel: Enforcement,
}

impl CapabilityRow {
    /// The row of the verb `command` with `contract`, under `policy`.
    fn new(
        command: String,
        contract: cnv_caps::CapabilityContract,
        policy: &EscalationPolicy,
    ) -> Self {
        let agent_needs = policy.requirement(RunMode::Autonomous, &contract);
        let class = contract.class();
        Self {
            command,
            class,
            risk: class.risk_level(),
            band: contract.band(),
            safety: contract.safety(),
            agent: agent_column(agent_needs),
            agent_needs,
            human_needs: policy.requirement(RunMode::Supervised, &contract),
            kernel: Sandbox::new(class).plan(),
        }
    }
}

/// Adds what an agent must give to call the tool of `row`.
fn describe_agent_needs(tool: &mut serde_json::Value, row: &CapabilityRow) {
    use serde_json::{Value, json};
    tool["_meta"]["cnv/agent"] = serde_json::to_value(row.agent_needs).unwrap_or(Value::Null);
    let class = row.class;
    let note = match row.agent_needs {
        Requirement::Nothing => return,
        Requirement::Justification { min_chars } => {
            let schema = &mut tool["inputSchema"];
            let name = cnv_grammar::rules::JUSTIFICATION_ARGUMENT;
            schema["properties"][name] = json!({
                "type": "string",
                "minLength": min_chars,
                "description": format!(
                    "Why this call needs `{class}` ({}): at least {min_chars} characters, \
                     checked by the escalation policy and written to the audit log",
                    class.describe()
                ),
            });
            if let Some(required) = schema["required"].as_array_mut() {
                required.push(Value::from(name));
            }
            format!(
                "Not agent-safe (`{class}`): every call needs a `justification` of at least \
                 {min_chars} characters."
            )
        }
        Requirement::Never { .. }
        | Requirement::Confirmation { .. }
        | Requirement::Approval { .. } => format!(
            "Never runs for an agent (`{class}`, safety `{}`): a person must run it.",
            row.safety
        ),
    };
    if let Some(description) = tool["description"].as_str() {
        tool["description"] = Value::from(format!("{description}\n\n{note}"));
    }
}

/// The table's words for what the kernel enforces of a class.
fn kernel_column(plan: &Enforcement) -> String {
    if Grant::of(plan.class).is_unrestricted() {
        "not confined (a person approves each run)".to_owned()
    } else if plan.is_full() {
        format!("enforced (Landlock ABI {})", plan.applied_abi)
    } else {
        format!("partly: {}", plan.gaps.join("; "))
    }
}

/// The table's words for what an agent must give.
fn agent_column(needs: Requirement) -> String {
    match needs {
        Requirement::Nothing => "yes".to_owned(),
        Requirement::Justification { min_chars } => format!("--justify {min_chars}+"),
        // An agent can neither be a person nor produce a person's approval.
        Requirement::Never { .. }
        | Requirement::Confirmation { .. }
        | Requirement::Approval { .. } => "never".to_owned(),
    }
}

impl<S: Serve> Cli<S> {
    /// The grammar as an MCP `tools/list` result (what `--mcp-tools` prints): the
    /// grammar's own manifest ([`GrammarModel::to_mcp_tools`](cnv_grammar::GrammarModel::to_mcp_tools)),
    /// with what each tool needs from an agent under this command line's policy — the
    /// same [`Requirement`] the gate acts on — in `_meta["cnv/agent"]` and in words in its
    /// description. A tool whose verb needs a justification declares a required
    /// `justification` string argument with the policy's minimum length; a tool whose verb
    /// never runs for an agent is listed (so an agent knows it exists) and says so.
    #[must_use]
    pub fn mcp_tools(&self) -> serde_json::Value {
        let mut manifest = self.model().to_mcp_tools();
        let rows = self.capabilities();
        if let Some(tools) = manifest["tools"].as_array_mut() {
            for (tool, row) in tools.iter_mut().zip(&rows) {
                describe_agent_needs(tool, row);
            }
        }
        manifest
    }

    /// Every verb's capability and what running it needs, as `--capabilities` prints
    /// them, in declaration order.
    #[must_use]
    pub fn capabilities(&self) -> Vec<CapabilityRow> {
        self.model()
            .verbs()
            .map(|(path, verb)| {
                CapabilityRow::new(path.command(verb), verb.contract(), &self.settings.policy)
            })
            .collect()
    }
}

/// Prints what the root command's introspection flag asks for and returns the exit
/// status, or `None` when none was asked for.
pub(crate) fn run<S: Serve>(
    cli: &Cli<S>,
    root: &ArgMatches,
    json: bool,
    console: &mut Console<'_>,
) -> Option<Exit> {
    if let Some(shell) = root.get_one::<clap_complete::Shell>(global::COMPLETIONS) {
        let name = cli.model().app_name().to_owned();
        // clap_complete panics when its writer fails (a closed pipe: `| head`), so the
        // script is generated into memory and written like every other output.
        let mut script = Vec::new();
        clap_complete::generate(*shell, &mut cli.lock_command(), name, &mut script);
        let written = console
            .stdout
            .write_all(&script)
            .and_then(|()| console.stdout.flush());
        return Some(report::delivered(Exit::Success, written, console));
    }
    let text = if root.get_flag(global::GRAMMAR) {
        serde_json::to_string_pretty(cli.model())
    } else if root.get_flag(global::MCP_TOOLS) {
        serde_json::to_string_pretty(&cli.mcp_tools())
    } else if root.get_flag(global::CAPABILITIES) {
        let rows = cli.capabilities();
        if !json {
            let written = console
                .stdout
                .write_all(render_table(&rows).as_bytes())
                .and_then(|()| console.stdout.flush());
            return Some(report::delivered(Exit::Success, written, console));
        }
        serde_json::to_string_pretty(&rows)
    } else {
        return None;
    };
    let written = writeln!(console.stdout, "{}", text.unwrap_or_default())
        .and_then(|()| console.stdout.flush());
    Some(report::delivered(Exit::Success, written, console))
}

/// The rows as an aligned text table.
fn render_table(rows: &[CapabilityRow]) -> String {
    let header = [
        "command", "class", "risk", "band", "safety", "agent", "kernel",
    ]
    .map(str::to_owned);
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            [
                row.command.clone(),
                row.class.to_string(),
                row.risk.to_string(),
                row.band.to_string(),
                row.safety.to_string(),
                row.agent.clone(),
                kernel_column(&row.kernel),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|cell| cell.len());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
