//! The SQLite source of a copy: a data folder or a `kassa.db`, opened read-only, in one read transaction
//! (one consistent snapshot however a running server writes meanwhile), at the schema the baseline equals.
use super::migrate::SQLITE_VERSION;
use crate::store::folder;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// An open snapshot.
pub struct Source {
    pub conn: Connection,
    pub path: PathBuf,
}

impl Source {
    /// Opens `from` (a data folder holding kassa.db, or the file itself) and begins the snapshot.
    pub fn open(from: &Path) -> Result<Source, String> {
        let path = if from.is_dir() { from.join(folder::DATABASE) } else { from.to_path_buf() };
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(format!("{} is not a regular file (a link or a folder)", path.display())),
            Err(e) => return Err(format!("{}: {e} (--from names a data folder or its kassa.db)", path.display())),
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NOFOLLOW | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let damaged = |e: rusqlite::Error| source_error(&path, "reading its schema", e);
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(damaged)?;
        // The snapshot begins with the first read and holds until the copy ends.
        conn.execute_batch("BEGIN DEFERRED").map_err(damaged)?;
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)).map_err(damaged)?;
        let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(damaged)?;
        if version > SQLITE_VERSION {
            return Err(format!(
                "{} has schema {version}, newer than this kassa's PostgreSQL baseline (SQLite schema \
                 {SQLITE_VERSION}): copy it with the kassa that wrote it",
                path.display()
            ));
        }
        if version < SQLITE_VERSION {
            return Err(format!(
                "{} has schema {version}; a copy takes schema {SQLITE_VERSION}: start this kassa's server on the \
                 folder once (it upgrades the schema, keeping a copy as kassa.db.schema-{version}), stop it, then \
                 copy",
                path.display()
            ));
        }
        Ok(Source { conn, path })
    }

    /// An SQLite error while reading, worded for the person who ran the copy.
    pub fn error(&self, what: &str, e: rusqlite::Error) -> String {
        source_error(&self.path, what, e)
    }
}

fn source_error(path: &Path, what: &str, e: rusqlite::Error) -> String {
    let damaged = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase)
    );
    if damaged {
        format!(
            "{} is damaged ({what}: {e}); nothing was committed to the target. Run kassa check on its folder, \
             or copy from a backup",
            path.display()
        )
    } else {
        format!("{} ({what}): {e}", path.display())
    }
}
