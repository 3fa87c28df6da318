//! The report of what a restriction enforced, and the policy that says how much must be.

use core::fmt;

use cnv_caps::CapabilityClass;
use serde::{Deserialize, Serialize};

/// How much of a class's restriction the policy demands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Strictness {
    /// Enforce what the kernel can and report the rest in the [`Enforcement`]. The
    /// default: a kernel without Landlock still runs the program, and says so.
    #[default]
    BestEffort,
    /// Anything short of full enforcement is an error
    /// ([`SandboxError::NotEnforced`](crate::SandboxError::NotEnforced)), found before the
    /// thread is restricted whenever the kernel's ABI tells it in advance. Full
    /// enforcement needs Landlock ABI 6 (Linux 6.12) and seccomp.
    Strict,
}

/// Whether the running kernel has Landlock, and which ABI version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LandlockStatus {
    /// Landlock is there; `abi` is the kernel's version of it (1 for Linux 5.13, … 7 for
    /// Linux 6.15).
    Available {
        /// The kernel's Landlock ABI version.
        abi: u8,
    },
    /// The kernel has Landlock but it was not enabled at boot (`lsm=` on the kernel
    /// command line).
    NotEnabled,
    /// The kernel was built without Landlock, or the system is not Linux.
    NotImplemented,
    /// The probe itself failed (for instance a seccomp filter refusing Landlock's
    /// system calls).
    Unknown {
        /// What went wrong.
        reason: String,
    },
}

impl LandlockStatus {
    /// The kernel's ABI version, when Landlock is available.
    #[must_use]
    pub fn abi(&self) -> Option<u8> {
        match self {
            Self::Available { abi } => Some(*abi),
            Self::NotEnabled | Self::NotImplemented | Self::Unknown { .. } => None,
        }
    }
}

impl fmt::Display for LandlockStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Available { abi } => write!(f, "Landlock ABI {abi}"),
            Self::NotEnabled => f.write_str("Landlock not enabled at boot"),
            Self::NotImplemented => f.write_str("no Landlock in this kernel"),
            Self::Unknown { reason } => write!(f, "Landlock status unknown ({reason})"),
        }
    }
}

/// How far one aspect of a class's restriction is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Coverage {
    /// Everything the class does not grant is refused by the kernel.
    Enforced,
    /// Some of it is refused; [`Enforcement::gaps`] says what is not.
    Partial,
    /// Nothing is refused.
    NotEnforced,
    /// The class grants all of it: there is nothing to refuse.
    Granted,
}

impl Coverage {
    /// Whether nothing the class withholds is left open.
    #[must_use]
    pub const fn is_full(self) -> bool {
        match self {
            Self::Enforced | Self::Granted => true,
            Self::Partial | Self::NotEnforced => false,
        }
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Enforced => "enforced",
            Self::Partial => "partly enforced",
            Self::NotEnforced => "not enforced",
            Self::Granted => "granted",
        })
    }
}

/// What holds a handler and the processes it starts, so that none outlives its call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Containment {
    /// A thread of the calling process (a program that embeds cnv and calls it in
    /// process): a thread cannot be stopped, and nothing holds the programs it starts.
    #[default]
    Thread,
    /// A worker process that is the first process of a PID namespace of its own:
    /// killing it kills every process the handler started, whatever they did, and no
    /// other process of the machine is visible to it.
    PidNamespace,
    /// A worker process whose process group holds what it starts (the programs may not
    /// leave the group); killing the group kills them.
    ProcessGroup,
}

impl fmt::Display for Containment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Thread => "a thread of the calling process",
            Self::PidNamespace => "a worker process in a PID namespace of its own",
            Self::ProcessGroup => "a worker process and its process group",
        })
    }
}

/// What a restriction enforced, aspect by aspect: for the audit entry, for
/// `--capabilities`, and for the strict policy's refusal.
///
/// Serialized (JSON) it reads:
///
/// ```json
/// {"class":"ReadOnlyFS","restricted":true,"landlock":{"status":"available","abi":7},
///  "applied_abi":7,"simulated":false,"filesystem":"enforced","execution":"enforced",
///  "tcp":"enforced","scopes":"enforced","sockets":"enforced","no_new_privs":true,"gaps":[]}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Enforcement {
    /// The class enforced.
    pub class: CapabilityClass,
    /// Whether the calling thread is now restricted (`false` for a plan, for
    /// `Dangerous`, and for a strict refusal found before restricting).
    pub restricted: bool,
    /// The kernel's Landlock support.
    pub landlock: LandlockStatus,
    /// The Landlock ABI whose rights were requested: the smallest of the kernel's, the
    /// one this crate is tested against (7) and a simulated one; 0 when Landlock was not
    /// used.
    pub applied_abi: u8,
    /// Whether an older ABI was simulated (tests only).
    pub simulated: bool,
    /// Reading, writing, creating and removing files outside what the class grants.
    pub filesystem: Coverage,
    /// Executing programs.
    pub execution: Coverage,
    /// TCP connect and bind (Landlock ABI 4, or seccomp refusing every socket).
    pub tcp: Coverage,
    /// Connecting to abstract unix sockets and signalling processes outside the sandbox
    /// (Landlock ABI 6).
    pub scopes: Coverage,
    /// Creating UDP, raw, netlink and unix sockets, and `io_uring` (seccomp).
    pub sockets: Coverage,
    /// Whether the thread can no longer gain privileges through `execve` (set-user-ID
    /// programs, file capabilities).
    pub no_new_privs: bool,
    /// What holds the handler and the processes it starts.
    #[serde(default)]
    pub containment: Containment,
    /// The budgets the worker process runs under, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budgets: Option<crate::worker::Budgets>,
    /// What the class withholds and the kernel does not refuse, in words.
    pub gaps: Vec<String>,
}

impl Enforcement {
    /// The report of a restriction not known yet: nothing enforced.
    #[must_use]
    pub fn unknown(class: CapabilityClass) -> Self {
        Self {
            class,
            restricted: false,
            landlock: LandlockStatus::Unknown {
                reason: "not probed".to_owned(),
            },
            applied_abi: 0,
            simulated: false,
            filesystem: Coverage::NotEnforced,
            execution: Coverage::NotEnforced,
            tcp: Coverage::NotEnforced,
            scopes: Coverage::NotEnforced,
            sockets: Coverage::NotEnforced,
            no_new_privs: false,
            containment: Containment::Thread,
            budgets: None,
            gaps: Vec::new(),
        }
    }

    /// Whether everything the class withholds is refused by the kernel.
    #[must_use]
    pub fn is_full(&self) -> bool {
        [
            self.filesystem,
            self.execution,
            self.tcp,
            self.scopes,
            self.sockets,
        ]
        .into_iter()
        .all(Coverage::is_full)
    }
}

impl fmt::Display for Enforcement {
    /// One line, e.g. "ReadOnlyFS sandbox on Landlock ABI 7: filesystem enforced,
    /// execution enforced, TCP enforced, scopes enforced, sockets enforced".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sandbox on {}", self.class, self.landlock)?;
        if self.simulated {
            write!(f, " (simulating ABI {})", self.applied_abi)?;
        }
        write!(
            f,
            ": filesystem {}, execution {}, TCP {}, scopes {}, sockets {}",
            self.filesystem, self.execution, self.tcp, self.scopes, self.sockets
        )?;
        if !self.gaps.is_empty() {
            write!(f, "; not enforced: {}", self.gaps.join("; "))?;
        }
        Ok(())
    }
}
