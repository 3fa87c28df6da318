//! The seccomp filter that closes what Landlock (ABI ≤ 7) leaves open: creating UDP,
//! raw, packet, netlink and unix sockets, datagram socket pairs (which can send to any
//! pathname socket), `io_uring` (which can create sockets and open files without the
//! system calls a filter sees), new namespaces, and — for the classes that start no
//! programs — new processes.
//!
//! The filter refuses with `EPERM` (Landlock refuses with `EACCES`), so a test or an
//! audit entry can tell which layer said no; both read as
//! [`std::io::ErrorKind::PermissionDenied`]. `clone3` is refused with `ENOSYS` where
//! processes are, because its flags are behind a pointer no filter can read: the C library
//! then falls back to `clone`, whose flags the filter sees (threads still start).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::Sockets;

/// On x86-64, the x32 ABI reaches the same system calls with this bit set in the number
/// (and the same audit architecture), so each refused call is listed under both numbers.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: i64 = 0x4000_0000;

/// The obsolete `SOCK_PACKET` type (libc deprecates its name): `socket(AF_INET,
/// SOCK_PACKET, …)` opens a link-layer socket, like `AF_PACKET`.
const SOCK_PACKET: i32 = 10;

/// The `clone` flags that make a new namespace.
const NAMESPACE_FLAGS: [i32; 7] = [
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWCGROUP,
];

/// What the filter does about new processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Processes {
    /// None may start (threads may): the classes that run no programs.
    Refused,
    /// Programs may start, in the worker's own process group, which they may not leave
    /// (`setsid`, `setpgid` refused): where no PID namespace holds them.
    InGroup,
    /// Programs may start: a PID namespace holds them.
    Allowed,
}

/// The architecture the filter is compiled for, when `seccompiler` supports it.
pub(crate) fn target_arch() -> Result<TargetArch, seccompiler::BackendError> {
    TargetArch::try_from(std::env::consts::ARCH)
}

/// The filters of a class with `sockets` and `processes`, to install in order, or none when
/// the class is not restricted at all (`Sockets::Any`).
pub(crate) fn filters(
    sockets: Sockets,
    processes: Processes,
) -> Option<Result<Vec<BpfProgram>, seccompiler::Error>> {
    let socket_rules = match sockets {
        // An empty rule list matches every call.
        Sockets::None => Ok(Vec::new()),
        Sockets::Internet => internet_only(),
        Sockets::NotUnix => not_unix(),
        Sockets::Any => return None,
    };
    Some(
        socket_rules
            .map_err(seccompiler::Error::from)
            .and_then(|rules| compile(rules, processes)),
    )
}

fn compile(
    socket_rules: Vec<SeccompRule>,
    processes: Processes,
) -> Result<Vec<BpfProgram>, seccompiler::Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut refuse = |call: i64, when: Vec<SeccompRule>| {
        for number in numbers(call) {
            rules.insert(number, when.clone());
        }
    };
    refuse(libc::SYS_socket, socket_rules);
    refuse(libc::SYS_socketpair, vec![datagram_pair()?]);
    for call in [
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_unshare,
        libc::SYS_setns,
    ] {
        refuse(call, Vec::new());
    }
    let mut clone_rules = NAMESPACE_FLAGS
        .into_iter()
        .map(|flag| flag_set(0, flag))
        .collect::<Result<Vec<_>, _>>()?;
    match processes {
        Processes::Refused => {
            // A `clone` without `CLONE_THREAD` is a new process.
            clone_rules.push(SeccompRule::new(vec![SeccompCondition::new(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(libc::CLONE_THREAD.unsigned_abs().into()),
                0,
            )?])?);
            #[cfg(target_arch = "x86_64")]
            for call in [libc::SYS_fork, libc::SYS_vfork] {
                refuse(call, Vec::new());
            }
        }
        Processes::InGroup => {
            for call in [libc::SYS_setsid, libc::SYS_setpgid] {
                refuse(call, Vec::new());
            }
        }
        Processes::Allowed => {}
    }
    refuse(libc::SYS_clone, clone_rules);
    let main = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM.unsigned_abs()),
        target_arch()?,
    )?;
    // `clone3` hides its flags behind a pointer: it is refused as unknown where a flag
    // matters, so the C library falls back to `clone`, which the filter above reads.
    let mut clone3 = BTreeMap::new();
    for number in numbers(libc::SYS_clone3) {
        clone3.insert(number, Vec::new());
    }
    let clone3 = SeccompFilter::new(
        clone3,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS.unsigned_abs()),
        target_arch()?,
    )?;
    Ok(vec![
        BpfProgram::try_from(main)?,
        BpfProgram::try_from(clone3)?,
    ])
}

/// The rule that matches when argument `arg` has `flag` set.
fn flag_set(arg: u8, flag: i32) -> Result<SeccompRule, seccompiler::BackendError> {
    let flag = u64::from(flag.unsigned_abs());
    SeccompRule::new(vec![SeccompCondition::new(
        arg,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(flag),
        flag,
    )?])
}

/// `socketpair(AF_UNIX, SOCK_DGRAM, …)`: a connected datagram socket still sends to any
/// pathname socket its `sendto` names, so only stream and sequenced pairs are allowed.
fn datagram_pair() -> Result<SeccompRule, seccompiler::BackendError> {
    SeccompRule::new(vec![SeccompCondition::new(
        1,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::MaskedEq(0xf),
        libc::SOCK_DGRAM.unsigned_abs().into(),
    )?])
}

/// `socket(domain, type, protocol)` is refused when the domain is neither `AF_INET` nor
/// `AF_INET6`, or when the type (flags masked off) is `SOCK_RAW` or `SOCK_PACKET`.
fn internet_only() -> Result<Vec<SeccompRule>, seccompiler::BackendError> {
    let domain = |op, value: i32| {
        SeccompCondition::new(0, SeccompCmpArgLen::Dword, op, value.unsigned_abs().into())
    };
    let kind = |value: i32| {
        SeccompCondition::new(
            1,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(0xf),
            value.unsigned_abs().into(),
        )
    };
    Ok(vec![
        SeccompRule::new(vec![
            domain(SeccompCmpOp::Ne, libc::AF_INET)?,
            domain(SeccompCmpOp::Ne, libc::AF_INET6)?,
        ])?,
        SeccompRule::new(vec![kind(libc::SOCK_RAW)?])?,
        SeccompRule::new(vec![kind(SOCK_PACKET)?])?,
    ])
}

/// `socket(AF_UNIX, …)` is refused: no unix socket, pathname or abstract, can be made to
/// connect to one outside the sandbox (Landlock controls pathname sockets only from ABI 9).
fn not_unix() -> Result<Vec<SeccompRule>, seccompiler::BackendError> {
    Ok(vec![SeccompRule::new(vec![SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Eq,
        libc::AF_UNIX.unsigned_abs().into(),
    )?])?])
}

#[cfg(target_arch = "x86_64")]
fn numbers(call: i64) -> [i64; 2] {
    [call, call | X32_SYSCALL_BIT]
}

#[cfg(not(target_arch = "x86_64"))]
fn numbers(call: i64) -> [i64; 1] {
    [call]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_restricted_combination_compiles() {
        assert!(filters(Sockets::Any, Processes::Allowed).is_none());
        for sockets in [Sockets::None, Sockets::Internet, Sockets::NotUnix] {
            for processes in [Processes::Refused, Processes::InGroup, Processes::Allowed] {
                let programs = filters(sockets, processes)
                    .expect("a filter")
                    .expect("the filter compiles");
                assert_eq!(programs.len(), 2, "{sockets:?} {processes:?}");
                assert!(programs.iter().all(|program| !program.is_empty()));
            }
        }
    }
}
