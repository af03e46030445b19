//! TC3 signatures already accepted, as every replica sees them: a signed request replayed to
//! another replica, or after a restart, is refused as it is on the replica that took it first.
//! Each record is the signature's SHA-256 and when it may be forgotten (its timestamp's window
//! has ended); the leading replica forgets them (`forget_old_signatures`).

use super::kv::{Abort, Transactional};
use super::{db_err, finish, Store};
use crate::domain::error::ApiError;

impl Store {
    /// Records a verified signature (its SHA-256) until `forget_after` (Unix seconds): false
    /// when it was recorded before and its window has not ended at `now`.
    pub fn first_use_of_signature(
        &self,
        digest: &[u8; 32],
        forget_after: i64,
        now: i64,
    ) -> Result<bool, ApiError> {
        let table = &self.inner.signatures;
        let result = (table,).transaction(|(signatures,)| {
            if let Some(until) = signatures.get(digest)? {
                if be_i64(&until) > now {
                    return Ok(false);
                }
            }
            signatures.insert(digest.as_slice(), forget_after.to_be_bytes())?;
            Ok::<_, Abort<ApiError>>(true)
        });
        finish(result)
    }

    /// Forgets the signatures whose window ended before `now` (Unix seconds); how many.
    pub fn forget_old_signatures(&self, now: i64) -> Result<usize, ApiError> {
        let table = &self.inner.signatures;
        let mut forgotten = 0;
        for entry in table.iter() {
            let (digest, until) = entry.map_err(db_err)?;
            if be_i64(&until) <= now && table.remove_if(&digest, &until).map_err(db_err)? {
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }
}

fn be_i64(bytes: &[u8]) -> i64 {
    bytes.try_into().map_or(0, i64::from_be_bytes)
}
