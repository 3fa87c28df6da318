//! The operator's workspace: one directory handle opened with ambient authority, beneath
//! which every path a handler names is resolved.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, DirEntry, File, FileType, Metadata, ReadDir};

use crate::SandboxError;

/// The directory the operator lets file verbs touch, opened once.
///
/// Every path given to [`dir`](Self::dir) or [`read_only`](Self::read_only) is resolved
/// *beneath* this handle by [`cap_std`] (with `openat2(RESOLVE_BENEATH)` where the kernel
/// has it, by a careful walk elsewhere): `..` that climbs out, an absolute path, a
/// symbolic link that leads out (dangling or not) and a directory swapped for such a
/// link while the call runs all fail with an error instead of reaching outside.
///
/// Open it *before* restricting the thread: the sandbox's Landlock rules are written
/// against this handle, and after restriction the path may no longer be openable.
///
/// ```
/// # let root = std::env::temp_dir().join(format!("cnv-sandbox-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&root)?;
/// use cnv_sandbox::Workspace;
///
/// let workspace = Workspace::open(&root)?;
/// workspace.dir().write("notes.txt", "hello")?;
/// assert_eq!(workspace.read_only().read_to_string("notes.txt")?, "hello");
/// assert!(workspace.dir().write("../outside.txt", "no").is_err());
/// assert!(workspace.contains(root.join("notes.txt"))?);
/// # std::fs::remove_dir_all(&root)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Workspace {
    path: PathBuf,
    dir: Dir,
}

impl Workspace {
    /// Opens `path` (an existing directory) as the workspace. The path is made canonical
    /// first (symbolic links resolved, `..` removed), so [`path`](Self::path) and
    /// [`contains`](Self::contains) speak of the real directory.
    ///
    /// This is the only place the crate uses ambient authority: the operator (the
    /// program or its launcher) chooses the workspace, never the agent.
    ///
    /// # Errors
    ///
    /// [`SandboxError::Workspace`] when the path does not exist, is not a directory or
    /// cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SandboxError> {
        let given = path.as_ref();
        let failed = |error| SandboxError::Workspace {
            path: given.to_path_buf(),
            error,
        };
        let path = std::fs::canonicalize(given).map_err(failed)?;
        let dir = Dir::open_ambient_dir(&path, ambient_authority()).map_err(failed)?;
        Ok(Self { path, dir })
    }

    /// The workspace's canonical path (for messages and audit entries; handlers use the
    /// handle, never this path).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The read-write handle, for classes that may write beneath the workspace
    /// (`ReadWriteFS`, `Subprocess`, `Dangerous`).
    #[must_use]
    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    /// A view of the workspace that offers reading only, for `ReadOnlyFS` handlers.
    #[must_use]
    pub fn read_only(&self) -> ReadOnlyDir<'_> {
        ReadOnlyDir {
            dir: DirRef::Borrowed(&self.dir),
        }
    }

    /// Whether `path` names something inside the workspace, following symbolic links.
    /// A path that does not exist yet is judged by its parent directory (which must
    /// exist). Relative paths are taken from the current directory.
    ///
    /// Use it to refuse a writing verb when the audit log or its key lies inside the
    /// workspace it could write. It compares paths: a *hard link* inside the workspace to
    /// a file outside is not detected; an audit log whose link count is above 1
    /// deserves suspicion.
    ///
    /// # Errors
    ///
    /// When neither the path nor its parent directory can be resolved.
    pub fn contains(&self, path: impl AsRef<Path>) -> io::Result<bool> {
        Ok(resolve(path.as_ref())?.starts_with(&self.path))
    }

    /// A second handle on the same directory (a `dup` of the descriptor).
    ///
    /// # Errors
    ///
    /// When the process is out of file descriptors.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            path: self.path.clone(),
            dir: self.dir.try_clone()?,
        })
    }
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workspace")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The canonical path of what `path` names, following symbolic links; for a path that
/// does not exist yet, its parent's canonical path joined with its name.
pub(crate) fn resolve(path: &Path) -> io::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(canonical) => Ok(canonical),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let name = path.file_name().ok_or(error)?;
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            Ok(std::fs::canonicalize(parent)?.join(name))
        }
        Err(error) => Err(error),
    }
}

#[derive(Debug)]
enum DirRef<'a> {
    Borrowed(&'a Dir),
    Owned(Dir),
}

impl DirRef<'_> {
    fn get(&self) -> &Dir {
        match self {
            Self::Borrowed(dir) => dir,
            Self::Owned(dir) => dir,
        }
    }
}

/// A directory beneath the workspace that can be read and nothing else: no method
/// creates, writes, renames, removes or changes permissions, and none hands out a
/// handle that could (entries and subdirectories are read-only views too). Paths are
/// resolved beneath the directory, like the workspace's.
///
/// For a `ReadOnlyFS` handler this is the type-level half of the promise; the kernel
/// half is the Landlock rule that lets its thread only read beneath the workspace.
#[derive(Debug)]
pub struct ReadOnlyDir<'a> {
    dir: DirRef<'a>,
}

impl ReadOnlyDir<'_> {
    /// Opens a file for reading.
    ///
    /// # Errors
    ///
    /// When the file does not exist, is outside the directory, or cannot be read.
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<ReadOnlyFile> {
        self.dir.get().open(path).map(|file| ReadOnlyFile { file })
    }

    /// Opens a subdirectory as another read-only view.
    ///
    /// # Errors
    ///
    /// When the directory does not exist, is outside this one, or cannot be opened.
    pub fn open_dir(&self, path: impl AsRef<Path>) -> io::Result<ReadOnlyDir<'static>> {
        self.dir.get().open_dir(path).map(ReadOnlyDir::owned)
    }

    /// Reads a whole file.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), and when reading fails.
    pub fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        self.dir.get().read(path)
    }

    /// Reads a whole file as UTF-8 text.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), and when the file is not UTF-8.
    pub fn read_to_string(&self, path: impl AsRef<Path>) -> io::Result<String> {
        self.dir.get().read_to_string(path)
    }

    /// The entries of this directory.
    ///
    /// # Errors
    ///
    /// When the directory cannot be listed.
    pub fn entries(&self) -> io::Result<ReadOnlyEntries> {
        self.dir
            .get()
            .entries()
            .map(|inner| ReadOnlyEntries { inner })
    }

    /// The entries of a subdirectory.
    ///
    /// # Errors
    ///
    /// When the subdirectory does not exist, is outside this one, or cannot be listed.
    pub fn read_dir(&self, path: impl AsRef<Path>) -> io::Result<ReadOnlyEntries> {
        self.dir
            .get()
            .read_dir(path)
            .map(|inner| ReadOnlyEntries { inner })
    }

    /// The metadata of what `path` names, following a final symbolic link (which must
    /// stay inside).
    ///
    /// # Errors
    ///
    /// When the path does not exist or is outside the directory.
    pub fn metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata> {
        self.dir.get().metadata(path)
    }

    /// The metadata of what `path` names, not following a final symbolic link.
    ///
    /// # Errors
    ///
    /// When the path does not exist or is outside the directory.
    pub fn symlink_metadata(&self, path: impl AsRef<Path>) -> io::Result<Metadata> {
        self.dir.get().symlink_metadata(path)
    }

    /// Whether `path` names something inside the directory. `false` for anything that
    /// cannot be reached, including paths that lead outside.
    #[must_use]
    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        self.dir.get().exists(path)
    }

    /// Whether `path` names something inside the directory, or why that cannot be told.
    ///
    /// # Errors
    ///
    /// When the answer cannot be known (a path that leads outside is an error, not
    /// `false`).
    pub fn try_exists(&self, path: impl AsRef<Path>) -> io::Result<bool> {
        self.dir.get().try_exists(path)
    }

    /// Whether `path` names a regular file inside the directory.
    #[must_use]
    pub fn is_file(&self, path: impl AsRef<Path>) -> bool {
        self.dir.get().is_file(path)
    }

    /// Whether `path` names a directory inside the directory.
    #[must_use]
    pub fn is_dir(&self, path: impl AsRef<Path>) -> bool {
        self.dir.get().is_dir(path)
    }

    /// The canonical form of `path`, relative to this directory.
    ///
    /// # Errors
    ///
    /// When the path does not exist or is outside the directory.
    pub fn canonicalize(&self, path: impl AsRef<Path>) -> io::Result<PathBuf> {
        self.dir.get().canonicalize(path)
    }

    fn owned(dir: Dir) -> ReadOnlyDir<'static> {
        ReadOnlyDir {
            dir: DirRef::Owned(dir),
        }
    }
}

/// A file opened for reading beneath the workspace: [`Read`], [`Seek`] and its
/// metadata, and no way to write, truncate or change permissions.
#[derive(Debug)]
pub struct ReadOnlyFile {
    file: File,
}

impl ReadOnlyFile {
    /// The file's metadata.
    ///
    /// # Errors
    ///
    /// When the operating system cannot report it.
    pub fn metadata(&self) -> io::Result<Metadata> {
        self.file.metadata()
    }
}

impl Read for ReadOnlyFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.file.read_to_end(buf)
    }
}

impl Seek for ReadOnlyFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// The entries of a [`ReadOnlyDir`], as read-only entries.
#[derive(Debug)]
pub struct ReadOnlyEntries {
    inner: ReadDir,
}

impl Iterator for ReadOnlyEntries {
    type Item = io::Result<ReadOnlyEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner
            .next()
            .map(|entry| entry.map(|inner| ReadOnlyEntry { inner }))
    }
}

/// One entry of a [`ReadOnlyDir`]: its name, type and metadata, and read-only handles
/// on it.
#[derive(Debug)]
pub struct ReadOnlyEntry {
    inner: DirEntry,
}

impl ReadOnlyEntry {
    /// The entry's name (not a path).
    #[must_use]
    pub fn file_name(&self) -> OsString {
        self.inner.file_name()
    }

    /// The entry's type (not following a symbolic link).
    ///
    /// # Errors
    ///
    /// When the operating system cannot report it.
    pub fn file_type(&self) -> io::Result<FileType> {
        self.inner.file_type()
    }

    /// The entry's metadata (not following a symbolic link).
    ///
    /// # Errors
    ///
    /// When the operating system cannot report it.
    pub fn metadata(&self) -> io::Result<Metadata> {
        self.inner.metadata()
    }

    /// Opens the entry (a file) for reading.
    ///
    /// # Errors
    ///
    /// When the entry cannot be opened (a link that leads outside, a directory, …).
    pub fn open(&self) -> io::Result<ReadOnlyFile> {
        self.inner.open().map(|file| ReadOnlyFile { file })
    }

    /// Opens the entry (a directory) as a read-only view.
    ///
    /// # Errors
    ///
    /// When the entry is not a directory inside the workspace.
    pub fn open_dir(&self) -> io::Result<ReadOnlyDir<'static>> {
        self.inner.open_dir().map(ReadOnlyDir::owned)
    }
}
