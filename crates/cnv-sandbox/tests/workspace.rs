//! The workspace handle resolves every path beneath itself: `..`, absolute paths,
//! symbolic links that lead out (dangling or not) and a directory swapped for such a
//! link mid-call all fail, and nothing is written outside.

mod common;

use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use cnv_caps::CapabilityClass;
use cnv_sandbox::{Grant, PathAccess, SandboxError, Workspace};
use common::Scratch;

fn open(scratch: &Scratch) -> Workspace {
    Workspace::open(scratch.workspace()).expect("open the workspace")
}

#[test]
fn dot_dot_cannot_climb_out() {
    let scratch = Scratch::new("dotdot");
    std::fs::write(scratch.outside().join("secret"), "secret").expect("write the secret");
    std::fs::create_dir(scratch.workspace().join("sub")).expect("create sub");
    let workspace = open(&scratch);

    for path in [
        "../outside/escape",
        "sub/../../outside/escape",
        "./../outside/x",
    ] {
        let error = workspace.dir().write(path, "escape").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{path}: {error}");
    }
    assert!(workspace.read_only().read("../outside/secret").is_err());
    assert!(
        workspace
            .read_only()
            .open("sub/../../outside/secret")
            .is_err()
    );
    // Climbing and coming back down inside is fine.
    workspace
        .dir()
        .write("sub/../inside", "ok")
        .expect("write inside");
    assert_eq!(
        workspace
            .read_only()
            .read_to_string("inside")
            .expect("read"),
        "ok"
    );
    assert_eq!(scratch.outside_entries(), ["secret"]);
}

#[test]
fn absolute_paths_are_refused() {
    let scratch = Scratch::new("absolute");
    let workspace = open(&scratch);
    let outside = scratch.outside().join("escape");
    let error = workspace.dir().write(&outside, "escape").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    // Even an absolute path that names a file inside the workspace.
    let inside = scratch.workspace().join("file");
    assert!(workspace.dir().write(&inside, "x").is_err());
    assert!(workspace.read_only().read("/etc/passwd").is_err());
    assert!(!workspace.read_only().exists("/etc/passwd"));
    assert!(scratch.outside_entries().is_empty());
}

#[test]
fn symlinks_that_lead_out_are_refused() {
    let scratch = Scratch::new("symlink");
    std::fs::write(scratch.outside().join("secret"), "secret").expect("write the secret");
    let ws = scratch.workspace();
    symlink(scratch.outside(), ws.join("absolute-link")).expect("symlink");
    symlink("../outside", ws.join("relative-link")).expect("symlink");
    symlink(scratch.outside().join("secret"), ws.join("secret-link")).expect("symlink");
    let workspace = open(&scratch);

    for link in ["absolute-link", "relative-link"] {
        assert!(
            workspace
                .dir()
                .write(format!("{link}/escape"), "x")
                .is_err()
        );
        assert!(workspace.dir().create_dir(format!("{link}/dir")).is_err());
        assert!(
            workspace
                .read_only()
                .read(format!("{link}/secret"))
                .is_err()
        );
        assert!(workspace.read_only().read_dir(link).is_err());
    }
    assert!(workspace.read_only().read("secret-link").is_err());
    assert!(workspace.dir().write("secret-link", "overwritten").is_err());
    assert_eq!(scratch.outside_entries(), ["secret"]);
    assert_eq!(
        std::fs::read_to_string(scratch.outside().join("secret")).expect("read"),
        "secret"
    );
}

#[test]
fn dangling_symlinks_that_lead_out_cannot_create_files() {
    let scratch = Scratch::new("dangling");
    let ws = scratch.workspace();
    symlink(scratch.outside().join("created"), ws.join("dangling")).expect("symlink");
    symlink("../outside/created-relative", ws.join("dangling-relative")).expect("symlink");
    let workspace = open(&scratch);

    // `exists` is false for a dangling link; creating through it must still fail.
    assert!(!workspace.read_only().exists("dangling"));
    for link in ["dangling", "dangling-relative"] {
        assert!(workspace.dir().write(link, "escape").is_err(), "{link}");
        assert!(workspace.dir().create(link).is_err(), "{link}");
        assert!(
            workspace
                .dir()
                .open_with(
                    link,
                    cap_std::fs::OpenOptions::new().write(true).create_new(true)
                )
                .is_err(),
            "{link}"
        );
    }
    assert!(scratch.outside_entries().is_empty());

    // The attack is real: the same write through `std::fs` lands outside.
    std::fs::write(ws.join("dangling"), "escape").expect("std::fs follows the link");
    assert_eq!(scratch.outside_entries(), ["created"]);
}

#[test]
fn symlinks_that_stay_inside_work() {
    let scratch = Scratch::new("inside-link");
    let ws = scratch.workspace();
    std::fs::create_dir(ws.join("data")).expect("mkdir");
    std::fs::write(ws.join("data/file"), "content").expect("write");
    symlink("data", ws.join("data-link")).expect("symlink");
    symlink("data/file", ws.join("file-link")).expect("symlink");
    let workspace = open(&scratch);

    assert_eq!(
        workspace
            .read_only()
            .read_to_string("file-link")
            .expect("read"),
        "content"
    );
    assert_eq!(
        workspace
            .read_only()
            .read_to_string("data-link/file")
            .expect("read"),
        "content"
    );
    workspace
        .dir()
        .write("data-link/new", "new")
        .expect("write");
    assert_eq!(
        std::fs::read_to_string(ws.join("data/new")).expect("read"),
        "new"
    );
}

#[test]
fn a_directory_swapped_for_a_symlink_mid_call_never_leaks_a_write() {
    // At least this many writes, made while the swapper has swapped at least this often.
    const WRITES: u64 = 400;
    const SWAPS: u64 = 400;
    let scratch = Scratch::new("swap");
    let ws = scratch.workspace();
    std::fs::create_dir_all(ws.join("real/inner")).expect("mkdir");
    std::fs::create_dir_all(scratch.outside().join("inner")).expect("mkdir");
    symlink(scratch.outside(), ws.join("evil")).expect("symlink");
    let workspace = open(&scratch);

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (ws, stop, swaps) = (ws.clone(), Arc::clone(&stop), Arc::clone(&swaps));
        thread::spawn(move || {
            let (sub, real, evil) = (ws.join("sub"), ws.join("real"), ws.join("evil"));
            while !stop.load(Ordering::Relaxed) {
                // `sub` is the directory, then the link to outside, then nothing, again.
                let _ = std::fs::rename(&real, &sub);
                let _ = std::fs::rename(&sub, &real);
                let _ = std::fs::rename(&evil, &sub);
                let _ = std::fs::rename(&sub, &evil);
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let (mut attempts, mut written) = (0_u64, 0_u64);
    while attempts < WRITES || swaps.load(Ordering::Relaxed) < SWAPS {
        if workspace
            .dir()
            .write(format!("sub/inner/file-{attempts}"), "x")
            .is_ok()
        {
            written += 1;
        }
        attempts += 1;
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().expect("the swapper thread");

    assert!(
        common::entries(&scratch.outside().join("inner")).is_empty(),
        "{written} of {attempts} writes succeeded, and some landed outside the workspace"
    );
    assert_eq!(scratch.outside_entries(), ["inner"]);
    // The writes that succeeded went to the real directory.
    assert_eq!(
        common::entries(&ws.join("real/inner")).len() as u64,
        written,
        "{written} of {attempts} writes succeeded"
    );
}

#[test]
fn the_read_only_view_reads_everything_inside() {
    let scratch = Scratch::new("read-only");
    let ws = scratch.workspace();
    std::fs::create_dir_all(ws.join("dir/nested")).expect("mkdir");
    std::fs::write(ws.join("dir/a.txt"), "alpha").expect("write");
    std::fs::write(ws.join("dir/nested/b.txt"), "beta").expect("write");
    symlink(scratch.outside(), ws.join("dir/out")).expect("symlink");
    let workspace = open(&scratch);
    let view = workspace.read_only();

    assert!(view.is_dir("dir") && view.is_file("dir/a.txt"));
    assert_eq!(view.metadata("dir/a.txt").expect("metadata").len(), 5);
    assert!(
        view.symlink_metadata("dir/out")
            .expect("lstat")
            .is_symlink()
    );
    assert!(!view.try_exists("dir/nothing").expect("try_exists"));
    assert!(view.try_exists("dir/out/anything").is_err());

    let mut file = view.open("dir/a.txt").expect("open");
    file.seek(SeekFrom::Start(2)).expect("seek");
    let mut rest = String::new();
    file.read_to_string(&mut rest).expect("read");
    assert_eq!(rest, "pha");

    let dir = view.open_dir("dir").expect("open_dir");
    assert_eq!(
        dir.canonicalize("nested/../a.txt").expect("canonicalize"),
        std::path::Path::new("a.txt")
    );
    let mut names = Vec::new();
    for entry in dir.entries().expect("entries") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        match name.as_str() {
            "a.txt" => assert_eq!(
                std::io::read_to_string(entry.open().expect("open entry")).expect("read"),
                "alpha"
            ),
            "nested" => assert!(entry.open_dir().expect("open nested").is_file("b.txt")),
            // An entry that leads outside cannot be opened.
            "out" => {
                assert!(entry.file_type().expect("type").is_symlink());
                assert!(entry.open_dir().is_err());
            }
            other => panic!("unexpected entry {other}"),
        }
        names.push(name);
    }
    names.sort();
    assert_eq!(names, ["a.txt", "nested", "out"]);
    assert_eq!(view.read_dir("dir/nested").expect("read_dir").count(), 1);
}

#[test]
fn contains_follows_links_and_judges_new_files_by_their_parent() {
    let scratch = Scratch::new("contains");
    let ws = scratch.workspace();
    std::fs::write(ws.join("log"), "").expect("write");
    std::fs::write(scratch.outside().join("log"), "").expect("write");
    symlink(scratch.outside().join("log"), ws.join("link-out")).expect("symlink");
    symlink(ws.join("log"), scratch.outside().join("link-in")).expect("symlink");
    let workspace = open(&scratch);

    assert!(workspace.contains(ws.join("log")).expect("inside"));
    assert!(workspace.contains(ws.join("not-yet")).expect("new inside"));
    assert!(
        !workspace
            .contains(scratch.outside().join("log"))
            .expect("outside")
    );
    assert!(
        !workspace
            .contains(scratch.outside().join("new"))
            .expect("new outside")
    );
    // What matters is where the file really is.
    assert!(!workspace.contains(ws.join("link-out")).expect("link out"));
    assert!(
        workspace
            .contains(scratch.outside().join("link-in"))
            .expect("link in")
    );
    assert!(
        workspace
            .contains(ws.join("../workspace/log"))
            .expect("dot dot")
    );
    assert!(
        workspace
            .contains(scratch.outside().join("missing/dir/log"))
            .is_err()
    );
}

#[test]
fn opening_a_workspace_that_is_not_a_directory_says_so() {
    let scratch = Scratch::new("open");
    let missing = scratch.workspace().join("missing");
    match Workspace::open(&missing) {
        Err(SandboxError::Workspace { path, error }) => {
            assert_eq!(path, missing);
            assert_eq!(error.kind(), ErrorKind::NotFound);
        }
        other => panic!("expected a workspace error, got {other:?}"),
    }
    let file = scratch.workspace().join("file");
    std::fs::write(&file, "").expect("write");
    let error = Workspace::open(&file).unwrap_err();
    assert!(error.to_string().contains("CNV_WORKSPACE"), "{error}");

    let linked = scratch.outside().join("to-workspace");
    symlink(scratch.workspace(), &linked).expect("symlink");
    let workspace = Workspace::open(&linked).expect("open through a link");
    assert_eq!(
        workspace.path(),
        std::fs::canonicalize(scratch.workspace()).expect("canonical")
    );
    let clone = workspace.try_clone().expect("clone");
    assert_eq!(clone.path(), workspace.path());
}

#[test]
fn grants_say_what_their_thread_may_read_and_write() {
    let scratch = Scratch::new("may");
    let ws = scratch.workspace();
    std::fs::write(ws.join("file"), "").expect("write");
    std::fs::write(scratch.outside().join("key"), "").expect("write");
    symlink(scratch.outside().join("key"), ws.join("key-link")).expect("symlink");
    let workspace = open(&scratch);
    let grant = Grant::of;
    let may_read = |class, path: &std::path::Path| {
        grant(class)
            .may_read(Some(&workspace), path)
            .expect("may_read")
    };
    // What a class may write is the table's: the workspace's access and the system paths'.
    let writes_workspace = |class| {
        grant(class)
            .filesystem
            .workspace()
            .is_some_and(PathAccess::writes)
    };
    let writes_system = |class| {
        grant(class)
            .filesystem
            .system_paths()
            .iter()
            .filter(|(_, access)| access.writes())
            .flat_map(|(paths, _)| paths.iter().copied())
            .collect::<Vec<&str>>()
    };
    let (inside, new_inside) = (ws.join("file"), ws.join("new"));
    let (outside, link_out) = (scratch.outside().join("key"), ws.join("key-link"));
    let hosts = std::path::Path::new("/etc/hosts");
    let passwd = std::path::Path::new("/etc/passwd");
    let null = std::path::Path::new("/dev/null");

    for class in [CapabilityClass::Pure, CapabilityClass::Environment] {
        for path in [&inside, &outside, hosts] {
            assert!(!may_read(class, path), "{class} {path:?}");
        }
        assert!(!writes_workspace(class) && writes_system(class).is_empty());
    }

    let read_only = CapabilityClass::ReadOnlyFS;
    assert!(may_read(read_only, &inside) && !writes_workspace(read_only));
    assert!(!may_read(read_only, &outside) && !may_read(read_only, &link_out));

    let read_write = CapabilityClass::ReadWriteFS;
    assert!(writes_workspace(read_write) && writes_system(read_write).is_empty());
    assert!(may_read(read_write, &new_inside));
    assert!(!may_read(read_write, &outside) && !may_read(read_write, &link_out));
    assert!(!may_read(read_write, hosts));

    let network = CapabilityClass::Network;
    assert!(may_read(network, hosts));
    assert!(!may_read(network, &inside) && !may_read(network, passwd));
    assert!(!writes_workspace(network) && writes_system(network).is_empty());

    let subprocess = CapabilityClass::Subprocess;
    assert!(may_read(subprocess, passwd) && may_read(subprocess, hosts));
    assert!(may_read(subprocess, std::path::Path::new("/bin/sh")));
    assert!(writes_workspace(subprocess) && may_read(subprocess, &new_inside));
    assert_eq!(writes_system(subprocess), [null.to_str().expect("a path")]);
    // `/tmp`, where the scratch directory lives, is not a system directory.
    assert!(!may_read(subprocess, &outside) && !may_read(subprocess, &link_out));

    let dangerous = CapabilityClass::Dangerous;
    assert!(may_read(dangerous, &outside) && grant(dangerous).is_unrestricted());
}
