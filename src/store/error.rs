//! Store errors.
use thiserror::Error;

/// A failure of the SQLite store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite refused or failed an operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused or failed an operation.
    #[error("database error: {}", super::pg::describe(.0))]
    Postgres(postgres::Error),
    /// Another node of the database holds the device's lease: it serves the device now, not this one.
    #[error("device {} is served by another node ({})", .0.device, .0.node)]
    ServedElsewhere(Box<super::pg::lease::Lease>),
    /// The PostgreSQL store cannot be reached, or its schema cannot be made ready.
    #[error("{0}")]
    Open(String),
    /// A stored JSON column could not be read back.
    #[error("stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    /// The commit that carried this write failed; the write is not stored.
    #[error("commit failed: {0}")]
    Commit(String),
    /// A stored value is not what the schema promises (e.g. a decimal column that does not parse).
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    /// SQLite's integrity check found damage (or the file is not a database at all).
    #[error("the database file is damaged: {0}")]
    Damaged(String),
    /// The file can be read but not written.
    #[error("the database file is read-only")]
    ReadOnly,
    /// The database holds fewer commits than Kassa acknowledged (`kassa.mark`): committed writes were lost.
    #[error("the database holds {database} commits, but {acknowledged} were acknowledged")]
    Behind {
        /// Changing commits the database holds.
        database: u64,
        /// Changing commits the mark says were acknowledged.
        acknowledged: u64,
    },
    /// The copy of the database made before migrating it could not be written; nothing was migrated.
    #[error("cannot copy the database before migrating it: {0}")]
    UpgradeCopy(#[from] std::io::Error),
    /// The commit mark file cannot be opened, read or written, or is damaged.
    #[error("{0}")]
    Mark(String),
    /// The database was written by a newer Kassa.
    #[error("database schema version {found} is newer than this build's {supported}")]
    TooNew {
        /// Version found in the file.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        super::pg::lease::refused(&e).unwrap_or(StoreError::Postgres(e))
    }
}

/// Result alias of the store.
pub type StoreResult<T> = Result<T, StoreError>;
