//! What the Tencent API remembers, as every replica sees it:
//! - the TC3 signatures already accepted: a signed request replayed to another replica, or
//!   after a restart, is refused as it is on the replica that took it first. Each record is the
//!   signature's SHA-256 and when it may be forgotten (its timestamp's window has ended);
//! - the tasks handed out (the RequestIds of asynchronous actions), for `DescribeTaskResult`
//!   on any replica, kept a day.
//!
//! - the `state`s of single sign-ons that came back, with the signatures: each is used once.
//!
//! The leading replica forgets them all when their time is over.

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

    /// Records the `state` of a single sign-on that came back (as a digest, in the same table
    /// as signatures: one use each, on every replica) until `forget_after` (Unix seconds):
    /// false when it came back before.
    pub fn first_use_of_login_state(
        &self,
        state: &str,
        forget_after: i64,
        now: i64,
    ) -> Result<bool, ApiError> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(format!("sso state\n{state}")).into();
        self.first_use_of_signature(&digest, forget_after, now)
    }

    /// Forgets the signatures whose window ended before `now` (Unix seconds); how many.
    pub fn forget_old_signatures(&self, now: i64) -> Result<usize, ApiError> {
        (self.inner.signatures)
            .remove_ended(|until| be_i64(until) <= now)
            .map_err(db_err)
    }
}

/// A task is remembered this long.
const TASK_KEPT_MS: u64 = 24 * 3600 * 1000;

impl Store {
    /// Remembers a task handed out (an asynchronous action's RequestId).
    pub fn remember_api_task(&self, id: &str) -> Result<(), ApiError> {
        let at = super::now_ms();
        (self.inner.api_tasks.insert(id.as_bytes(), at.to_be_bytes()))
            .map_err(db_err)
            .map(drop)
    }

    /// Whether task `id` was handed out within a day.
    pub fn api_task_known(&self, id: &str) -> Result<bool, ApiError> {
        let at = self.inner.api_tasks.get(id.as_bytes()).map_err(db_err)?;
        Ok(at.is_some_and(|at| super::now_ms().saturating_sub(be_u64(&at)) < TASK_KEPT_MS))
    }

    /// Forgets tasks handed out over a day before `now` (unix ms); how many.
    pub fn forget_old_api_tasks(&self, now: u64) -> Result<usize, ApiError> {
        (self.inner.api_tasks)
            .remove_ended(|at| now.saturating_sub(be_u64(at)) >= TASK_KEPT_MS)
            .map_err(db_err)
    }
}

fn be_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_be_bytes)
}

fn be_i64(bytes: &[u8]) -> i64 {
    bytes.try_into().map_or(0, i64::from_be_bytes)
}
