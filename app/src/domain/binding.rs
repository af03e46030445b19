//! Who holds an HAVIP, decided from ARP observations alone.
//!
//! `apply(state, observation, now)` is pure: the server feeds it what agents report and stores
//! the result. A gratuitous ARP (`Announce`) is a takeover: the announcer becomes the holder and
//! earlier claimants are superseded. Replies to the agents' probes keep claims fresh. Two MACs
//! with fresh claims at once is a split brain (`Conflict`); when one of them stops answering for
//! the conflict window the conflict resolves to the other. `misses_before_lost` probes in a row
//! without any reply mean no host holds the address any more.

use super::mac::Mac;
use serde::{Deserialize, Serialize};

/// What an agent saw about one HAVIP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// Gratuitous ARP (sender IP == target IP) or an unsolicited reply from `mac`.
    Announce { mac: Mac },
    /// `mac` answered an active `who-has` probe.
    ProbeReply { mac: Mac },
    /// A probe got no answer at all.
    ProbeMiss,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRules {
    pub misses_before_lost: u32,
    pub conflict_window_ms: u64,
    /// A new holder this soon after the old one was lost is a failover, not a fresh binding
    /// (a hard failure is noticed after 3 probes, keepalived's backup takes over after
    /// 3 adverts + skew: the two race).
    pub failover_window_ms: u64,
}

impl Default for BindingRules {
    fn default() -> Self {
        BindingRules {
            misses_before_lost: 3,
            conflict_window_ms: 2_000,
            failover_window_ms: 10_000,
        }
    }
}

/// One MAC claiming the address: first and latest time it was seen (unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub mac: Mac,
    pub since: u64,
    pub last_seen: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingState {
    /// The current holder; kept during a conflict (the latest announcer).
    pub holder: Option<Claim>,
    /// Fresh claims, at most one per MAC.
    pub claims: Vec<Claim>,
    /// Consecutive probes without a reply.
    pub misses: u32,
    /// The holder most recently lost (`last_seen` = when it was declared lost).
    #[serde(default)]
    pub lost: Option<Claim>,
}

/// What the list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Unbound,
    Bound { mac: Mac, since: u64 },
    Conflict { macs: Vec<Mac> },
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Unbound => "Not bound with CVM yet",
            Status::Bound { .. } => "Bound with CVM",
            Status::Conflict { .. } => "Conflict",
        }
    }
}

/// A holder change, recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Bound { mac: Mac },
    Failover { from: Mac, to: Mac },
    Conflict { macs: Vec<Mac> },
    Resolved { mac: Mac },
    Lost { mac: Mac },
}

impl Change {
    pub fn describe(&self) -> String {
        match self {
            Change::Bound { mac } => format!("Bound to {mac}"),
            Change::Failover { from, to } => format!("Failover {from} → {to}"),
            Change::Conflict { macs } => format!("Conflict: {}", join(macs)),
            Change::Resolved { mac } => format!("Conflict resolved to {mac}"),
            Change::Lost { mac } => format!("Holder {mac} lost"),
        }
    }
}

fn join(macs: &[Mac]) -> String {
    macs.iter()
        .map(Mac::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Observation {
    pub fn cause(&self, rules: &BindingRules) -> String {
        match self {
            Observation::Announce { mac } => format!("gratuitous ARP from {mac}"),
            Observation::ProbeReply { mac } => format!("probe answered by {mac}"),
            Observation::ProbeMiss => {
                format!("{} probes in a row unanswered", rules.misses_before_lost)
            }
        }
    }
}

impl BindingState {
    pub fn status(&self) -> Status {
        if self.claims.len() >= 2 {
            let mut macs: Vec<Mac> = self.claims.iter().map(|c| c.mac).collect();
            macs.sort();
            return Status::Conflict { macs };
        }
        match self.holder {
            Some(h) => Status::Bound {
                mac: h.mac,
                since: h.since,
            },
            None => Status::Unbound,
        }
    }

    fn touch(&mut self, mac: Mac, now: u64) -> Claim {
        match self.claims.iter_mut().find(|c| c.mac == mac) {
            Some(c) => {
                c.last_seen = now;
                *c
            }
            None => {
                let c = Claim {
                    mac,
                    since: now,
                    last_seen: now,
                };
                self.claims.push(c);
                c
            }
        }
    }
}

/// Applies one observation; returns the new state and the holder change it caused, if any.
pub fn apply(
    state: &BindingState,
    obs: Observation,
    now: u64,
    rules: &BindingRules,
) -> (BindingState, Option<Change>) {
    let before = state.status();
    let old_holder = state.holder.map(|h| h.mac);
    let mut s = state.clone();
    s.claims
        .retain(|c| now.saturating_sub(c.last_seen) <= rules.conflict_window_ms);

    match obs {
        Observation::Announce { mac } => {
            s.misses = 0;
            let claim = s.touch(mac, now);
            if old_holder != Some(mac) {
                // takeover: whoever claimed before this announcement is superseded
                s.claims.retain(|c| c.mac == mac);
                s.holder = Some(claim);
            }
        }
        Observation::ProbeReply { mac } => {
            s.misses = 0;
            let claim = s.touch(mac, now);
            if s.holder.is_none() {
                s.holder = Some(claim);
            }
        }
        Observation::ProbeMiss => {
            s.misses += 1;
            if s.misses >= rules.misses_before_lost {
                if let Some(h) = s.holder {
                    s.lost = Some(Claim {
                        last_seen: now,
                        ..h
                    });
                }
                s.holder = None;
                s.claims.clear();
            }
        }
    }
    // a single fresh claimant that is not the holder has silently taken over
    if let [only] = s.claims[..] {
        if s.holder.map(|h| h.mac) != Some(only.mac) {
            s.holder = Some(Claim { since: now, ..only });
        }
    }
    let BindingState { holder, claims, .. } = &mut s;
    if let Some(h) = holder {
        if let Some(c) = claims.iter().find(|c| c.mac == h.mac) {
            h.last_seen = c.last_seen;
        }
    }

    if s.holder.is_some() {
        s.lost = None;
    }
    let after = s.status();
    let change = match (&before, &after) {
        (a, b) if a == b => None,
        (_, Status::Conflict { macs }) => match &before {
            Status::Conflict { macs: old } if old == macs => None,
            _ => Some(Change::Conflict { macs: macs.clone() }),
        },
        (Status::Conflict { .. }, Status::Bound { mac, .. }) => {
            Some(Change::Resolved { mac: *mac })
        }
        (Status::Unbound, Status::Bound { mac, .. }) => match state.lost {
            Some(l)
                if l.mac != *mac && now.saturating_sub(l.last_seen) <= rules.failover_window_ms =>
            {
                Some(Change::Failover {
                    from: l.mac,
                    to: *mac,
                })
            }
            _ => Some(Change::Bound { mac: *mac }),
        },
        (Status::Bound { mac: from, .. }, Status::Bound { mac: to, .. }) if from != to => {
            Some(Change::Failover {
                from: *from,
                to: *to,
            })
        }
        (Status::Bound { mac, .. }, Status::Unbound) => Some(Change::Lost { mac: *mac }),
        (Status::Conflict { macs }, Status::Unbound) => Some(Change::Lost { mac: macs[0] }),
        _ => None,
    };
    (s, change)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Mac = Mac([2, 0, 0, 0x16, 0x16, 5]);
    const B: Mac = Mac([2, 0, 0, 0x16, 0x16, 6]);

    /// Runs a script of (time ms, observation) and returns the final state and every change.
    fn run(script: &[(u64, Observation)]) -> (BindingState, Vec<(u64, Change)>) {
        let rules = BindingRules::default();
        let mut s = BindingState::default();
        let mut changes = vec![];
        for &(t, obs) in script {
            let (next, change) = apply(&s, obs, t, &rules);
            s = next;
            if let Some(c) = change {
                changes.push((t, c));
            }
        }
        (s, changes)
    }

    use Observation::*;

    #[test]
    fn new_havip_is_unbound() {
        assert_eq!(BindingState::default().status(), Status::Unbound);
        assert_eq!(Status::Unbound.label(), "Not bound with CVM yet");
    }

    #[test]
    fn announce_binds_and_probe_replies_keep_it() {
        let (s, ch) = run(&[
            (0, Announce { mac: A }),
            (1000, ProbeReply { mac: A }),
            (2000, ProbeReply { mac: A }),
        ]);
        assert_eq!(s.status(), Status::Bound { mac: A, since: 0 });
        assert_eq!(s.holder.unwrap().last_seen, 2000);
        assert_eq!(ch, vec![(0, Change::Bound { mac: A })]);
    }

    #[test]
    fn probe_reply_alone_binds_an_agent_started_after_the_election() {
        let (s, ch) = run(&[(0, ProbeMiss), (1000, ProbeReply { mac: A })]);
        assert_eq!(
            s.status(),
            Status::Bound {
                mac: A,
                since: 1000
            }
        );
        assert_eq!(ch, vec![(1000, Change::Bound { mac: A })]);
    }

    #[test]
    fn failover_a_to_b_by_gratuitous_arp_is_not_a_conflict() {
        let (s, ch) = run(&[
            (0, ProbeReply { mac: A }),
            (1000, ProbeReply { mac: A }),
            // A's link goes down; probes at 2000, 3000 go unanswered; B takes over at 4650
            (2000, ProbeMiss),
            (3000, ProbeMiss),
            (4650, Announce { mac: B }),
            (5000, ProbeReply { mac: B }),
        ]);
        assert_eq!(
            s.status(),
            Status::Bound {
                mac: B,
                since: 4650
            }
        );
        assert_eq!(
            ch,
            vec![
                (0, Change::Bound { mac: A }),
                (4650, Change::Failover { from: A, to: B })
            ]
        );
    }

    #[test]
    fn hard_failure_noticed_before_the_backup_takes_over_is_still_a_failover() {
        // A's link goes down after its reply at 0; misses at 1250, 2250, 3250; B announces at 3650
        let (s, ch) = run(&[
            (0, ProbeReply { mac: A }),
            (1250, ProbeMiss),
            (2250, ProbeMiss),
            (3250, ProbeMiss),
            (3650, Announce { mac: B }),
        ]);
        assert_eq!(
            s.status(),
            Status::Bound {
                mac: B,
                since: 3650
            }
        );
        assert_eq!(
            ch,
            vec![
                (0, Change::Bound { mac: A }),
                (3250, Change::Lost { mac: A }),
                (3650, Change::Failover { from: A, to: B })
            ]
        );
        // long after the loss, a new holder is a fresh binding; the same MAC coming back too
        let (_, ch) = run(&[
            (0, ProbeReply { mac: A }),
            (1000, ProbeMiss),
            (2000, ProbeMiss),
            (3000, ProbeMiss),
            (60_000, Announce { mac: B }),
        ]);
        assert_eq!(ch.last().unwrap(), &(60_000, Change::Bound { mac: B }));
        let (_, ch) = run(&[
            (0, ProbeReply { mac: A }),
            (1000, ProbeMiss),
            (2000, ProbeMiss),
            (3000, ProbeMiss),
            (3500, Announce { mac: A }),
        ]);
        assert_eq!(ch.last().unwrap(), &(3500, Change::Bound { mac: A }));
    }

    #[test]
    fn takeover_even_while_old_holder_was_fresh() {
        // graceful stop: A's last reply at 1000, B announces at 1650
        let (s, ch) = run(&[
            (1000, ProbeReply { mac: A }),
            (1650, Announce { mac: B }),
            (2000, ProbeReply { mac: B }),
        ]);
        assert_eq!(
            s.status(),
            Status::Bound {
                mac: B,
                since: 1650
            }
        );
        assert_eq!(ch[1], (1650, Change::Failover { from: A, to: B }));
    }

    #[test]
    fn lost_after_three_misses() {
        let (s, ch) = run(&[
            (0, Announce { mac: A }),
            (1000, ProbeMiss),
            (2000, ProbeMiss),
        ]);
        assert_eq!(s.status(), Status::Bound { mac: A, since: 0 });
        assert_eq!(ch.len(), 1);
        let (s, ch) = run(&[
            (0, Announce { mac: A }),
            (1000, ProbeMiss),
            (2000, ProbeMiss),
            (3000, ProbeMiss),
        ]);
        assert_eq!(s.status(), Status::Unbound);
        assert_eq!(ch.last().unwrap(), &(3000, Change::Lost { mac: A }));
    }

    #[test]
    fn a_reply_between_misses_resets_the_count() {
        let (s, _) = run(&[
            (0, Announce { mac: A }),
            (1000, ProbeMiss),
            (2000, ProbeMiss),
            (3000, ProbeReply { mac: A }),
            (4000, ProbeMiss),
            (5000, ProbeMiss),
        ]);
        assert_eq!(s.status(), Status::Bound { mac: A, since: 0 });
    }

    #[test]
    fn split_brain_is_a_conflict_and_resolves_to_the_survivor() {
        let (s, ch) = run(&[
            (0, ProbeReply { mac: A }),
            // keepalived on A is SIGKILLed: A keeps the VIP, B takes over
            (3650, Announce { mac: B }),
            (4000, ProbeReply { mac: A }),
            (4000, ProbeReply { mac: B }),
            (5000, ProbeReply { mac: B }),
            (5000, ProbeReply { mac: A }),
        ]);
        assert_eq!(s.status(), Status::Conflict { macs: vec![A, B] });
        assert_eq!(ch[2], (4000, Change::Conflict { macs: vec![A, B] }));
        assert_eq!(
            ch.len(),
            3,
            "conflict is reported once, not per reply: {ch:?}"
        );

        // the stale address is removed from A: only B answers; after the window it resolves
        let mut script = vec![
            (0, ProbeReply { mac: A }),
            (3650, Announce { mac: B }),
            (4000, ProbeReply { mac: A }),
            (4000, ProbeReply { mac: B }),
        ];
        for t in [5000, 6000, 7000] {
            script.push((t, ProbeReply { mac: B }));
        }
        let (s, ch) = run(&script);
        assert_eq!(
            s.status(),
            Status::Bound {
                mac: B,
                since: 3650
            }
        );
        assert_eq!(ch.last().unwrap(), &(7000, Change::Resolved { mac: B }));
    }

    #[test]
    fn refresh_announcement_by_the_holder_during_a_conflict_does_not_flap() {
        let (_, ch) = run(&[
            (0, Announce { mac: A }),
            (500, ProbeReply { mac: B }),
            (1000, Announce { mac: A }),
            (1000, ProbeReply { mac: B }),
        ]);
        assert_eq!(
            ch,
            vec![
                (0, Change::Bound { mac: A }),
                (500, Change::Conflict { macs: vec![A, B] })
            ]
        );
    }

    #[test]
    fn silent_takeover_seen_only_through_probes() {
        // the agent missed B's announcements: A stops answering, B answers
        let (s, ch) = run(&[
            (0, ProbeReply { mac: A }),
            (1000, ProbeReply { mac: B }),
            (2000, ProbeReply { mac: B }),
            (3000, ProbeReply { mac: B }),
        ]);
        assert_eq!(s.status().label(), "Bound with CVM");
        assert_eq!(s.holder.unwrap().mac, B);
        assert_eq!(
            ch,
            vec![
                (0, Change::Bound { mac: A }),
                (1000, Change::Conflict { macs: vec![A, B] }),
                (3000, Change::Resolved { mac: B })
            ]
        );
    }

    #[test]
    fn state_round_trips_through_json() {
        let (s, _) = run(&[(0, Announce { mac: A }), (10, ProbeReply { mac: B })]);
        let back: BindingState = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
