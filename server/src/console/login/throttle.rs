//! What slows password guessing: failed logins per user name, per client network and per
//! device, and a cap on password checks running at once.
//!
//! - **An attempt is recorded before its password is checked**, as if it failed; a success
//!   takes it back. So parallel attempts cannot all slip in before the first failure is
//!   counted: after the first three, each next one waits 1 s, 2 s, 4 s … up to 5 minutes.
//! - **Keys:** an unknown browser is held back by the name it tries *and* by its network (the
//!   client's IPv4 address, or its IPv6 /64: one host has a whole /64). A browser with a valid
//!   device cookie for that name (`device`) is held back only by its own failures: someone
//!   guessing the admin's password elsewhere cannot keep the admin out.
//! - **Bounded:** at most `MAX_KEYS` keys are remembered; when full, forgotten ones go first,
//!   then the one that failed longest ago. Names are validated before they get here (at most
//!   64 characters).
//! - **One console:** the counting rule is the store's (`app::store::Failures`). On sled the
//!   counts are in this process's memory; replicas on etcd keep them in the store, one
//!   transaction per attempt, so guesses spread over the replicas count as one; the leading
//!   replica forgets old ones and keeps them under `MAX_KEYS`.
//! - **Checks at once:** each check is an argon2 hash in 19 MiB. At most one per core runs;
//!   up to `WAITING_PER_CHECK` per core wait up to `MAX_WAIT` for one, the rest are refused at
//!   once. A device known for the name gets one more slot of its own, so a flood of strangers
//!   cannot fill every slot it needs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use app::store::Store;
pub use app::store::{delay_ms, Failures, FAILURES_FORGOTTEN_MS};

/// Keys remembered at most (a key and its counter take well under 200 bytes).
pub const MAX_KEYS: usize = 10_000;
/// Attempts that may wait for a check, per check slot.
const WAITING_PER_CHECK: usize = 4;
/// How long an attempt waits for a check slot before it is refused.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// a user name (validated, lower case)
    Name(String),
    /// a client's network: its IPv4 address, or its IPv6 /64
    Network(IpAddr),
    /// a browser that logged in as a user before (its device cookie's id)
    Device(String),
    /// clients whose address is not known (a Unix socket)
    Unknown,
}

impl Key {
    /// The network key of a client address: IPv4 (also when mapped into IPv6) as is, IPv6 by
    /// its /64.
    pub fn network(addr: Option<IpAddr>) -> Key {
        match addr.map(|a| a.to_canonical()) {
            Some(IpAddr::V6(v6)) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                Key::Network(IpAddr::V6(bits.into()))
            }
            Some(v4) => Key::Network(v4),
            None => Key::Unknown,
        }
    }
}

impl std::fmt::Display for Key {
    /// The key as the store keeps it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Name(name) => write!(f, "name:{name}"),
            Key::Network(net) => write!(f, "network:{net}"),
            Key::Device(device) => write!(f, "device:{device}"),
            Key::Unknown => write!(f, "unknown"),
        }
    }
}

/// Why an attempt is not checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// too many failures: try again in this many milliseconds
    BackOff(u64),
    /// every check slot is busy
    Busy,
    /// the store that counts failures (etcd) does not answer
    Unavailable,
}

impl Refused {
    /// Whole seconds for `Retry-After` and the message (at least 1).
    pub fn retry_after_s(self) -> u64 {
        match self {
            Refused::BackOff(ms) => ms.div_ceil(1000).max(1),
            Refused::Busy | Refused::Unavailable => 1,
        }
    }
}

/// What becomes of an attempt's counted failure.
#[derive(Clone, Copy)]
enum Settle {
    /// never checked: not a failure
    TakeBack,
    /// the right password: its keys start afresh
    Clear,
}

/// Where failures are counted.
#[derive(Clone)]
enum Counts {
    /// this process's memory (one console)
    Local(Arc<Mutex<HashMap<Key, Failures>>>),
    /// the store replicas share
    Shared(Store),
}

#[derive(Clone)]
pub struct Throttle {
    counts: Counts,
    checks: Arc<Semaphore>,
    known_device_checks: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

/// An attempt let through: its failure is already counted; `succeeded` takes it back.
pub struct Attempt {
    throttle: Throttle,
    keys: Vec<Key>,
    _slot: OwnedSemaphorePermit,
}

impl Throttle {
    /// A throttle running at most `checks` password checks at once, counting in memory.
    pub fn new(checks: usize) -> Throttle {
        Throttle::counting(Counts::Local(Arc::default()), checks)
    }

    fn counting(counts: Counts, checks: usize) -> Throttle {
        let checks = checks.max(1);
        Throttle {
            counts,
            checks: Arc::new(Semaphore::new(checks)),
            known_device_checks: Arc::new(Semaphore::new(1)),
            waiting: Arc::default(),
            max_waiting: checks * WAITING_PER_CHECK,
        }
    }

    /// One check per core, counting where `store`'s replicas all see (in memory when it is
    /// not shared).
    pub fn per_core(store: &Store) -> Throttle {
        let checks = std::thread::available_parallelism().map_or(2, |n| n.get());
        match store.is_shared() {
            true => Throttle::counting(Counts::Shared(store.clone()), checks),
            false => Throttle::new(checks),
        }
    }

    /// Keys remembered now (in memory).
    #[cfg(test)]
    pub fn remembered(&self) -> usize {
        self.lock().len()
    }

    #[cfg(test)]
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        match &self.counts {
            Counts::Local(failures) => app::support::lock(failures),
            Counts::Shared(_) => unreachable!("counted in the store"),
        }
    }

    /// Lets an attempt against `keys` through, counted as a failure until it succeeds, or
    /// refuses it. `known_device`: the attempt comes with a device cookie for its name.
    pub async fn attempt(
        &self,
        keys: Vec<Key>,
        known_device: bool,
        now: u64,
    ) -> Result<Attempt, Refused> {
        self.count(&keys, now)?;
        match self.slot(known_device).await {
            Some(slot) => Ok(Attempt {
                throttle: self.clone(),
                keys,
                _slot: slot,
            }),
            None => {
                self.uncount(&keys);
                Err(Refused::Busy)
            }
        }
    }

    /// Refuses while any key must wait; else counts a failure against each key.
    fn count(&self, keys: &[Key], now: u64) -> Result<(), Refused> {
        let failures = match &self.counts {
            Counts::Shared(store) => {
                return match store.count_login_attempt(&texts(keys), now) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(wait)) => Err(Refused::BackOff(wait)),
                    Err(e) => {
                        tracing::warn!("counting a login attempt: {}", e.message);
                        Err(Refused::Unavailable)
                    }
                };
            }
            Counts::Local(failures) => failures,
        };
        let mut failures = app::support::lock(failures);
        let wait = keys
            .iter()
            .filter_map(|k| failures.get(k))
            .map(|f| f.wait(now))
            .max()
            .unwrap_or(0);
        if wait > 0 {
            return Err(Refused::BackOff(wait));
        }
        for key in keys {
            if !failures.contains_key(key) && failures.len() >= MAX_KEYS {
                make_room(&mut failures, now);
            }
            let f = failures.entry(key.clone()).or_default();
            *f = f.counted(now);
        }
        Ok(())
    }

    fn uncount(&self, keys: &[Key]) {
        self.settle(keys, Settle::TakeBack);
    }

    /// Takes an attempt's failure back, or clears its keys.
    fn settle(&self, keys: &[Key], how: Settle) {
        match &self.counts {
            Counts::Shared(store) => {
                let keys = texts(keys);
                let settled = match how {
                    Settle::TakeBack => store.uncount_login_attempt(&keys),
                    Settle::Clear => store.clear_login_failures(&keys),
                };
                if let Err(e) = settled {
                    tracing::warn!("updating login failures: {}", e.message);
                }
            }
            Counts::Local(failures) => {
                let mut failures = app::support::lock(failures);
                for key in keys {
                    let next = match how {
                        Settle::TakeBack => failures.get(key).and_then(|f| f.uncounted()),
                        Settle::Clear => None,
                    };
                    match next {
                        Some(next) => failures.insert(key.clone(), next),
                        None => failures.remove(key),
                    };
                }
            }
        }
    }

    async fn slot(&self, known_device: bool) -> Option<OwnedSemaphorePermit> {
        if let Ok(slot) = self.checks.clone().try_acquire_owned() {
            return Some(slot);
        }
        if known_device {
            if let Ok(slot) = self.known_device_checks.clone().try_acquire_owned() {
                return Some(slot);
            }
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let slot = tokio::time::timeout(MAX_WAIT, self.checks.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        slot.ok()?.ok()
    }
}

fn texts(keys: &[Key]) -> Vec<String> {
    keys.iter().map(Key::to_string).collect()
}

/// Drops forgotten keys; if none was, the one whose last failure is oldest.
fn make_room(failures: &mut HashMap<Key, Failures>, now: u64) {
    let before = failures.len();
    failures.retain(|_, f| !f.forgotten(now));
    if failures.len() < before {
        return;
    }
    if let Some(oldest) = failures
        .iter()
        .min_by_key(|(_, f)| f.last)
        .map(|(k, _)| k.clone())
    {
        failures.remove(&oldest);
    }
}

impl Attempt {
    /// The password was right: its name and network (or its device) start afresh, as
    /// someone who mistyped and then got it right expects. A guesser gains nothing by logging
    /// in to an account of their own in between: the names they guess keep their failures.
    pub fn succeeded(self) {
        self.throttle.settle(&self.keys, Settle::Clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_logins_back_off_exponentially_up_to_five_minutes() {
        let delays: Vec<u64> = (0..=14).map(delay_ms).collect();
        assert_eq!(&delays[..7], &[0, 0, 0, 1000, 2000, 4000, 8000]);
        assert_eq!(delay_ms(11), 256_000);
        assert_eq!(delay_ms(12), 300_000);
        assert_eq!(delay_ms(1000), 300_000);
    }

    #[test]
    fn ipv6_clients_are_one_network_per_64() {
        let a = Key::network(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = Key::network(Some("2001:db8:1:2:ffff::9".parse().unwrap()));
        let other = Key::network(Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(
            Key::network(Some("::ffff:192.0.2.7".parse().unwrap())),
            Key::Network("192.0.2.7".parse().unwrap())
        );
        assert_ne!(
            Key::network(Some("192.0.2.7".parse().unwrap())),
            Key::network(Some("192.0.2.8".parse().unwrap()))
        );
    }

    #[tokio::test]
    async fn attempts_are_counted_before_they_are_checked() {
        let throttle = Throttle::new(64);
        let keys = || vec![Key::Name("admin".into())];
        // three attempts in flight at once, none finished: the fourth already waits
        let held: Vec<Attempt> =
            futures::future::join_all((0..3).map(|_| throttle.attempt(keys(), false, 1_000)))
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
        assert_eq!(
            throttle.attempt(keys(), false, 1_000).await.err(),
            Some(Refused::BackOff(1_000))
        );
        // a success takes its own attempt back and clears the name
        held.into_iter().next().unwrap().succeeded();
        assert!(throttle.attempt(keys(), false, 1_000).await.is_ok());
    }

    /// A throttle that has seen twelve failures for `admin`, each as soon as it was let in:
    /// the back-off is at its 5 minutes. Returns it and when the last failure was.
    async fn twelve_failures() -> (Throttle, u64) {
        let throttle = Throttle::new(64);
        let mut now = 0;
        for n in 1..=12 {
            let attempt = throttle.attempt(vec![Key::Name("admin".into())], false, now);
            drop(attempt.await.unwrap());
            if n < 12 {
                now += delay_ms(n);
            }
        }
        (throttle, now)
    }

    #[tokio::test]
    async fn failures_are_forgotten_after_15_minutes_without_failures() {
        const MINUTE: u64 = 60_000;
        let keys = || vec![Key::Name("admin".into())];
        // remembered for 15 minutes: the 5-minute wait has passed, but the next failure after
        // it is the 13th, and the one after that waits 5 minutes again
        let (throttle, last) = twelve_failures().await;
        let at = last + 15 * MINUTE;
        drop(throttle.attempt(keys(), false, at).await.unwrap());
        assert_eq!(
            throttle.attempt(keys(), false, at).await.err(),
            Some(Refused::BackOff(5 * MINUTE))
        );
        // forgotten after 15 minutes without failures: three attempts free again, then 1 s
        let (throttle, last) = twelve_failures().await;
        let at = last + 15 * MINUTE + 1;
        for _ in 0..3 {
            drop(throttle.attempt(keys(), false, at).await.unwrap());
        }
        assert_eq!(
            throttle.attempt(keys(), false, at).await.err(),
            Some(Refused::BackOff(1_000))
        );
    }

    #[tokio::test]
    async fn the_map_stays_bounded() {
        let throttle = Throttle::new(64);
        for i in 0..(MAX_KEYS + 500) {
            let key = Key::Name(format!("user{i}"));
            drop(throttle.attempt(vec![key], false, i as u64).await.unwrap());
        }
        assert_eq!(throttle.remembered(), MAX_KEYS);
        // the newest are kept
        let newest = Key::Name(format!("user{}", MAX_KEYS + 499));
        assert!(throttle.lock().contains_key(&newest));
        assert!(!throttle.lock().contains_key(&Key::Name("user0".into())));
    }

    #[tokio::test]
    async fn checks_past_the_slots_and_the_queue_are_refused() {
        let throttle = Throttle::new(1);
        let now = 0;
        let key = |i: usize| vec![Key::Name(format!("u{i}"))];
        let first = throttle.attempt(key(0), false, now).await.unwrap();
        // 4 may wait for the one slot; the 6th attempt is refused at once
        let waiting: Vec<_> = (1..=4)
            .map(|i| {
                let t = throttle.clone();
                tokio::spawn(async move { t.attempt(key(i), false, now).await.is_ok() })
            })
            .collect();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while throttle.waiting.load(Ordering::SeqCst) < 4 {
            assert!(std::time::Instant::now() < deadline, "the 4 never queued");
            tokio::task::yield_now().await;
        }
        assert_eq!(
            throttle.attempt(key(5), false, now).await.err(),
            Some(Refused::Busy)
        );
        // a device known for its name has a slot of its own
        let known = throttle.attempt(key(6), true, now).await;
        assert!(known.is_ok());
        drop(first);
        drop(known);
        for w in waiting {
            assert!(w.await.unwrap(), "a queued attempt got its slot");
        }
    }
}
