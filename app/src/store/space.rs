//! Storage full. sled cannot recover from a failed write: after one, it refuses every later
//! read and write until the process restarts. So the store never lets it get there: while the
//! data directory's file system has less than `StoreConfig::min_free_bytes` available, changes
//! are refused with "storage full" (HTTP 507) before anything is written, reads keep working,
//! and once space is freed, writes work again at once.

use super::Store;
use crate::domain::error::ApiError;
use crate::i18n::{m, Text};
use std::path::Path;

/// Room kept free by default: far more than sled needs to finish what it has in flight.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 32 * 1024 * 1024;

impl Store {
    /// Refuses a change while the file system is (nearly) full.
    pub(crate) fn ensure_space(&self) -> Result<(), ApiError> {
        let wanted = self.inner.config.min_free_bytes;
        match available_bytes(&self.inner.dir) {
            Ok(free) if free < wanted => Err(ApiError::storage_full(
                Text::new(m::errors_store::STORAGE_FULL)
                    .arg("free", free / (1024 * 1024))
                    .arg("wanted", wanted.div_ceil(1024 * 1024)),
            )),
            // a file system that cannot say leaves the decision to the write itself
            _ => Ok(()),
        }
    }

    /// Whether the console can take changes now: the database answers and there is room.
    pub fn ready(&self) -> Result<(), ApiError> {
        (self.inner.kv.reachable())
            .map_err(|e| ApiError::internal(format!("the database does not answer: {e}")))?;
        self.inner
            .meta
            .get("schema_version")
            .map_err(|e| ApiError::internal(format!("the database does not answer: {e}")))?;
        self.ensure_space()
    }

    /// Whether writes that nobody asked for (a session's last use) may happen now.
    pub(crate) fn has_space(&self) -> bool {
        self.ensure_space().is_ok()
    }
}

/// Bytes an unprivileged writer may still use on the file system holding `dir`.
fn available_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is NUL-terminated and `stat` is written by statvfs before it is read
    if unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let stat = unsafe { stat.assume_init() };
    Ok(stat.f_bavail * stat.f_frsize)
}
