//! Why a database could not be opened, told apart by the error types of sled and of the file
//! system (never by their text), and the one line a command prints for each.

use crate::domain::error::ApiError;
use std::fmt;
use std::io::ErrorKind;
use std::path::Path;

#[derive(Debug)]
pub enum OpenError {
    /// Another process has the database open: sled's file lock is held.
    InUse,
    /// sled found a damaged page in its files.
    Damaged(String),
    /// The directory or its files belong to another user, or are closed to this one.
    NotPermitted(String),
    /// Anything else, as the store reports it.
    Failed(ApiError),
}

impl OpenError {
    /// The one line a command prints for a database in `dir` that cannot be opened.
    pub fn explain(&self, dir: &Path) -> String {
        let dir = dir.display();
        match self {
            OpenError::InUse => format!(
                "the database in {dir} is in use by another process (is `havip serve` running?); stop it first: only one process may open it at a time"
            ),
            OpenError::Damaged(why) => format!(
                "the database in {dir} is damaged and cannot be read ({why}); restore the latest backup into a new directory (havip restore FILE --data-dir NEW) and start with that"
            ),
            OpenError::NotPermitted(why) => format!(
                "cannot open the database in {dir}: {why}; the user running havip must own it (chown -R that user {dir})"
            ),
            OpenError::Failed(e) => format!("cannot open the database in {dir}: {}", e.message),
        }
    }

    /// A file-system error while making or opening the directory.
    pub(super) fn io(path: &Path, e: std::io::Error) -> OpenError {
        let why = format!("{}: {e}", path.display());
        match e.kind() {
            ErrorKind::PermissionDenied => OpenError::NotPermitted(why),
            ErrorKind::WouldBlock => OpenError::InUse,
            _ => OpenError::Failed(ApiError::internal(why)),
        }
    }
}

impl From<sled::Error> for OpenError {
    fn from(e: sled::Error) -> Self {
        match e {
            // sled keeps the kind of the lock's error (vendor/sled/PATCHES.md)
            sled::Error::Io(io) if io.kind() == ErrorKind::WouldBlock => OpenError::InUse,
            sled::Error::Io(io) if io.kind() == ErrorKind::PermissionDenied => {
                OpenError::NotPermitted(io.to_string())
            }
            sled::Error::Corruption { at, .. } => OpenError::Damaged(match at {
                Some(at) => format!("corrupt data at {at}"),
                None => "corrupt data".into(),
            }),
            e => OpenError::Failed(super::db_err(e)),
        }
    }
}

impl From<ApiError> for OpenError {
    fn from(e: ApiError) -> Self {
        OpenError::Failed(e)
    }
}

/// For a store opened inside another operation (a backup checked in a scratch directory): then
/// it is the console's own fault, whatever the cause.
impl From<OpenError> for ApiError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Failed(e) => e,
            e => ApiError::internal(e.to_string()),
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::InUse => f.write_str("the database is in use by another process"),
            OpenError::Damaged(why) => write!(f, "the database is damaged: {why}"),
            OpenError::NotPermitted(why) | OpenError::Failed(ApiError { message: why, .. }) => {
                f.write_str(why)
            }
        }
    }
}

impl std::error::Error for OpenError {}
