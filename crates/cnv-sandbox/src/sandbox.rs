//! Restricting the calling thread to what a class grants: one Landlock ruleset, then a
//! seccomp filter, and a report of what the kernel enforced.

use std::sync::OnceLock;
use std::thread;

use cnv_caps::CapabilityClass;
use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, RestrictSelf,
    RestrictSelfAttr, RestrictionStatus, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetError,
    RulesetStatus, Scope, make_bitflags, path_beneath_rules,
};

use crate::{
    Containment, Coverage, Enforcement, Grant, LandlockStatus, PathAccess, SandboxError, Sockets,
    Strictness, Workspace, seccomp,
};

/// The Landlock ABI this crate requests rights of, and is tested against: a newer kernel
/// is asked for these rights only (its newer rights stay unhandled, so allowed), an
/// older one for the rights it knows.
pub const TARGET_ABI: u8 = 7;

/// Whether the kernel has Landlock, and which ABI version. Probed once per process and
/// remembered.
///
/// The probe asks the `landlock` crate, with its hard-requirement compatibility level,
/// which rights and flags the kernel supports (one version query each, no ruleset is
/// enforced); only when Landlock is missing does it start a short-lived thread that
/// restricts itself, to learn why.
///
/// ```
/// let status = cnv_sandbox::probe();
/// println!("{status}"); // e.g. "Landlock ABI 7"
/// ```
#[must_use]
pub fn probe() -> LandlockStatus {
    static PROBED: OnceLock<LandlockStatus> = OnceLock::new();
    PROBED.get_or_init(probe_now).clone()
}

fn probe_now() -> LandlockStatus {
    match probe_by_rights() {
        0 => probe_by_thread(),
        abi => LandlockStatus::Available { abi },
    }
}

/// The highest ABI whose distinctive right or flag the kernel supports (0: none).
fn probe_by_rights() -> u8 {
    fn ruleset() -> Ruleset {
        Ruleset::default().set_compatibility(CompatLevel::HardRequirement)
    }
    fn restrict_self() -> RestrictSelf {
        RestrictSelf::default().set_compatibility(CompatLevel::HardRequirement)
    }
    // Each check fails with a compatibility error when the kernel lacks its feature.
    let checks: [fn() -> bool; 10] = [
        || ruleset().handle_access(AccessFs::Execute).is_ok(),
        || ruleset().handle_access(AccessFs::Refer).is_ok(),
        || ruleset().handle_access(AccessFs::Truncate).is_ok(),
        || ruleset().handle_access(AccessNet::BindTcp).is_ok(),
        || ruleset().handle_access(AccessFs::IoctlDev).is_ok(),
        || ruleset().scope(Scope::Signal).is_ok(),
        || restrict_self().log_subdomains(false).is_ok(),
        || restrict_self().all_threads(true).is_ok(),
        || ruleset().handle_access(AccessFs::ResolveUnix).is_ok(),
        || ruleset().handle_access(AccessNet::BindUdp).is_ok(),
    ];
    let supported = checks.iter().take_while(|check| check()).count();
    u8::try_from(supported).unwrap_or(0)
}

/// Restricts a short-lived thread and reports what Landlock said about the kernel.
fn probe_by_thread() -> LandlockStatus {
    let probe = thread::Builder::new()
        .name("cnv-landlock-probe".to_owned())
        .spawn(|| {
            Ruleset::default()
                .handle_access(AccessFs::Execute)?
                .create()?
                .restrict_self()
        });
    let unknown = |reason: String| LandlockStatus::Unknown { reason };
    match probe.map(thread::JoinHandle::join) {
        Ok(Ok(Ok(status))) => match status.landlock {
            landlock::LandlockStatus::Available {
                effective_abi,
                kernel_abi,
            } => LandlockStatus::Available {
                abi: kernel_abi
                    .and_then(|abi| u8::try_from(abi).ok())
                    .unwrap_or_else(|| abi_number(effective_abi)),
            },
            landlock::LandlockStatus::NotEnabled => LandlockStatus::NotEnabled,
            landlock::LandlockStatus::NotImplemented => LandlockStatus::NotImplemented,
        },
        Ok(Ok(Err(error))) => unknown(error.to_string()),
        Ok(Err(_)) => unknown("the probe thread panicked".to_owned()),
        Err(error) => unknown(format!("cannot start the probe thread: {error}")),
    }
}

fn abi_number(abi: ABI) -> u8 {
    // `ABI` is non-exhaustive; its `Display` is the number (or "unsupported").
    abi.to_string().parse().unwrap_or(0)
}

/// Restricts the calling thread (and every thread and process it starts afterwards) to
/// what `class` grants, for good: a Landlock ruleset, then a seccomp filter on sockets.
/// Other threads of the process are not affected.
///
/// `workspace` is required for `ReadOnlyFS`, `ReadWriteFS` and `Subprocess` (their
/// rules are written against its handle) and ignored otherwise. The shorthand of
/// [`Sandbox::new(class)`](Sandbox::new)`.workspace(..).strictness(..).restrict_current_thread()`.
///
/// ```no_run
/// use cnv_caps::CapabilityClass;
/// use cnv_sandbox::{Strictness, Workspace, restrict_current_thread};
///
/// let workspace = Workspace::open(".")?;
/// let report = restrict_current_thread(
///     CapabilityClass::ReadOnlyFS,
///     Some(&workspace),
///     Strictness::Strict,
/// )?;
/// assert!(report.is_full());
/// assert!(std::fs::write("/tmp/escape", "no").is_err()); // refused by the kernel
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// See [`Sandbox::restrict_current_thread`].
pub fn restrict_current_thread(
    class: CapabilityClass,
    workspace: Option<&Workspace>,
    strictness: Strictness,
) -> Result<Enforcement, SandboxError> {
    let mut sandbox = Sandbox::new(class).strictness(strictness);
    if let Some(workspace) = workspace {
        sandbox = sandbox.workspace(workspace);
    }
    sandbox.restrict_current_thread()
}

/// The restriction of one class, configured and then applied to the calling thread.
///
/// [`plan`](Self::plan) says what would be enforced without restricting anything (for
/// `--capabilities`); [`restrict_current_thread`](Self::restrict_current_thread) does
/// it.
#[derive(Clone, Debug)]
#[must_use = "a sandbox restricts nothing until `restrict_current_thread` is called"]
pub struct Sandbox<'a> {
    grant: Grant,
    workspace: Option<&'a Workspace>,
    strictness: Strictness,
    simulated_abi: Option<u8>,
    seccomp: bool,
    containment: Containment,
}

impl<'a> Sandbox<'a> {
    /// The restriction of `class`, best effort, without a workspace yet.
    pub const fn new(class: CapabilityClass) -> Self {
        Self {
            grant: Grant::of(class),
            workspace: None,
            strictness: Strictness::BestEffort,
            simulated_abi: None,
            seccomp: true,
            containment: Containment::Thread,
        }
    }

    /// What holds the processes the handler starts (a worker process's PID namespace, or
    /// its process group): a class that starts programs may not leave a process group that
    /// is all that holds them. Default: [`Containment::Thread`].
    pub const fn contained_by(mut self, containment: Containment) -> Self {
        self.containment = containment;
        self
    }

    /// The workspace the class's file rules are written against (opened beforehand).
    pub const fn workspace(mut self, workspace: &'a Workspace) -> Self {
        self.workspace = Some(workspace);
        self
    }

    /// How much enforcement the policy demands.
    pub const fn strictness(mut self, strictness: Strictness) -> Self {
        self.strictness = strictness;
        self
    }

    /// Behaves as on a kernel whose Landlock ABI is `abi` (0: no Landlock), so the paths
    /// of partial enforcement can be tested on a newer kernel. Never use it in a program.
    #[doc(hidden)]
    pub const fn simulate_abi(mut self, abi: u8) -> Self {
        self.simulated_abi = Some(abi);
        self
    }

    /// Leaves out the seccomp filter, so a test can show what Landlock refuses alone.
    /// Never use it in a program.
    #[doc(hidden)]
    pub const fn without_seccomp(mut self) -> Self {
        self.seccomp = false;
        self
    }

    /// The grant this sandbox enforces.
    #[must_use]
    pub const fn grant(&self) -> Grant {
        self.grant
    }

    /// What [`restrict_current_thread`](Self::restrict_current_thread) would enforce on
    /// this kernel, without restricting anything (`restricted` is `false`).
    #[must_use]
    pub fn plan(&self) -> Enforcement {
        let landlock = probe();
        let seccomp = self.seccomp_plan();
        self.report(&landlock, seccomp)
    }

    /// Restricts the calling thread, and every thread and process it starts afterwards,
    /// to what the class grants. It cannot be undone. `Dangerous` is not restricted
    /// (a person approved it); the report says so.
    ///
    /// Order: probe the kernel (once per process), check the strict policy, build one
    /// Landlock ruleset (rights of [`TARGET_ABI`] or the kernel's, whichever is older),
    /// add the class's rules, `restrict_self()` (which also sets `no_new_privs`), then
    /// install the seccomp filter of the class's [`Sockets`].
    ///
    /// # Errors
    ///
    /// - [`SandboxError::WorkspaceRequired`]: a file class without a workspace (nothing
    ///   restricted).
    /// - [`SandboxError::NotEnforced`]: the policy is strict and the kernel enforces
    ///   less than everything; found before restricting when the kernel's ABI shows it,
    ///   otherwise after (`report.restricted` says which).
    /// - [`SandboxError::Landlock`], [`SandboxError::Seccomp`]: the kernel refused the
    ///   ruleset or the filter; the thread may be partly restricted and must not run the
    ///   handler.
    pub fn restrict_current_thread(self) -> Result<Enforcement, SandboxError> {
        let class = self.grant.class;
        if self.grant.filesystem.needs_workspace() && self.workspace.is_none() {
            return Err(SandboxError::WorkspaceRequired { class });
        }
        let landlock = probe();
        let planned = self.seccomp_plan();
        let plan = self.report(&landlock, planned.clone());
        if self.grant.is_unrestricted() {
            return Ok(plan);
        }
        let applied_abi = plan.applied_abi;
        self.demand(plan)?;
        // Compiled before anything is restricted, so a mistake leaves the thread as it was.
        let programs = match planned {
            SeccompPlan::Install => seccomp::filters(self.grant.sockets, self.processes())
                .transpose()
                .map_err(|error| SandboxError::Seccomp { class, error })?,
            SeccompPlan::NotNeeded | SeccompPlan::Failed(_) => None,
        };

        let status = if applied_abi > 0 {
            let abi = ABI::from(i32::from(applied_abi));
            Some(
                self.landlock(abi)
                    .map_err(|error| SandboxError::Landlock { class, error })?,
            )
        } else {
            None
        };
        let outcome = match programs {
            Some(programs) => match programs
                .iter()
                .try_for_each(|program| seccompiler::apply_filter(program))
            {
                Ok(()) => SeccompPlan::Install,
                Err(error) => SeccompPlan::Failed(error.to_string()),
            },
            None => planned,
        };
        let installed = matches!(outcome, SeccompPlan::Install);
        let mut report = self.report(&landlock, outcome);
        report.restricted = status.is_some() || installed;
        // Installing a seccomp filter sets no_new_privs too.
        report.no_new_privs = installed;
        if let Some(status) = status {
            report.no_new_privs |= status.no_new_privs;
            degrade_to(&mut report, &status, self.grant.sockets);
        }
        self.demand(report)
    }

    /// Under `Strict`, anything short of full enforcement is an error carrying the
    /// report.
    fn demand(&self, report: Enforcement) -> Result<Enforcement, SandboxError> {
        match self.strictness {
            Strictness::Strict if !report.is_full() => Err(SandboxError::NotEnforced {
                report: Box::new(report),
            }),
            Strictness::Strict | Strictness::BestEffort => Ok(report),
        }
    }

    /// What the filter does about new processes: none for a class that runs no programs;
    /// for one that does, only inside what holds them.
    fn processes(&self) -> seccomp::Processes {
        match (self.grant.execute, self.containment) {
            (false, _) => seccomp::Processes::Refused,
            (true, Containment::ProcessGroup) => seccomp::Processes::InGroup,
            (true, Containment::PidNamespace | Containment::Thread) => seccomp::Processes::Allowed,
        }
    }

    fn seccomp_plan(&self) -> SeccompPlan {
        match self.grant.sockets {
            Sockets::Any => SeccompPlan::NotNeeded,
            Sockets::None | Sockets::Internet | Sockets::NotUnix if !self.seccomp => {
                SeccompPlan::Failed("left out on request".to_owned())
            }
            Sockets::None | Sockets::Internet | Sockets::NotUnix => match seccomp::target_arch() {
                Ok(_) => SeccompPlan::Install,
                Err(error) => SeccompPlan::Failed(error.to_string()),
            },
        }
    }

    /// The ABI whose rights are requested: the kernel's, capped at [`TARGET_ABI`] and at
    /// the simulated one.
    fn applied_abi(&self, landlock: &LandlockStatus) -> u8 {
        landlock
            .abi()
            .unwrap_or(0)
            .min(TARGET_ABI)
            .min(self.simulated_abi.unwrap_or(u8::MAX))
    }

    /// What the class's restriction covers at the applied ABI with this seccomp outcome.
    fn report(&self, landlock: &LandlockStatus, seccomp: SeccompPlan) -> Enforcement {
        let grant = self.grant;
        let mut report = Enforcement {
            class: grant.class,
            restricted: false,
            landlock: landlock.clone(),
            applied_abi: 0,
            simulated: self.simulated_abi.is_some(),
            filesystem: Coverage::Granted,
            execution: Coverage::Granted,
            tcp: Coverage::Granted,
            scopes: Coverage::Granted,
            sockets: Coverage::Granted,
            no_new_privs: false,
            containment: self.containment,
            budgets: None,
            gaps: Vec::new(),
        };
        if grant.is_unrestricted() {
            return report;
        }
        let abi = self.applied_abi(landlock);
        report.applied_abi = abi;
        let gaps = &mut report.gaps;
        let mut gap = |text: &str| gaps.push(text.to_owned());

        report.filesystem = if abi == 0 {
            gap("files outside the grant (no Landlock)");
            Coverage::NotEnforced
        } else {
            if abi < 3 {
                gap("truncating files outside the grant (Landlock ABI 3)");
            }
            if abi < 5 {
                gap("ioctl on device files (Landlock ABI 5)");
            }
            if abi < 5 {
                Coverage::Partial
            } else {
                Coverage::Enforced
            }
        };

        report.execution = match (grant.execute, abi) {
            (true, _) => Coverage::Granted,
            (false, 0) => {
                gap("executing programs (no Landlock)");
                Coverage::NotEnforced
            }
            (false, _) => Coverage::Enforced,
        };

        let seccomp_closes_all_sockets = match (grant.sockets, &seccomp) {
            (Sockets::None, SeccompPlan::Install) => true,
            (Sockets::None | Sockets::Internet | Sockets::NotUnix | Sockets::Any, _) => false,
        };
        report.tcp = match (grant.tcp_connect, grant.tcp_bind) {
            (true, true) => Coverage::Granted,
            _ if abi >= 4 || seccomp_closes_all_sockets => Coverage::Enforced,
            (true, false) => {
                gap("binding TCP ports (Landlock ABI 4)");
                Coverage::NotEnforced
            }
            (false, _) => {
                gap("TCP connect and bind (Landlock ABI 4)");
                Coverage::NotEnforced
            }
        };

        report.scopes = if abi >= 6 {
            Coverage::Enforced
        } else if seccomp_closes_all_sockets {
            gap("signals to processes outside the sandbox (Landlock ABI 6)");
            Coverage::Partial
        } else {
            gap(
                "signals to processes and abstract unix sockets outside the sandbox (Landlock ABI 6)",
            );
            Coverage::NotEnforced
        };

        report.sockets = match seccomp {
            SeccompPlan::NotNeeded => Coverage::Granted,
            SeccompPlan::Install => Coverage::Enforced,
            SeccompPlan::Failed(reason) => {
                gap(&format!(
                    "creating {} (seccomp: {reason})",
                    match grant.sockets {
                        Sockets::None => "UDP, raw, netlink and unix sockets, io_uring",
                        Sockets::Internet | Sockets::Any =>
                            "raw, packet, netlink and unix sockets, io_uring",
                        Sockets::NotUnix => "unix sockets, io_uring",
                    }
                ));
                Coverage::NotEnforced
            }
        };
        report
    }

    /// Builds the class's ruleset for `abi` and restricts the calling thread with it.
    fn landlock(&self, abi: ABI) -> Result<RestrictionStatus, RulesetError> {
        let grant = self.grant;
        let handled = AccessFs::from_all(abi);
        let mut ruleset = Ruleset::default().handle_access(handled)?;
        let tcp: BitFlags<AccessNet> = match (grant.tcp_connect, grant.tcp_bind) {
            (false, false) => AccessNet::ConnectTcp | AccessNet::BindTcp,
            (true, false) => AccessNet::BindTcp.into(),
            (false, true) => AccessNet::ConnectTcp.into(),
            (true, true) => BitFlags::EMPTY,
        };
        if abi >= ABI::V4 && !tcp.is_empty() {
            ruleset = ruleset.handle_access(tcp)?;
        }
        if abi >= ABI::V6 {
            ruleset = ruleset.scope(Scope::from_all(abi))?;
        }
        let created = ruleset.create()?;
        let rights = |access: PathAccess| -> BitFlags<AccessFs> {
            let read = make_bitflags!(AccessFs::{ReadFile | ReadDir});
            let devices = make_bitflags!(AccessFs::{MakeChar | MakeBlock | IoctlDev});
            let rights = match access {
                PathAccess::Read => read,
                PathAccess::ReadExecute => read | AccessFs::Execute,
                PathAccess::ReadWrite => {
                    handled & !(devices | AccessFs::Execute | AccessFs::MakeSock)
                }
                PathAccess::ReadWriteExecute => handled & !devices,
            };
            rights & handled
        };
        let mut created = match (grant.filesystem.workspace(), self.workspace) {
            // Written against the handle the handler receives, not a path.
            (Some(access), Some(workspace)) => {
                created.add_rule(PathBeneath::new(workspace.dir(), rights(access)))?
            }
            // `restrict_current_thread` checked that the file classes have a workspace.
            (Some(_) | None, _) => created,
        };
        for &(paths, access) in grant.filesystem.system_paths() {
            // Paths missing on this system are skipped; a file gets the file rights only.
            created = created.add_rules(path_beneath_rules(paths, rights(access)))?;
        }
        created.restrict_self()
    }
}

/// What will happen, or happened, with the seccomp filter.
#[derive(Clone, Debug)]
enum SeccompPlan {
    /// The class may create any socket: no filter.
    NotNeeded,
    /// The filter will be installed.
    Install,
    /// No filter, and why.
    Failed(String),
}

/// Lowers the Landlock aspects of a report when the kernel enforced less of the ruleset
/// than its ABI promised. TCP stays closed when seccomp refuses every socket.
fn degrade_to(report: &mut Enforcement, status: &RestrictionStatus, sockets: Sockets) {
    let lowered = match status.ruleset {
        RulesetStatus::FullyEnforced => return,
        RulesetStatus::PartiallyEnforced => Coverage::Partial,
        RulesetStatus::NotEnforced => Coverage::NotEnforced,
    };
    let mut aspects = vec![
        &mut report.filesystem,
        &mut report.execution,
        &mut report.scopes,
    ];
    match sockets {
        Sockets::None => {}
        Sockets::Internet | Sockets::NotUnix | Sockets::Any => aspects.push(&mut report.tcp),
    }
    for aspect in aspects {
        *aspect = aspect.min_with(lowered);
    }
    report.gaps.push(format!(
        "the kernel enforced the Landlock ruleset {}",
        match lowered {
            Coverage::Partial => "only partly",
            Coverage::Enforced | Coverage::NotEnforced | Coverage::Granted => "not at all",
        }
    ));
}

impl Coverage {
    /// The weaker of two coverages of the same aspect (`Granted` stays granted).
    fn min_with(self, other: Self) -> Self {
        match (self, other) {
            (Self::Granted, _) => Self::Granted,
            (Self::NotEnforced, _) | (_, Self::NotEnforced) => Self::NotEnforced,
            (Self::Partial, _) | (_, Self::Partial) => Self::Partial,
            (Self::Enforced, Self::Enforced | Self::Granted) => Self::Enforced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(class: CapabilityClass, abi: u8) -> Enforcement {
        Sandbox::new(class).simulate_abi(abi).report(
            &LandlockStatus::Available { abi: 7 },
            Sandbox::new(class).seccomp_plan(),
        )
    }

    #[test]
    fn abi_7_enforces_every_class_fully() {
        for &class in CapabilityClass::ALL {
            let report = report(class, 7);
            assert!(report.is_full(), "{report}");
            assert!(report.gaps.is_empty(), "{report}");
        }
    }

    #[test]
    fn older_abis_leave_named_gaps() {
        let v3 = report(CapabilityClass::ReadOnlyFS, 3);
        assert_eq!(v3.filesystem, Coverage::Partial);
        // seccomp refuses every socket, so TCP is closed without Landlock's rules.
        assert_eq!(v3.tcp, Coverage::Enforced);
        assert_eq!(v3.scopes, Coverage::Partial);
        assert!(!v3.is_full());
        assert!(v3.gaps.iter().any(|gap| gap.contains("ABI 5")), "{v3}");

        let network = report(CapabilityClass::Network, 3);
        assert_eq!(network.tcp, Coverage::NotEnforced);
        assert!(network.gaps.iter().any(|gap| gap.contains("binding TCP")));

        let none = report(CapabilityClass::Pure, 0);
        assert_eq!(none.applied_abi, 0);
        assert_eq!(none.filesystem, Coverage::NotEnforced);
        assert_eq!(none.execution, Coverage::NotEnforced);
    }

    #[test]
    fn dangerous_is_granted_everything() {
        let report = report(CapabilityClass::Dangerous, 7);
        assert_eq!(report.applied_abi, 0);
        assert_eq!(report.filesystem, Coverage::Granted);
        assert_eq!(report.sockets, Coverage::Granted);
        assert!(report.is_full());
    }

    #[test]
    fn the_applied_abi_is_capped_by_the_target_and_the_simulation() {
        let sandbox = Sandbox::new(CapabilityClass::Pure);
        assert_eq!(
            sandbox.applied_abi(&LandlockStatus::Available { abi: 9 }),
            7
        );
        assert_eq!(sandbox.applied_abi(&LandlockStatus::NotEnabled), 0);
        let sandbox = sandbox.simulate_abi(4);
        assert_eq!(
            sandbox.applied_abi(&LandlockStatus::Available { abi: 7 }),
            4
        );
    }

    #[test]
    fn probing_by_rights_agrees_with_the_kernel() {
        // The kernel's own answer, from a thread that restricts itself.
        let LandlockStatus::Available { abi } = probe_by_thread() else {
            panic!(
                "these tests need Landlock; the kernel reports {}",
                probe_by_thread()
            );
        };
        assert_eq!(probe_by_rights(), abi);
        assert_eq!(probe(), LandlockStatus::Available { abi });
    }

    #[test]
    fn coverage_minimum_keeps_granted_and_takes_the_weaker() {
        assert_eq!(
            Coverage::Granted.min_with(Coverage::NotEnforced),
            Coverage::Granted
        );
        assert_eq!(
            Coverage::Enforced.min_with(Coverage::Partial),
            Coverage::Partial
        );
        assert_eq!(
            Coverage::Partial.min_with(Coverage::NotEnforced),
            Coverage::NotEnforced
        );
        assert_eq!(
            Coverage::Enforced.min_with(Coverage::Enforced),
            Coverage::Enforced
        );
    }
}
