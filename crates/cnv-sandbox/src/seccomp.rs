//! The seccomp filter that closes what Landlock (ABI ≤ 7) leaves open: creating UDP,
//! raw, packet, netlink and unix sockets, and `io_uring`, which can create sockets and
//! open files without the system calls a filter sees.
//!
//! The filter refuses with `EPERM` (Landlock refuses with `EACCES`), so a test or an
//! audit entry can tell which layer said no; both read as
//! [`std::io::ErrorKind::PermissionDenied`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

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

/// The architecture the filter is compiled for, when `seccompiler` supports it.
pub(crate) fn target_arch() -> Result<TargetArch, seccompiler::BackendError> {
    TargetArch::try_from(std::env::consts::ARCH)
}

/// The filter for a class's sockets, or `None` when the class may create any socket.
/// Compiled once per process and kept.
pub(crate) fn filter(sockets: Sockets) -> Option<Result<BpfProgram, seccompiler::Error>> {
    static NO_SOCKETS: OnceLock<BpfProgram> = OnceLock::new();
    static INTERNET: OnceLock<BpfProgram> = OnceLock::new();
    let (cache, socket_rules) = match sockets {
        // An empty rule list matches every call.
        Sockets::None => (&NO_SOCKETS, Ok(Vec::new())),
        Sockets::Internet => (&INTERNET, internet_only()),
        Sockets::Any => return None,
    };
    if let Some(program) = cache.get() {
        return Some(Ok(program.clone()));
    }
    let program = socket_rules
        .map_err(seccompiler::Error::from)
        .and_then(compile);
    Some(program.map(|program| cache.get_or_init(|| program).clone()))
}

fn compile(socket_rules: Vec<SeccompRule>) -> Result<BpfProgram, seccompiler::Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for number in numbers(libc::SYS_socket) {
        rules.insert(number, socket_rules.clone());
    }
    for call in [
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
    ] {
        for number in numbers(call) {
            rules.insert(number, Vec::new());
        }
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM.unsigned_abs()),
        target_arch()?,
    )?;
    Ok(BpfProgram::try_from(filter)?)
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
    fn every_class_without_any_socket_gets_a_filter() {
        assert!(filter(Sockets::Any).is_none());
        for sockets in [Sockets::None, Sockets::Internet] {
            let program = filter(sockets)
                .expect("a filter")
                .expect("the filter compiles");
            assert!(!program.is_empty(), "{sockets:?}");
        }
    }
}
