//! The de-duplication window: the first event of a type about one subject goes out at once;
//! later ones within the rule's window are held back, and when the window ends the latest of
//! them goes out (with how many it stands for), so a flapping HAVIP sends two messages a window
//! instead of one per flap, and the last one tells where it ended up.

pub use app::domain::alerts::Outgoing;
use app::domain::alerts::{Event, EventType};
use app::domain::ids::AlertId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

type Key = (AlertId, EventType, String);

struct Window {
    until: Instant,
    held: Option<Event>,
    /// events not sent since the last one that was
    skipped: u32,
}

#[derive(Default)]
pub struct Dedup {
    windows: HashMap<Key, Window>,
}

impl Dedup {
    /// `Some` when the event goes out now.
    pub fn offer(
        &mut self,
        rule: &AlertId,
        window: Duration,
        event: Event,
        now: Instant,
    ) -> Option<Outgoing> {
        if window.is_zero() || event.event_type == EventType::Test {
            return Some(Outgoing {
                event,
                suppressed: 0,
            });
        }
        let key = (rule.clone(), event.event_type, event.subject.clone());
        match self.windows.get_mut(&key) {
            Some(w) if now < w.until => {
                w.held = Some(event);
                w.skipped += 1;
                None
            }
            _ => {
                self.windows.insert(
                    key,
                    Window {
                        until: now + window,
                        held: None,
                        skipped: 0,
                    },
                );
                Some(Outgoing {
                    event,
                    suppressed: 0,
                })
            }
        }
    }

    /// Events whose window ended with something held back; each starts a new window (of
    /// `window_of` its rule, `None` for a rule that is gone: its events are dropped).
    pub fn due(
        &mut self,
        now: Instant,
        window_of: impl Fn(&AlertId) -> Option<Duration>,
    ) -> Vec<(AlertId, Outgoing)> {
        let mut out = vec![];
        self.windows.retain(|(rule, _, _), w| {
            if now < w.until {
                return true;
            }
            let (Some(event), Some(window)) = (w.held.take(), window_of(rule)) else {
                return false;
            };
            out.push((
                rule.clone(),
                Outgoing {
                    event,
                    suppressed: w.skipped - 1,
                },
            ));
            w.until = now + window;
            w.skipped = 0;
            true
        });
        out
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::alerts::Scope;

    fn event(n: u64, subject: &str) -> Event {
        Event {
            id: format!("e{n}"),
            seq: n,
            event_type: EventType::HolderChanged,
            time: n,
            subject: subject.into(),
            scope: Scope::default(),
            data: serde_json::json!({"n": n}),
        }
    }

    #[test]
    fn a_flapping_subject_sends_the_first_and_then_the_latest_per_window() {
        let rule = AlertId::parse("alert-aaaaaaaa").unwrap();
        let window = Duration::from_secs(60);
        let t0 = Instant::now();
        let mut d = Dedup::default();
        let first = d.offer(&rule, window, event(1, "havip-a"), t0).unwrap();
        assert_eq!(first.event.id, "e1");
        for n in 2..=5 {
            let at = t0 + Duration::from_secs(n);
            assert_eq!(d.offer(&rule, window, event(n, "havip-a"), at), None);
        }
        // another subject is not held back by this one's window
        assert!(d.offer(&rule, window, event(6, "havip-b"), t0).is_some());
        assert!(d
            .due(t0 + Duration::from_secs(59), |_| Some(window))
            .is_empty());
        let due = d.due(t0 + Duration::from_secs(60), |_| Some(window));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].1.event.id, "e5");
        assert_eq!(due[0].1.suppressed, 3, "e2, e3 and e4 were never sent");
        // a new window began with the trailing send: the next event waits for it
        let t1 = t0 + Duration::from_secs(61);
        assert_eq!(d.offer(&rule, window, event(7, "havip-a"), t1), None);
        // quiet windows are forgotten
        d.due(t0 + Duration::from_secs(200), |_| Some(window));
        assert!(d
            .due(t0 + Duration::from_secs(400), |_| Some(window))
            .is_empty());
        assert!(d.is_empty());
    }

    #[test]
    fn no_window_and_tests_always_go_out() {
        let rule = AlertId::parse("alert-aaaaaaaa").unwrap();
        let mut d = Dedup::default();
        let now = Instant::now();
        for n in 0..3 {
            assert!(d.offer(&rule, Duration::ZERO, event(n, "x"), now).is_some());
        }
        let mut test = event(9, "x");
        test.event_type = EventType::Test;
        let w = Duration::from_secs(60);
        assert!(d.offer(&rule, w, test.clone(), now).is_some());
        assert!(d.offer(&rule, w, test, now).is_some());
    }

    #[test]
    fn held_events_of_a_deleted_rule_are_dropped() {
        let rule = AlertId::parse("alert-aaaaaaaa").unwrap();
        let w = Duration::from_secs(1);
        let now = Instant::now();
        let mut d = Dedup::default();
        d.offer(&rule, w, event(1, "x"), now);
        d.offer(&rule, w, event(2, "x"), now);
        assert!(d.due(now + w, |_| None).is_empty());
        assert!(d.is_empty());
    }
}
