//! The data folder: one server per folder (an OS file lock held for the server's life), private permissions,
//! and the start-up checks of its files, so a damaged or missing database stops the start instead of
//! silently becoming a fresh install.
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file; it holds the PID of the process that owns the folder.
pub const LOCK_FILE: &str = "kassa.lock";
/// The fiscal database.
pub const DATABASE: &str = "kassa.db";
/// Files and folders Kassa itself writes: one of them without `kassa.db` means the database was lost.
const KASSA_FILES: &[&str] = &["kassa.db-wal", "kassa.db-shm", "kassa.db-journal", "spool.db", "pin.key", "printed"];

/// A data folder this process owns until it is dropped (the OS releases the lock of a crashed process).
#[derive(Debug)]
pub struct DataFolder {
    path: PathBuf,
    _lock: File,
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
        // The lock is ours: record who holds it, for the message the next one gets.
        let written = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|_| file.flush());
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot write the PID into the lock file");
        }
        Ok(DataFolder { path: path.to_path_buf(), _lock: file })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks `kassa.db` before it is opened: a fresh install happens only in a folder without Kassa files;
    /// an empty, missing (beside other Kassa files) or read-only database stops the start.
    pub fn check_database(&self) -> Result<Install, String> {
        let db = self.path.join(DATABASE);
        match std::fs::metadata(&db) {
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
                let present: Vec<&str> = KASSA_FILES.iter().copied().filter(|f| self.path.join(f).exists()).collect();
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
        match std::fs::read(&path) {
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

/// Options that create a file readable by its owner only (Unix).
pub fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Makes the files of an SQLite database (main file, WAL, shared memory) readable by their owner only.
pub fn make_private(db: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for suffix in ["", "-wal", "-shm"] {
            let file = db.with_file_name(format!("{name}{suffix}"));
            if let Ok(meta) = std::fs::metadata(&file)
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
