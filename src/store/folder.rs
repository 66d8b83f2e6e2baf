//! The data folder: one server per folder (OS file locks held for the server's life), private permissions,
//! and the start-up checks of its files, so a damaged or missing database stops the start instead of
//! silently becoming a fresh install.
//!
//! Two locks: `kassa.lock` (it holds the PID, for the message a second server gets) and `kassa.db` itself, so
//! a cleanup script that deletes `kassa.lock` lets no second server in. Both are `flock` locks, which Linux
//! keeps apart from SQLite's `fcntl` locks on the same file. One catch: closing *any* descriptor of
//! `kassa.db` drops every `fcntl` lock this process holds on it, SQLite's included, so the descriptor that
//! holds the `flock` is never closed while the process lives (it is unlocked and left open on drop).
//!
//! No file of the folder is ever opened through a symbolic link: each name Kassa uses is checked with
//! `lstat` at start (a link refuses the start) and opened with `O_NOFOLLOW` (SQLite opens its files so too).
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The lock file; it holds the PID of the process that owns the folder.
pub const LOCK_FILE: &str = "kassa.lock";
/// The fiscal database.
pub const DATABASE: &str = "kassa.db";
/// The commit mark of the database (see `store::mark`).
pub const MARK: &str = "kassa.mark";
/// Files and folders Kassa itself writes: one of them without `kassa.db` means the database was lost.
const KASSA_FILES: &[&str] =
    &["kassa.db-wal", "kassa.db-shm", "kassa.db-journal", "kassa.mark", "spool.db", "pin.key", "printed"];
/// Every name Kassa creates or opens in the data folder: none of them may be a symbolic link.
pub const OWN_NAMES: &[&str] = &[
    "kassa.lock",
    "kassa.db",
    "kassa.db-wal",
    "kassa.db-shm",
    "kassa.db-journal",
    "kassa.mark",
    "pin.key",
    "spool.db",
    "spool.db-wal",
    "spool.db-shm",
    "spool.db-journal",
    "printed",
    "templates",
];

/// A data folder this process owns until it is dropped (the OS releases the locks of a crashed process).
#[derive(Debug)]
pub struct DataFolder {
    path: PathBuf,
    _lock: File,
    /// `kassa.db`, opened and `flock`ed (see the module's note on why it is never closed).
    database: Mutex<Option<File>>,
}

impl Drop for DataFolder {
    fn drop(&mut self) {
        let held = self.database.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(file) = held {
            let _ = file.unlock();
            // Closing it would drop SQLite's fcntl locks on kassa.db in this process: leave it open.
            std::mem::forget(file);
        }
    }
}

/// Refuses the start when one of Kassa's names in `dir` is a symbolic link: following it would let whoever
/// planted it make Kassa (perhaps run as root) create, lock or overwrite the link's target.
pub fn refuse_links(dir: &Path) -> Result<(), String> {
    for name in OWN_NAMES {
        let path = dir.join(name);
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && meta.file_type().is_symlink()
        {
            let target = std::fs::read_link(&path).map(|t| t.display().to_string()).unwrap_or_default();
            return Err(format!(
                "{} is a symbolic link (to {target}): Kassa never follows links in its data folder, so that \
                 nobody can make it write or lock a file elsewhere. Remove the link (rm {}); if it pointed at \
                 Kassa's real file, move that file into the folder in its place",
                path.display(),
                path.display()
            ));
        }
    }
    Ok(())
}

/// Opens an existing file for reading, never through a symbolic link.
pub fn open_existing(path: &Path) -> std::io::Result<File> {
    no_follow(OpenOptions::new().read(true)).open(path)
}

/// Adds `O_NOFOLLOW` (Unix): opening a symbolic link fails instead of opening its target.
pub fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(options, libc::O_NOFOLLOW);
    options
}

/// Whether `kassa.db` is there to open or is to be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    Existing,
    Fresh,
}

impl DataFolder {
    /// Creates the folder (0700 on Unix) if needed and takes its lock. A second server on the same folder
    /// gets an error naming the folder and the PID written by the server that holds it.
    pub fn lock(path: &Path) -> Result<DataFolder, String> {
        create_private_dir(path)?;
        refuse_links(path)?;
        let lock_path = path.join(LOCK_FILE);
        let mut file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", lock_path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let who = if pid.is_empty() { "another process".to_owned() } else { format!("process {pid}") };
                return Err(format!(
                    "the data folder {} is in use by {who} (another kassa serve or kassa ofd info): \
                     one server per data folder; stop it first, or give this one its own --data-dir",
                    path.display()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", lock_path.display()));
            }
        }
        let folder = DataFolder { path: path.to_path_buf(), _lock: file, database: Mutex::new(None) };
        // The database's own lock, before the PID is written: a second server that got past a deleted
        // kassa.lock leaves the running one's PID alone.
        if std::fs::symlink_metadata(path.join(DATABASE)).is_ok() {
            folder.lock_database()?;
        }
        // Both locks are ours: record who holds them, for the message the next one gets.
        let mut file = &folder._lock;
        let written = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|_| file.flush());
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot write the PID into the lock file");
        }
        Ok(folder)
    }

    /// Takes the lock on `kassa.db` itself (at `lock` when it exists, else once the store created it).
    pub fn lock_database(&self) -> Result<(), String> {
        self.lock_also(&self.path.join(DATABASE))
    }

    /// Serving from PostgreSQL, the folder has no `kassa.db` to lock: the folder itself is locked instead, so
    /// a removed `kassa.lock` still lets no second server share the print queue and the keys.
    pub fn lock_folder_itself(&self) -> Result<(), String> {
        // Windows opens a folder only with flags of its own (never built here): `kassa.lock` alone guards it.
        if cfg!(unix) { self.lock_also(&self.path) } else { Ok(()) }
    }

    /// `flock`s `db` (a file or the folder) beside `kassa.lock`, kept for the process's life.
    fn lock_also(&self, db: &Path) -> Result<(), String> {
        let mut held = self.database.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let file = no_follow(OpenOptions::new().read(true))
            .open(db)
            .map_err(|e| format!("cannot open {} to lock it: {e}", db.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                // The descriptor must stay open: closing it would drop the fcntl locks of a store this
                // process may hold on the same file.
                std::mem::forget(file);
                let mut pid = String::new();
                let _ = open_existing(&self.path.join(LOCK_FILE)).and_then(|mut f| f.read_to_string(&mut pid));
                let pid = pid.trim();
                let who = if pid.is_empty() { "another process".into() } else { format!("process {pid}") };
                return Err(format!(
                    "the data folder {} is in use by {who}: {} is locked by another kassa serve (its kassa.lock \
                     was removed or replaced, so the PID named may be stale). One server per data folder: stop \
                     the other one first, or give this one its own --data-dir",
                    self.path.display(),
                    db.display()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                std::mem::forget(file);
                return Err(format!("cannot lock {}: {e}", db.display()));
            }
        }
        *held = Some(file);
        Ok(())
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks `kassa.db` before it is opened: a fresh install happens only in a folder without Kassa files;
    /// an empty, missing (beside other Kassa files) or read-only database stops the start.
    pub fn check_database(&self) -> Result<Install, String> {
        let db = self.path.join(DATABASE);
        match std::fs::symlink_metadata(&db) {
            Ok(meta) if !meta.is_file() => {
                Err(format!("{} is not a regular file: Kassa will not open it as its fiscal database", db.display()))
            }
            Ok(meta) if meta.len() == 0 => Err(format!(
                "{} is empty (0 bytes): the fiscal database was truncated or replaced. Kassa will not start a \
                 fresh install over it. Restore kassa.db from a backup (see README, \"A damaged data folder\"); \
                 for a really new install, remove the empty file or use an empty folder",
                db.display()
            )),
            Ok(meta) if meta.permissions().readonly() => Err(format!(
                "{} is read-only: every sale would fail. Give the user running Kassa write access to it \
                 (chmod 600 {})",
                db.display(),
                db.display()
            )),
            Ok(_) => Ok(Install::Existing),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let present: Vec<&str> = KASSA_FILES
                    .iter()
                    .copied()
                    .filter(|f| std::fs::symlink_metadata(self.path.join(f)).is_ok())
                    .collect();
                if present.is_empty() {
                    Ok(Install::Fresh)
                } else {
                    Err(format!(
                        "{} is missing, but the folder holds other Kassa files ({}): the fiscal database was \
                         lost or moved. Restore kassa.db from a backup (see README, \"A damaged data folder\"); \
                         Kassa starts a fresh install only in an empty or new folder",
                        db.display(),
                        present.join(", ")
                    ))
                }
            }
            Err(e) => Err(format!("cannot read {}: {e}", db.display())),
        }
    }
}

/// The server's PIN key file (32 random bytes, 0600): see `fiscal::pin`.
pub const PIN_KEY: &str = "pin.key";

impl DataFolder {
    /// Reads the PIN key, or makes a new one when no stored PIN needs the old one (`may_create`). Without
    /// its key no hashed PIN can be found, so a lost key with hashed PINs stops the start.
    pub fn pin_key(&self, may_create: bool) -> Result<[u8; 32], String> {
        let path = self.path.join(PIN_KEY);
        let read = open_existing(&path).and_then(|mut f| {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).map(|_| bytes)
        });
        match read {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                format!(
                    "{} is damaged ({} bytes, not 32): restore it from the backup of this folder",
                    path.display(),
                    bytes.len()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => {
                let key: [u8; 32] = rand::random();
                let mut file = private_options()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                file.write_all(&key)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
                "{} is missing: the operators' PINs are stored as hashes keyed with it, so no PIN could be \
                 checked. Restore pin.key from the backup of this data folder (back up kassa.db and pin.key \
                 together)",
                path.display()
            )),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }
}

/// Creates `path` with mode 0700 (Unix); an existing folder of Kassa's own that others can read is tightened.
fn create_private_dir(path: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(|e| format!("cannot create data folder {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        // Only a folder that is Kassa's own (it holds kassa.db) is tightened: never a shared one like /tmp.
        if mode & 0o077 != 0 && path.join(DATABASE).exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("cannot make {} private: {e}", path.display()))?;
            tracing::warn!(folder = %path.display(), was = format!("{mode:o}"), "data folder made private (0700)");
        } else if mode & 0o077 != 0 {
            tracing::warn!(folder = %path.display(), mode = format!("{mode:o}"), "data folder is readable by others");
        }
    }
    Ok(())
}

/// Options that create a file readable by its owner only and never open a symbolic link (Unix).
pub fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    no_follow(&mut options);
    options
}

/// Creates an SQLite database file (0600, never through a link) before SQLite does, so the log and shared
/// memory files SQLite makes beside it get the same private mode; an existing file is left alone.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    match private_options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes the files of an SQLite database (main file, WAL, shared memory) readable by their owner only.
pub fn make_private(db: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for suffix in ["", "-wal", "-shm"] {
            let file = db.with_file_name(format!("{name}{suffix}"));
            // symlink_metadata: a link is never followed (chmod would change its target).
            if let Ok(meta) = std::fs::symlink_metadata(&file)
                && meta.is_file()
                && meta.permissions().mode() & 0o077 != 0
                && let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            {
                tracing::warn!(file = %file.display(), error = %e, "cannot make the file private");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
}

/// Moves a damaged file (and its WAL and shared memory) aside as `<name>.damaged-<unix time>`; returns the
/// new name of the main file.
pub fn set_aside(db: &Path) -> std::io::Result<PathBuf> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let target = db.with_file_name(format!("{name}.damaged-{stamp}"));
    std::fs::rename(db, &target)?;
    for suffix in ["-wal", "-shm"] {
        let side = db.with_file_name(format!("{name}{suffix}"));
        if side.exists() {
            std::fs::rename(&side, db.with_file_name(format!("{name}.damaged-{stamp}{suffix}")))?;
        }
    }
    Ok(target)
}
