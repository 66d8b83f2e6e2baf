//! The commit mark: `kassa.mark` beside `kassa.db` holds how many changing commits the database had when
//! Kassa last acknowledged one (`commit_mark.seq`, migration 0009).
//!
//! The group commit raises the count inside its transaction and, once the commit is on disk, overwrites the
//! mark in place: one 21-byte `pwrite`, not synced. So the mark may lag the database after a power cut, but
//! it never claims more than the database durably holds. A database found *behind* its mark lost commits
//! Kassa had acknowledged (a deleted `kassa.db-wal`, an older `kassa.db` put back by hand): the start is
//! refused instead of selling on it.
//!
//! A clean stop adds a second line, `clean <fingerprint>`: the size, modification time and inode of
//! `kassa.db` (and the size of its log) once the store closed. A start that finds that line, and the files
//! as it describes them, skips the full integrity check (the database was closed by SQLite and nobody touched
//! it since); any start removes the line at once, so a crash leaves none and the next start checks fully.
use super::StoreError;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The mark of a database file: `kassa.db` → `kassa.mark`.
pub fn path_of(db: &Path) -> PathBuf {
    db.with_extension("mark")
}

/// The open mark file.
pub struct CommitMark {
    file: File,
    path: PathBuf,
    /// Whether a failed write was logged already (logged once, not per commit).
    complained: AtomicBool,
}

/// The length of the count line (`record` writes exactly this many bytes at the start of the file).
const COUNT_LEN: u64 = 21;

/// What a clean stop leaves beside the count: how `kassa.db` and its log looked once the store closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The files of the database `db` as they are now (size, modification time and inode; the log's size).
    pub fn of(db: &Path) -> Option<Fingerprint> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(db).ok()?;
        let wal = std::fs::symlink_metadata(super::sqlite::wal_of(db)).map(|m| m.len() as i64).unwrap_or(-1);
        let when = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
        Some(Fingerprint(format!("{} {when} {} {wal}", meta.len(), meta.ino())))
    }
}

/// Reads a mark's text: `None` for an empty (new) file. Only the first line holds the count.
pub fn parse(text: &str, path: &Path) -> Result<Option<u64>, StoreError> {
    let text = text.split('\n').next().unwrap_or_default();
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        StoreError::Mark(format!(
            "{} is damaged ({text:?} is not a count of commits). It only guards against lost commits; if \
             kassa.db itself is sound (`kassa check`), remove {} and start again",
            path.display(),
            path.display()
        ))
    })
}

/// Reads the mark of `db` without creating it: `None` when there is none.
pub fn read(db: &Path) -> Result<Option<u64>, StoreError> {
    let path = path_of(db);
    match super::folder::open_existing(&path) {
        Ok(mut file) => {
            let mut text = String::new();
            file.read_to_string(&mut text).map_err(|e| StoreError::Mark(format!("{}: {e}", path.display())))?;
            parse(&text, &path)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Mark(format!("cannot read {}: {e}", path.display()))),
    }
}

impl CommitMark {
    /// Opens (creating, 0600, never through a symbolic link) the mark of `db`; returns it with the count it holds
    /// and the fingerprint a clean stop left, if the last stop was clean. The clean line is removed (and the
    /// removal synced) before this returns: from now on the database is in use.
    pub fn open(db: &Path) -> Result<(CommitMark, Option<u64>, Option<Fingerprint>), StoreError> {
        let path = path_of(db);
        let mut file = super::folder::private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::Mark(format!("cannot open {}: {e}", path.display())))?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| StoreError::Mark(format!("{}: {e}", path.display())))?;
        let seen = parse(&text, &path)?;
        let clean =
            text.lines().nth(1).and_then(|l| l.strip_prefix("clean ")).map(|f| Fingerprint(f.trim().to_owned()));
        if text.len() as u64 > COUNT_LEN {
            file.set_len(COUNT_LEN)
                .and_then(|_| file.sync_all())
                .map_err(|e| StoreError::Mark(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok((CommitMark { file, path, complained: AtomicBool::new(false) }, seen, clean))
    }

    /// Says, after the last count, that the store closed cleanly with its files as `fingerprint` says (synced).
    pub fn record_clean(&self, fingerprint: &Fingerprint) -> Result<(), StoreError> {
        let line = format!("clean {}\n", fingerprint.0);
        std::os::unix::fs::FileExt::write_all_at(&self.file, line.as_bytes(), COUNT_LEN)
            .and_then(|_| self.file.sync_all())
            .map_err(|e| StoreError::Mark(format!("cannot write {}: {e}", self.path.display())))
    }

    /// Overwrites the mark with `seq` (same length every time, so the write replaces the text whole).
    pub fn record(&self, seq: u64) {
        let text = format!("{seq:020}\n");
        #[cfg(unix)]
        let written = std::os::unix::fs::FileExt::write_all_at(&self.file, text.as_bytes(), 0);
        #[cfg(not(unix))]
        let written = {
            use std::io::{Seek, Write};
            (&self.file).rewind().and_then(|_| (&self.file).write_all(text.as_bytes()))
        };
        if let Err(e) = written
            && !self.complained.swap(true, Ordering::Relaxed)
        {
            tracing::error!(file = %self.path.display(), error = %e, "cannot write the commit mark: a lost write-ahead log would go unnoticed at the next start");
        }
    }

    /// Writes `seq` and syncs it (at start and after a restore, where the cost does not matter).
    pub fn record_synced(&self, seq: u64) -> Result<(), StoreError> {
        self.record(seq);
        self.file.sync_all().map_err(|e| StoreError::Mark(format!("cannot sync {}: {e}", self.path.display())))
    }
}
