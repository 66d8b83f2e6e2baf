//! The spooler's error type. Transport failures never surface here: the worker keeps them
//! on the job (`last_error`) and retries.
use super::profile::ProfileError;

/// What a spooler call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The queue database failed (disk full, corrupt file, locked beyond the busy timeout).
    #[error("spool database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A file or folder could not be used.
    #[error("spool folder {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Printer profiles could not be loaded.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// No printer has this id.
    #[error("no printer with id {0}")]
    UnknownPrinter(i64),
    /// No job has this id.
    #[error("no job with id {0}")]
    UnknownJob(i64),
    /// The job is in a state that does not allow the operation.
    #[error("job {id} is {state}; {operation} is not possible now")]
    InvalidState {
        /// Job id.
        id: i64,
        /// Its state.
        state: String,
        /// The refused operation.
        operation: &'static str,
    },
    /// A cancel came too late: every byte of the job is at the printer, which prints it.
    #[error("job {id} cannot be cancelled: all {bytes} bytes are already at the printer, which prints them")]
    AlreadyAtPrinter {
        /// Job id.
        id: i64,
        /// The job's size.
        bytes: usize,
    },
    /// The configuration is inconsistent (message names the setting).
    #[error("spool config: {0}")]
    Config(String),
    /// [`crate::spool::Spooler::shutdown`] was called; the job (if any) is committed and
    /// prints after the next open.
    #[error("the spooler is shut down")]
    ShutDown,
    /// A stored row could not be decoded (written by a newer version?).
    #[error("spool database row: {0}")]
    Corrupt(String),
}
