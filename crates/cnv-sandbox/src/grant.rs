//! What each capability class may do once its thread is restricted: the one table the
//! Landlock ruleset, the seccomp filter, the handle a handler receives and the reports
//! are all derived from.

use core::fmt;
use std::io;
use std::path::Path;

use cnv_caps::CapabilityClass;
use serde::{Deserialize, Serialize};

use crate::Workspace;
use crate::workspace::resolve;

/// The files a `Network` handler may read: what the C library needs to resolve a name
/// (`getaddrinfo`: hosts, resolver and NSS configuration, the modules NSS loads) and
/// what a TLS client needs to trust a server (the system's certificate stores). Paths
/// that do not exist on a system are skipped; a symbolic link (`/etc/resolv.conf`)
/// grants its target.
pub const NAME_RESOLUTION_PATHS: &[&str] = &[
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ld.so.cache",
    "/etc/ssl/certs",
    "/etc/ssl/cert.pem",
    "/etc/ssl/openssl.cnf",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust",
    "/etc/ca-certificates",
    "/usr/share/ca-certificates",
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
];

/// Where the system's programs and libraries live: a `Subprocess` handler may read and
/// execute beneath them.
pub const PROGRAM_PATHS: &[&str] = &[
    "/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/nix",
];

/// What else the programs a `Subprocess` handler runs may read: configuration, kernel
/// interfaces and the harmless devices.
pub const SYSTEM_READ_PATHS: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// What the programs a `Subprocess` handler runs may write outside the workspace.
pub const SYSTEM_WRITE_PATHS: &[&str] = &["/dev/null"];

/// How a grant may use the files beneath a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PathAccess {
    /// Read files and list directories.
    Read,
    /// Read, list and execute.
    ReadExecute,
    /// Read, list, create, change, rename and remove (no device nodes, no execution).
    ReadWrite,
    /// All of that, and execute.
    ReadWriteExecute,
}

impl PathAccess {
    /// Whether files may be changed.
    #[must_use]
    pub const fn writes(self) -> bool {
        match self {
            Self::Read | Self::ReadExecute => false,
            Self::ReadWrite | Self::ReadWriteExecute => true,
        }
    }
}

/// What a capability class may do once its thread is restricted.
///
/// [`Grant::of`] is the table; every other decision of this crate reads it. The table
/// is an exhaustive `match` on [`CapabilityClass`], so a new class does not compile
/// until someone decides what it grants.
///
/// ```
/// use cnv_caps::CapabilityClass;
/// use cnv_sandbox::{FsAccess, Grant, Sockets, WorkspaceAccess};
///
/// let grant = Grant::of(CapabilityClass::ReadOnlyFS);
/// assert_eq!(grant.filesystem, FsAccess::ReadWorkspace);
/// assert_eq!(grant.filesystem.handle(), WorkspaceAccess::ReadOnly);
/// assert!(!grant.execute && !grant.tcp_connect && !grant.tcp_bind);
/// assert_eq!(grant.sockets, Sockets::None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Grant {
    /// The class this grant belongs to.
    pub class: CapabilityClass,
    /// Which files the thread may read or write.
    pub filesystem: FsAccess,
    /// Whether the thread may execute programs (`execve`).
    pub execute: bool,
    /// Whether the thread may open TCP connections.
    pub tcp_connect: bool,
    /// Whether the thread may bind TCP ports (listen).
    pub tcp_bind: bool,
    /// Which sockets the thread may create at all (closed with seccomp).
    pub sockets: Sockets,
}

/// Which files a class may read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FsAccess {
    /// No file may be opened, listed, created or executed.
    None,
    /// Read files and list directories beneath the workspace; nothing else.
    ReadWorkspace,
    /// Read, create, change, rename and remove files and directories beneath the
    /// workspace (no device files); nothing outside it.
    ReadWriteWorkspace,
    /// Read the few system files that name resolution and TLS need
    /// ([`NAME_RESOLUTION_PATHS`]); nothing else, and no writes.
    NameResolution,
    /// Read and execute the system's programs and libraries ([`PROGRAM_PATHS`]), read
    /// its configuration and kernel interfaces ([`SYSTEM_READ_PATHS`],
    /// [`NAME_RESOLUTION_PATHS`]), read, write and execute beneath the workspace, write
    /// [`SYSTEM_WRITE_PATHS`]. Home directories, `/tmp`, `/var`, `/run`, `/srv` and
    /// `/mnt` stay closed.
    SystemAndWorkspace,
    /// No restriction.
    Unrestricted,
}

/// Which sockets a class may create. Landlock (ABI 4 to 7) restricts TCP only; the rest
/// is closed with a seccomp filter on `socket(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Sockets {
    /// `socket(2)` fails: no TCP, UDP, raw, netlink or unix socket (pathname or abstract).
    /// `io_uring` is refused too, since it can create sockets without `socket(2)`.
    None,
    /// IPv4 and IPv6 stream and datagram sockets only (TCP, UDP for DNS); no raw, packet,
    /// netlink or unix sockets, no `io_uring`.
    Internet,
    /// Any socket but a unix one (pathname or abstract: `/run/docker.sock`, an ssh agent,
    /// a session bus), and no `io_uring`: what the programs a `Subprocess` handler starts
    /// may open. (Landlock controls pathname sockets only from ABI 9; until then seccomp
    /// refuses them by domain, inside the workspace too.)
    NotUnix,
    /// Any socket.
    Any,
}

/// The directory handle a handler of a class receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WorkspaceAccess {
    /// No handle: the class touches no files of the workspace.
    None,
    /// A [`ReadOnlyDir`](crate::ReadOnlyDir): reading only.
    ReadOnly,
    /// The workspace's [`Dir`](cap_std::fs::Dir): reading and writing.
    ReadWrite,
}

impl Grant {
    /// What `class` may do. Pure and Environment: nothing (Environment reads variables
    /// already in the process's memory); ReadOnlyFS: read beneath the workspace;
    /// ReadWriteFS: read and write beneath it; Network: TCP connect, UDP and the files of
    /// name resolution; Subprocess: run the system's programs, read its configuration,
    /// read, write and run beneath the workspace, TCP connect; Dangerous: everything
    /// (what a person approved).
    #[must_use]
    pub const fn of(class: CapabilityClass) -> Self {
        let (filesystem, execute, tcp_connect, tcp_bind, sockets) = match class {
            CapabilityClass::Pure | CapabilityClass::Environment => {
                (FsAccess::None, false, false, false, Sockets::None)
            }
            CapabilityClass::ReadOnlyFS => {
                (FsAccess::ReadWorkspace, false, false, false, Sockets::None)
            }
            CapabilityClass::ReadWriteFS => (
                FsAccess::ReadWriteWorkspace,
                false,
                false,
                false,
                Sockets::None,
            ),
            CapabilityClass::Network => (
                FsAccess::NameResolution,
                false,
                true,
                false,
                Sockets::Internet,
            ),
            CapabilityClass::Subprocess => (
                FsAccess::SystemAndWorkspace,
                true,
                true,
                false,
                Sockets::NotUnix,
            ),
            CapabilityClass::Dangerous => (FsAccess::Unrestricted, true, true, true, Sockets::Any),
        };
        Self {
            class,
            filesystem,
            execute,
            tcp_connect,
            tcp_bind,
            sockets,
        }
    }

    /// Whether the grant is everything, so the thread is not restricted at all
    /// (`Dangerous`).
    #[must_use]
    pub const fn is_unrestricted(self) -> bool {
        match self.filesystem {
            FsAccess::Unrestricted => true,
            FsAccess::None
            | FsAccess::ReadWorkspace
            | FsAccess::ReadWriteWorkspace
            | FsAccess::NameResolution
            | FsAccess::SystemAndWorkspace => false,
        }
    }
}

impl Grant {
    /// Whether a thread restricted to this grant may read what `path` names (following
    /// symbolic links; a path that does not exist yet is judged by its parent). For the
    /// gate's checks: a verb must not run when its class can read the audit key.
    ///
    /// # Errors
    ///
    /// When neither the path nor its parent directory can be resolved.
    pub fn may_read(
        self,
        workspace: Option<&Workspace>,
        path: impl AsRef<Path>,
    ) -> io::Result<bool> {
        self.may(workspace, path.as_ref(), |_| true)
    }

    fn may(
        self,
        workspace: Option<&Workspace>,
        path: &Path,
        allows: fn(PathAccess) -> bool,
    ) -> io::Result<bool> {
        if self.is_unrestricted() {
            return Ok(true);
        }
        let target = resolve(path)?;
        let in_workspace = match (self.filesystem.workspace(), workspace) {
            (Some(access), Some(workspace)) => {
                allows(access) && target.starts_with(workspace.path())
            }
            (Some(_) | None, _) => false,
        };
        Ok(in_workspace
            || self
                .filesystem
                .system_paths()
                .iter()
                .any(|&(paths, access)| {
                    allows(access)
                        && paths.iter().any(|granted| {
                            std::fs::canonicalize(granted)
                                .is_ok_and(|granted| target.starts_with(granted))
                        })
                }))
    }
}

impl FsAccess {
    /// The directory handle a handler with this access receives.
    #[must_use]
    pub const fn handle(self) -> WorkspaceAccess {
        match self {
            Self::None | Self::NameResolution => WorkspaceAccess::None,
            Self::ReadWorkspace => WorkspaceAccess::ReadOnly,
            Self::ReadWriteWorkspace | Self::SystemAndWorkspace | Self::Unrestricted => {
                WorkspaceAccess::ReadWrite
            }
        }
    }

    /// How this access may use the files beneath the workspace, if at all.
    #[must_use]
    pub const fn workspace(self) -> Option<PathAccess> {
        match self {
            Self::None | Self::NameResolution => None,
            Self::ReadWorkspace => Some(PathAccess::Read),
            Self::ReadWriteWorkspace => Some(PathAccess::ReadWrite),
            Self::SystemAndWorkspace | Self::Unrestricted => Some(PathAccess::ReadWriteExecute),
        }
    }

    /// The system paths this access reaches beyond the workspace, and how. Empty for
    /// [`Unrestricted`](Self::Unrestricted), which is not restricted at all.
    #[must_use]
    pub const fn system_paths(self) -> &'static [(&'static [&'static str], PathAccess)] {
        match self {
            Self::None | Self::ReadWorkspace | Self::ReadWriteWorkspace | Self::Unrestricted => &[],
            Self::NameResolution => &[(NAME_RESOLUTION_PATHS, PathAccess::Read)],
            Self::SystemAndWorkspace => &[
                (PROGRAM_PATHS, PathAccess::ReadExecute),
                (SYSTEM_READ_PATHS, PathAccess::Read),
                (NAME_RESOLUTION_PATHS, PathAccess::Read),
                (SYSTEM_WRITE_PATHS, PathAccess::ReadWrite),
            ],
        }
    }

    /// Whether restricting a thread to this access needs the workspace (its rules are
    /// written against the workspace's directory handle).
    #[must_use]
    pub const fn needs_workspace(self) -> bool {
        match self {
            Self::ReadWorkspace | Self::ReadWriteWorkspace | Self::SystemAndWorkspace => true,
            Self::None | Self::NameResolution | Self::Unrestricted => false,
        }
    }
}

impl fmt::Display for FsAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "no files",
            Self::ReadWorkspace => "read beneath the workspace",
            Self::ReadWriteWorkspace => "read and write beneath the workspace",
            Self::NameResolution => "read the name-resolution and TLS files",
            Self::SystemAndWorkspace => {
                "read and run the system's programs, read and write beneath the workspace"
            }
            Self::Unrestricted => "any file",
        })
    }
}

impl fmt::Display for Sockets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "no sockets",
            Self::Internet => "TCP and UDP sockets only",
            Self::NotUnix => "any socket but a unix one",
            Self::Any => "any socket",
        })
    }
}

impl fmt::Display for Grant {
    /// One line for `--capabilities`, e.g. "read beneath the workspace; no programs; no
    /// TCP; no sockets".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let programs = if self.execute {
            "run programs"
        } else {
            "no programs"
        };
        let tcp = match (self.tcp_connect, self.tcp_bind) {
            (true, true) => "TCP connect and listen",
            (true, false) => "TCP connect (no listening)",
            (false, true) => "TCP listen (no connecting)",
            (false, false) => "no TCP",
        };
        write!(
            f,
            "{}; {programs}; {tcp}; {}",
            self.filesystem, self.sockets
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_subprocess_and_dangerous_execute() {
        for &class in CapabilityClass::ALL {
            let expected = match class {
                CapabilityClass::Subprocess | CapabilityClass::Dangerous => true,
                CapabilityClass::Pure
                | CapabilityClass::ReadOnlyFS
                | CapabilityClass::Environment
                | CapabilityClass::Network
                | CapabilityClass::ReadWriteFS => false,
            };
            assert_eq!(Grant::of(class).execute, expected, "{class}");
        }
    }

    #[test]
    fn only_network_subprocess_and_dangerous_connect_and_only_dangerous_listens() {
        for &class in CapabilityClass::ALL {
            let grant = Grant::of(class);
            let connects = match class {
                CapabilityClass::Network
                | CapabilityClass::Subprocess
                | CapabilityClass::Dangerous => true,
                CapabilityClass::Pure
                | CapabilityClass::ReadOnlyFS
                | CapabilityClass::Environment
                | CapabilityClass::ReadWriteFS => false,
            };
            assert_eq!(grant.tcp_connect, connects, "{class}");
            assert_eq!(
                grant.tcp_bind,
                class == CapabilityClass::Dangerous,
                "{class}"
            );
            // A class without TCP has no sockets at all: seccomp closes UDP and the rest.
            if !connects {
                assert_eq!(grant.sockets, Sockets::None, "{class}");
            }
        }
    }

    #[test]
    fn file_classes_get_the_handle_their_class_names() {
        let handle = |class| Grant::of(class).filesystem.handle();
        assert_eq!(handle(CapabilityClass::Pure), WorkspaceAccess::None);
        assert_eq!(handle(CapabilityClass::Environment), WorkspaceAccess::None);
        assert_eq!(handle(CapabilityClass::Network), WorkspaceAccess::None);
        assert_eq!(
            handle(CapabilityClass::ReadOnlyFS),
            WorkspaceAccess::ReadOnly
        );
        assert_eq!(
            handle(CapabilityClass::ReadWriteFS),
            WorkspaceAccess::ReadWrite
        );
        assert_eq!(
            handle(CapabilityClass::Subprocess),
            WorkspaceAccess::ReadWrite
        );
    }

    #[test]
    fn only_dangerous_is_unrestricted() {
        for &class in CapabilityClass::ALL {
            assert_eq!(
                Grant::of(class).is_unrestricted(),
                class == CapabilityClass::Dangerous,
                "{class}"
            );
        }
    }

    #[test]
    fn grants_read_as_one_line() {
        assert_eq!(
            Grant::of(CapabilityClass::Network).to_string(),
            "read the name-resolution and TLS files; no programs; TCP connect (no listening); TCP and UDP sockets only"
        );
        assert_eq!(
            Grant::of(CapabilityClass::Pure).to_string(),
            "no files; no programs; no TCP; no sockets"
        );
    }
}
