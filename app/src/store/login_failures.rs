//! Failed logins, counted per key (a user name, a client network, a device), as the login
//! throttle reads them: after the first three failures each next attempt waits 1 s, 2 s, 4 s …
//! up to 5 minutes, and failures are forgotten 15 minutes after the last one. The rule is
//! here, once; the counts live in this process's memory (one console on sled) or in the
//! store's `login_failures` table, which replicas on etcd share, so that spreading guesses
//! over the replicas gains nothing.

use super::kv::{Abort, Transactional};
use super::{db_err, decode, encode, finish, Store};
use crate::domain::error::ApiError;
use serde::{Deserialize, Serialize};

/// Failures older than this are forgotten: the back-off never locks anyone out for good.
pub const FAILURES_FORGOTTEN_MS: u64 = 15 * 60_000;

/// How long to wait after `failures` failed logins in a row: none after the first two, then
/// 1 s, 2 s, 4 s … up to 5 minutes.
pub fn delay_ms(failures: u32) -> u64 {
    match failures {
        0..=2 => 0,
        n => (1000u64 << (n - 3).min(16)).min(300_000),
    }
}

/// One key's failures: how many in a row, and when the last was (unix ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    pub count: u32,
    pub last: u64,
}

impl Failures {
    pub fn forgotten(&self, now: u64) -> bool {
        now.saturating_sub(self.last) > FAILURES_FORGOTTEN_MS
    }

    /// How long an attempt at `now` must still wait.
    pub fn wait(&self, now: u64) -> u64 {
        if self.forgotten(now) {
            return 0;
        }
        (self.last + delay_ms(self.count)).saturating_sub(now)
    }

    /// With one more failure at `now`.
    pub fn counted(self, now: u64) -> Failures {
        let count = if self.forgotten(now) { 0 } else { self.count };
        Failures {
            count: count + 1,
            last: now,
        }
    }

    /// With one failure fewer (an attempt taken back); none left: gone.
    pub fn uncounted(self) -> Option<Failures> {
        let count = self.count.saturating_sub(1);
        (count > 0).then_some(Failures { count, ..self })
    }
}

impl Store {
    /// Refuses (with the milliseconds still to wait) while any of `keys` must wait; else
    /// counts a failure against each, in one transaction across replicas.
    pub fn count_login_attempt(
        &self,
        keys: &[String],
        now: u64,
    ) -> Result<Result<(), u64>, ApiError> {
        let result = (&self.inner.login_failures,).transaction(|(table,)| {
            let mut seen = Vec::with_capacity(keys.len());
            for key in keys {
                let found = table.get(key)?;
                seen.push(
                    found
                        .and_then(|v| decode::<Failures>(&v).ok())
                        .unwrap_or_default(),
                );
            }
            let wait = seen.iter().map(|f| f.wait(now)).max().unwrap_or(0);
            if wait > 0 {
                return Ok(Err(wait));
            }
            for (key, failures) in keys.iter().zip(seen) {
                table.insert(key.as_bytes(), encode(&failures.counted(now)))?;
            }
            Ok::<_, Abort<ApiError>>(Ok(()))
        });
        finish(result)
    }

    /// Takes back one failure of each key (an attempt that was never checked).
    pub fn uncount_login_attempt(&self, keys: &[String]) -> Result<(), ApiError> {
        self.change_login_failures(keys, |f| f.uncounted())
    }

    /// Clears the keys' failures (a right password).
    pub fn clear_login_failures(&self, keys: &[String]) -> Result<(), ApiError> {
        self.change_login_failures(keys, |_| None)
    }

    fn change_login_failures(
        &self,
        keys: &[String],
        change: impl Fn(Failures) -> Option<Failures>,
    ) -> Result<(), ApiError> {
        let result = (&self.inner.login_failures,).transaction(|(table,)| {
            for key in keys {
                let Some(found) = table.get(key)? else {
                    continue;
                };
                match decode::<Failures>(&found).ok().and_then(&change) {
                    Some(next) => table.insert(key.as_bytes(), encode(&next))?,
                    None => table.remove(key)?,
                };
            }
            Ok::<_, Abort<ApiError>>(())
        });
        finish(result)
    }

    /// Forgets the keys whose last failure is forgotten at `now`, then the oldest beyond
    /// `max_keys` (the leading replica's sweep); how many.
    pub fn forget_old_login_failures(&self, now: u64, max_keys: usize) -> Result<usize, ApiError> {
        let table = &self.inner.login_failures;
        let ended = |value: &[u8]| decode::<Failures>(value).map_or(true, |f| f.forgotten(now));
        let mut forgotten = table.remove_ended(ended).map_err(db_err)?;
        let mut kept = vec![];
        for entry in table.iter() {
            let (key, value) = entry.map_err(db_err)?;
            if let Ok(f) = decode::<Failures>(&value) {
                kept.push((f.last, key, value));
            }
        }
        kept.sort_by_key(|(last, ..)| *last);
        let excess = kept.len().saturating_sub(max_keys);
        for (_, key, value) in kept.into_iter().take(excess) {
            forgotten += usize::from(table.remove_if(&key, &value).map_err(db_err)?);
        }
        Ok(forgotten)
    }
}
