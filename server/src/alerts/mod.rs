//! The alert dispatcher: takes the events the store raises, finds the rules that want them,
//! holds repeats back (`dedup`) and delivers each to its rule's destination (`webhook`, `hook`)
//! with retries, logging the outcome of every delivery in the rule's delivery log.
//!
//! Each rule has its own queue and worker, so deliveries to one destination keep the order of
//! the events and a slow or dead destination delays nobody else. Events and deliveries are
//! kept in the store's outbox until they end (`app::store`'s `outbox`): one raised while the
//! console stops, or still being retried then, is delivered when it starts again. Events held
//! back by the de-duplication window are the exception: they wait in memory.

pub mod dedup;
pub mod destinations;
pub mod hook;
pub mod webhook;

use app::domain::alerts::{AlertRule, Delivery, Event, Target};
use app::domain::ids::AlertId;
use app::store::Store;
use dedup::{Dedup, Outgoing};
use std::collections::HashMap;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;
use webhook::{Attempt, Outcome};

/// Attempts per delivery; the waits between them double from `FIRST_RETRY` (1+2+4+8+16 s).
pub const MAX_ATTEMPTS: u32 = 6;
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Deliveries that may wait for one rule's destination; past that new ones are dropped (and
/// the drop is logged in its delivery log).
const QUEUE: usize = 1_000;
/// How often held-back events are checked for the end of their window.
pub(crate) const TICK: Duration = Duration::from_millis(200);

/// How long deliveries wait and may take: the console's own (`default`), or shorter ones for
/// tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// the wait after the first failed attempt, doubled after each
    pub first_retry: Duration,
    /// one webhook attempt (connect, send, answer)
    pub attempt_timeout: Duration,
    /// one run of a hook program, which is killed past it
    pub hook_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            first_retry: FIRST_RETRY,
            attempt_timeout: webhook::ATTEMPT_TIMEOUT,
            hook_timeout: hook::HOOK_TIMEOUT,
        }
    }
}

#[derive(Clone)]
struct Context {
    store: Store,
    client: reqwest::Client,
    /// the CloudEvents `source` of this console
    source: String,
    limits: Limits,
}

/// Starts the dispatcher; it ends when the console shuts down.
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    spawn_limited(store, Limits::default())
}

/// The dispatcher with a shorter first wait between attempts.
#[cfg(test)]
pub(crate) fn spawn_with(store: Store, first_retry: Duration) -> tokio::task::JoinHandle<()> {
    let limits = Limits {
        first_retry,
        ..Limits::default()
    };
    spawn_limited(store, limits)
}

pub(crate) fn spawn_limited(store: Store, limits: Limits) -> tokio::task::JoinHandle<()> {
    let client = reqwest::Client::builder()
        // a redirect would send the signed event somewhere the admin did not name
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("havip/", env!("CARGO_PKG_VERSION")))
        // only to addresses webhooks may go to, checked on the address connected to
        .dns_resolver(std::sync::Arc::new(destinations::CheckedResolver {
            destinations: std::sync::Arc::new(store.config().webhooks.clone()),
        }))
        .build()
        .expect("an HTTP client with default TLS settings");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let cx = Context {
        store,
        client,
        source: format!("/havip/{host}"),
        limits,
    };
    // subscribe before returning, so no event raised after this call is missed
    let events = cx.store.alert_events();
    tokio::spawn(async move {
        match events {
            Ok(events) => run(cx, events).await,
            Err(e) => tracing::error!("alerts: cannot read the outbox: {}", e.message),
        }
    })
}

/// The dispatcher's state: the de-duplication windows and each rule's queue.
struct Dispatcher {
    cx: Context,
    dedup: Dedup,
    queues: HashMap<AlertId, mpsc::Sender<Outgoing>>,
    /// the rules' workers: they stop with the dispatcher (a replica that stops leading)
    workers: tokio::task::JoinSet<()>,
    /// events taken from the outbox, which the channel may bring again (up to the highest)
    taken: HashSet<u64>,
}

async fn run(cx: Context, (kept, mut raised): (Vec<Event>, broadcast::Receiver<Event>)) {
    let mut d = Dispatcher {
        cx,
        dedup: Dedup::default(),
        queues: HashMap::new(),
        workers: tokio::task::JoinSet::new(),
        taken: HashSet::new(),
    };
    // what an earlier run left: deliveries under way, then events not matched yet
    match d.cx.store.pending_deliveries() {
        Ok(pending) => {
            for (id, out) in pending {
                d.enqueue(&id, out);
            }
        }
        Err(e) => tracing::error!("alerts: cannot read the pending deliveries: {}", e.message),
    }
    d.take_kept(kept);
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            got = raised.recv() => match got {
                Ok(event) => d.raised(event),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("alerts: {n} events came faster than they were matched; reading them from the outbox");
                    match d.cx.store.alert_events() {
                        Ok((kept, again)) => {
                            raised = again;
                            d.take_kept(kept);
                        }
                        Err(e) => tracing::error!("alerts: cannot read the outbox: {}", e.message),
                    }
                }
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => d.release_due(),
            _ = d.cx.store.closing() => return,
        }
    }
}

impl Dispatcher {
    /// Events read from the outbox: matched now, and skipped when the channel brings them.
    fn take_kept(&mut self, kept: Vec<Event>) {
        for event in kept {
            if self.taken.insert(event.seq) {
                self.matched(event);
            }
        }
    }

    fn raised(&mut self, event: Event) {
        let highest = self.taken.iter().max().copied().unwrap_or(0);
        if event.seq > highest {
            // past every event taken from the outbox: none of them comes again
            self.taken.clear();
        } else if self.taken.contains(&event.seq) {
            return;
        }
        self.matched(event);
    }

    /// Finds the rules that want the event; those not held back begin their delivery.
    fn matched(&mut self, event: Event) {
        let rules = match self.cx.store.alert_rules() {
            Ok(rules) => rules,
            Err(e) => {
                // it stays in the outbox for the next start
                tracing::error!("alerts: cannot read the rules: {}", e.message);
                return;
            }
        };
        let now = Instant::now();
        let seq = event.seq;
        let begin: Vec<(AlertId, Outgoing)> = rules
            .iter()
            .filter(|r| r.wants(&event))
            .filter_map(|rule| {
                let out = self
                    .dedup
                    .offer(&rule.id, window(rule), event.clone(), now)?;
                Some((rule.id.clone(), out))
            })
            .collect();
        // an event raised while the disk was nearly full was never kept (number 0)
        self.begin((seq > 0).then_some(seq), begin);
    }

    /// Held-back events whose window ended begin their delivery.
    fn release_due(&mut self) {
        if self.dedup.is_empty() {
            return;
        }
        let windows: HashMap<AlertId, Duration> = (self.cx.store.alert_rules())
            .unwrap_or_default()
            .iter()
            .map(|r| (r.id.clone(), window(r)))
            .collect();
        let due = (self.dedup).due(Instant::now(), |id| windows.get(id).copied());
        self.begin(None, due);
        self.queues.retain(|id, _| windows.contains_key(id));
    }

    /// Keeps the deliveries in the store, then queues them.
    fn begin(&mut self, matched: Option<u64>, begin: Vec<(AlertId, Outgoing)>) {
        if let Err(e) = self.cx.store.deliveries_begin(matched, &begin) {
            tracing::warn!("alerts: deliveries not kept in the outbox: {}", e.message);
        }
        for (id, out) in begin {
            self.enqueue(&id, out);
        }
    }

    fn enqueue(&mut self, id: &AlertId, out: Outgoing) {
        let queue = self.queues.entry(id.clone()).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            self.workers.spawn(worker(self.cx.clone(), id.clone(), rx));
            tx
        });
        if let Err(mpsc::error::TrySendError::Full(out)) = queue.try_send(out) {
            let why = app::i18n::Text::new(app::i18n::m::outcomes::DROPPED).arg("count", QUEUE);
            let dropped = finished(&out, 0, false, why.into(), false);
            log(&self.cx.store, id, &out, Some(&dropped));
        }
    }
}

fn window(rule: &AlertRule) -> Duration {
    Duration::from_secs(rule.dedup_s.into())
}

async fn worker(cx: Context, id: AlertId, mut queue: mpsc::Receiver<Outgoing>) {
    while let Some(out) = queue.recv().await {
        match deliver(&cx, &id, &out).await {
            Ended::Finished(delivery) => log(&cx.store, &id, &out, Some(&delivery)),
            Ended::RuleGone => log(&cx.store, &id, &out, None),
            // it stays in the outbox: the next start goes on with it
            Ended::Stopped => return,
        }
    }
}

/// Ends a delivery: its outcome in the rule's log (`None`: the rule is gone) and out of the
/// outbox.
fn log(store: &Store, id: &AlertId, out: &Outgoing, d: Option<&Delivery>) {
    if let Some(d) = d {
        tracing::info!(
            target: "havip::alerts",
            rule = %id, event = %d.event_id, r#type = %d.event_type, delivered = d.delivered,
            attempts = d.attempts, outcome = %d.outcome, "alert delivery"
        );
    }
    if let Err(e) = store.delivery_ended(id, out.event.seq, d) {
        tracing::warn!("alerts: cannot log a delivery: {}", e.message);
    }
}

/// The delivery of `out` after its last attempt; `gave_up` when that one was worth another try
/// but the attempts ran out.
fn finished(
    out: &Outgoing,
    attempts: u32,
    delivered: bool,
    outcome: Outcome,
    gave_up: bool,
) -> Delivery {
    let english = if gave_up {
        format!("{} (gave up)", outcome.english)
    } else {
        outcome.english
    };
    Delivery {
        event_id: out.event.id.clone(),
        event_type: out.event.event_type,
        subject: out.event.subject.clone(),
        at: app::support::now_ms(),
        attempts,
        delivered,
        outcome: english,
        outcome_text: outcome.coded,
        gave_up,
        suppressed: out.suppressed,
    }
}

/// The wait after failed attempt `failed` (1 for the first): `first`, doubled after each
/// attempt, times 0.8 to 1.2 by `random` (0 to 1) so many rules failing together do not retry
/// in step.
pub(crate) fn retry_wait(first: Duration, failed: u32, random: f64) -> Duration {
    let jitter = 0.8 + random.clamp(0.0, 1.0) * 0.4;
    (first * 2u32.pow(failed - 1)).mul_f64(jitter)
}

/// How a delivery ended.
enum Ended {
    /// delivered, refused, or out of attempts
    Finished(Delivery),
    /// the rule was deleted
    RuleGone,
    /// the console is stopping before another attempt
    Stopped,
}

/// Tries until delivered, refused, or out of attempts.
async fn deliver(cx: &Context, id: &AlertId, out: &Outgoing) -> Ended {
    for attempts in 1..=MAX_ATTEMPTS {
        // read again each time: a rule deleted meanwhile stops being tried
        let Ok(rule) = cx.store.alert_rule(id) else {
            return Ended::RuleGone;
        };
        let attempt = match &rule.target {
            Target::Webhook { url } => match cx.store.webhook_secret(id) {
                Ok(Some(secret)) => {
                    let destinations = &cx.store.config().webhooks;
                    let timeout = cx.limits.attempt_timeout;
                    let to = webhook::Receiver {
                        url,
                        secret: &secret,
                        timeout,
                    };
                    webhook::post(&cx.client, destinations, &to, out, &cx.source).await
                }
                _ => Attempt::Refused(app::i18n::m::outcomes::NO_SECRET.into()),
            },
            Target::Exec { program } => match cx.store.hook_path(program) {
                Ok(path) => hook::run(&path, out, &cx.source, cx.limits.hook_timeout).await,
                Err(e) => Attempt::Retry((&e).into()),
            },
        };
        let outcome = match attempt {
            Attempt::Delivered(o) => {
                return Ended::Finished(finished(out, attempts, true, o, false))
            }
            Attempt::Refused(o) => {
                return Ended::Finished(finished(out, attempts, false, o, false))
            }
            Attempt::Retry(o) => o,
        };
        if attempts == MAX_ATTEMPTS {
            return Ended::Finished(finished(out, attempts, false, outcome, true));
        }
        let wait = retry_wait(cx.limits.first_retry, attempts, rand::random());
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cx.store.closing() => return Ended::Stopped,
        }
    }
    unreachable!("the last attempt returns")
}
