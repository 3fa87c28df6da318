//! Prints cnv's capability table: every class with its risk level, whether an agent may
//! run it unsupervised, its default safety and band, and the MCP tool hints it implies.
//!
//! ```text
//! cargo run -p cnv --example capabilities
//! ```

use cnv::prelude::*;

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn main() {
    println!(
        "{:<12} {:>4}  {:<10} {:<20} {:<8} {:>10} {:>10}  {:<9} {:<11} {:<10} openWorld",
        "class",
        "risk",
        "agent-safe",
        "default safety",
        "band",
        "runtime",
        "memory",
        "readOnly",
        "destructive",
        "idempotent",
    );
    for &class in CapabilityClass::ALL {
        let contract = CapabilityContract::new(class, class.default_band());
        let band = contract.band();
        let runtime = band
            .max_runtime_ms()
            .map_or_else(|| "unbounded".to_owned(), |ms| format!("{ms} ms"));
        let memory = band.max_memory_bytes().map_or_else(
            || "unbounded".to_owned(),
            |bytes| format!("{} MiB", bytes / (1024 * 1024)),
        );
        println!(
            "{:<12} {:>4}  {:<10} {:<20} {:<8} {:>10} {:>10}  {:<9} {:<11} {:<10} {}",
            class.name(),
            class.risk_level(),
            yes_no(class.is_agent_safe()),
            contract.safety().name(),
            band.name(),
            runtime,
            memory,
            yes_no(class.read_only_hint()),
            yes_no(class.destructive_hint()),
            yes_no(class.idempotent_hint()),
            yes_no(class.open_world_hint()),
        );
    }

    // The same facts, checked by the compiler.
    const _: () = assert_agent_safe::<ReadOnlyFS>();
    let cmd = ValidatedCommand::<Network, Medium>::new("network fetch");
    println!(
        "\n`{}` is a {} command: risk {}, agent-safe: {}, runtime budget {} ms, risk score {}/100",
        cmd.name(),
        cmd.class(),
        cmd.risk_level(),
        yes_no(cmd.is_agent_safe()),
        cmd.max_runtime_ms(),
        cmd.contract().risk_score(),
    );
}
