//! Each TC3 signature is accepted once.
//!
//! A signature is valid for `MAX_SKEW_S` on either side of its timestamp, and the official
//! SDK signs only `content-type;host` (not `X-TC-Action`): without this, a captured request
//! could be sent again within those minutes, even with another action. The signatures that
//! verified are remembered (by their SHA-256) until their timestamp leaves the window; one
//! seen again is refused.
//!
//! Memory is bounded: at most `MAX_REMEMBERED` signatures are kept. When that many are still
//! inside the window, new signed requests are refused (with a throttling code) rather than
//! forgetting a signature early, which would let it be replayed: replay protection never
//! silently lapses. Only signatures that verified are recorded, so filling the memory takes
//! valid keys and is further bounded by the per-key rate limit.
//!
//! The memory is the process's; what every replica and the next start must know is recorded in
//! the store as well (`Store::first_use_of_signature`): a request accepted by one replica is
//! refused by the others, and after a restart.

use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

/// The most signatures remembered at once.
pub const MAX_REMEMBERED: usize = 100_000;

/// Why a verified signature is not accepted.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// it was accepted before
    AlreadyUsed,
    /// `MAX_REMEMBERED` signatures are still inside their window
    Full,
    /// the store, where replicas share what they accepted, could not record it
    Unrecorded(app::domain::error::ApiError),
}

/// What is remembered of a signature.
pub fn digest(signature: &str) -> Digest32 {
    Sha256::digest(signature.as_bytes()).into()
}

pub type Digest32 = [u8; 32];

/// The signatures accepted within the window, with when each may be forgotten.
#[derive(Default)]
pub struct SeenSignatures {
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    digests: HashSet<Digest32>,
    /// (forget after, digest), soonest first
    by_expiry: BTreeSet<(i64, Digest32)>,
}

impl SeenSignatures {
    /// Records `signature`, signed at `timestamp` (Unix seconds) and valid `window_s` around
    /// it, at `now`; refused when it was recorded before or the memory is full.
    pub fn first_use(
        &self,
        signature: &str,
        timestamp: i64,
        window_s: i64,
        now: i64,
    ) -> Result<(), Refusal> {
        let digest = digest(signature);
        let mut seen = app::support::lock(&self.inner);
        seen.forget_expired(now);
        if seen.digests.contains(&digest) {
            return Err(Refusal::AlreadyUsed);
        }
        if seen.digests.len() >= MAX_REMEMBERED {
            return Err(Refusal::Full);
        }
        seen.digests.insert(digest);
        seen.by_expiry.insert((timestamp + window_s, digest));
        Ok(())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().digests.len()
    }
}

impl Seen {
    /// Forgets the signatures whose timestamp is now outside the window (refused anyway).
    fn forget_expired(&mut self, now: i64) {
        while let Some(&(until, digest)) = self.by_expiry.first() {
            if until >= now {
                break;
            }
            self.by_expiry.pop_first();
            self.digests.remove(&digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_accepted_once_until_its_window_ends() {
        let seen = SeenSignatures::default();
        assert_eq!(seen.first_use("aa", 1000, 300, 1000), Ok(()));
        assert_eq!(
            seen.first_use("aa", 1000, 300, 1200),
            Err(Refusal::AlreadyUsed)
        );
        assert_eq!(seen.first_use("bb", 1000, 300, 1200), Ok(()));
        // the last second of the window still remembers it; after it, it is forgotten
        assert_eq!(
            seen.first_use("aa", 1000, 300, 1300),
            Err(Refusal::AlreadyUsed)
        );
        assert_eq!(seen.first_use("cc", 1301, 300, 1301), Ok(()));
        assert_eq!(
            seen.len(),
            1,
            "aa and bb are forgotten once outside the window"
        );
    }

    #[test]
    fn a_full_memory_refuses_rather_than_forgets() {
        let seen = SeenSignatures::default();
        for i in 0..MAX_REMEMBERED {
            seen.first_use(&i.to_string(), 1000, 300, 1000).unwrap();
        }
        assert_eq!(
            seen.first_use("one more", 1000, 300, 1000),
            Err(Refusal::Full)
        );
        assert_eq!(
            seen.first_use("0", 1000, 300, 1000),
            Err(Refusal::AlreadyUsed)
        );
        // once the window has passed, there is room again
        assert_eq!(seen.first_use("one more", 1301, 300, 1301), Ok(()));
        assert_eq!(seen.len(), 1);
    }
}
