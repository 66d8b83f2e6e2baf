//! A copy of the database as it was, made before a start migrates it to a newer schema: the way back to
//! the older binary (README, "Going back after an upgrade"). An older binary refuses a newer schema
//! (`StoreError::TooNew`), and a migration that moves data (the Kazakh books onto the ledger) cannot be
//! undone by SQL.
use super::StoreResult;
use super::folder;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The oldest schema copied: before 0005 PINs were stored in plain text, and a copy would keep them at rest
/// beside the migrated database (back such a database up with `kassa backup` and keep it off the machine).
pub const FIRST_COPIED: u32 = 5;

/// Where the copy of `db` at schema `version` is kept: `kassa.db.schema-12` beside `kassa.db`.
pub fn copy_path(db: &Path, version: u32) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".schema-{version}"));
    db.with_file_name(name)
}

/// Copies the database `conn` holds into [`copy_path`] with SQLite's online backup (one consistent file,
/// no write-ahead log beside it), synced before the migration starts. A copy already there is kept: it is
/// the older one (a start whose migration failed leaves the database at `version` again).
pub fn copy_before_migrating(conn: &Connection, db: &Path, version: u32) -> StoreResult<Option<PathBuf>> {
    let to = copy_path(db, version);
    if to.exists() {
        return Ok(None);
    }
    let mut partial = to.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    folder::create_private_file(&partial)?;
    let mut target =
        Connection::open_with_flags(&partial, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NOFOLLOW)?;
    {
        let backup = Backup::new(conn, &mut target)?;
        // Nothing else writes while the store opens (the data folder's lock is held).
        while backup.step(-1)? != StepResult::Done {}
    }
    target.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    drop(target);
    folder::open_existing(&partial)?.sync_all()?;
    std::fs::rename(&partial, &to)?;
    if let Some(dir) = to.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(Some(to))
}
