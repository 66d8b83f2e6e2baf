//! The commit mark: `kassa.mark` beside `kassa.db` holds how many changing commits the database had when
//! Kassa last acknowledged one (`commit_mark.seq`, migration 0009).
//!
//! The group commit raises the count inside its transaction and, once the commit is on disk, overwrites the
//! mark in place: one 21-byte `pwrite`, not synced. So the mark may lag the database after a power cut, but
//! it never claims more than the database durably holds. A database found *behind* its mark lost commits
//! Kassa had acknowledged (a deleted `kassa.db-wal`, an older `kassa.db` put back by hand): the start is
//! refused instead of selling on it.
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

/// Reads a mark's text: `None` for an empty (new) file.
pub fn parse(text: &str, path: &Path) -> Result<Option<u64>, StoreError> {
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
    /// Opens (creating, 0600, never through a symbolic link) the mark of `db`; returns it with the count it holds.
    pub fn open(db: &Path) -> Result<(CommitMark, Option<u64>), StoreError> {
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
        Ok((CommitMark { file, path, complained: AtomicBool::new(false) }, seen))
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
