//! The workspace handle of a class at the type level: what a handler of class `C`
//! receives, tied at compile time to what [`Grant::of`] gives the class at run time.

use cap_std::fs::Dir;
use cnv_caps::{CapabilityClass, ConstRisk, Dangerous, ReadOnlyFS, ReadWriteFS, Subprocess};

use crate::grant::{Grant, WorkspaceAccess};
use crate::workspace::{ReadOnlyDir, Workspace};

/// The workspace handle a handler of class `Self` receives: a [`ReadOnlyDir`] for
/// `ReadOnlyFS`, the workspace's [`Dir`] for `ReadWriteFS`, `Subprocess` and `Dangerous`,
/// none for the others (they touch no files of the workspace). The same fact as
/// [`Grant::of`]'s run-time [`WorkspaceAccess`], which a compile-time assertion beside the
/// implementations checks for every class.
#[diagnostic::on_unimplemented(
    message = "a `{Self}` handler has no workspace",
    label = "its class touches no files of the workspace",
    note = "only the file classes receive the workspace: `ReadOnlyFS` (read only), `ReadWriteFS`, `Subprocess` and `Dangerous`; a handler that needs files declares one of them"
)]
pub trait WorkspaceHandle: ConstRisk {
    /// The handle.
    type Handle<'a>;

    /// The access the handle gives, as [`Grant::of`] says it at run time.
    const ACCESS: WorkspaceAccess;

    /// The handle of `workspace` for this class.
    fn handle(workspace: &Workspace) -> Self::Handle<'_>;
}

impl WorkspaceHandle for ReadOnlyFS {
    type Handle<'a> = ReadOnlyDir<'a>;
    const ACCESS: WorkspaceAccess = WorkspaceAccess::ReadOnly;

    fn handle(workspace: &Workspace) -> ReadOnlyDir<'_> {
        workspace.read_only()
    }
}

macro_rules! read_write_handle {
    ($($class:ty),+) => {$(
        impl WorkspaceHandle for $class {
            type Handle<'a> = &'a Dir;
            const ACCESS: WorkspaceAccess = WorkspaceAccess::ReadWrite;

            fn handle(workspace: &Workspace) -> &Dir {
                workspace.dir()
            }
        }
    )+};
}

read_write_handle!(ReadWriteFS, Subprocess, Dangerous);

/// The handle the type level gives `class` (none where the class has no
/// [`WorkspaceHandle`]). The `match` is exhaustive: a new class does not compile until it
/// is placed here.
const fn typed_access(class: CapabilityClass) -> WorkspaceAccess {
    match class {
        CapabilityClass::Pure | CapabilityClass::Environment | CapabilityClass::Network => {
            WorkspaceAccess::None
        }
        CapabilityClass::ReadOnlyFS => <ReadOnlyFS as WorkspaceHandle>::ACCESS,
        CapabilityClass::ReadWriteFS => <ReadWriteFS as WorkspaceHandle>::ACCESS,
        CapabilityClass::Subprocess => <Subprocess as WorkspaceHandle>::ACCESS,
        CapabilityClass::Dangerous => <Dangerous as WorkspaceHandle>::ACCESS,
    }
}

// The type level and the run time give every class the same handle.
const _: () = {
    let mut i = 0;
    while i < CapabilityClass::COUNT {
        let class = CapabilityClass::ALL[i];
        assert!(
            typed_access(class) as u8 == Grant::of(class).filesystem.handle() as u8,
            "a class's workspace handle differs between `WorkspaceHandle` and `Grant::of`"
        );
        i += 1;
    }
};
