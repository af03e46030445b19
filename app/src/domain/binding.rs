//! Who holds an HAVIP, decided from ARP observations alone.
//!
//! `apply(state, observation, now)` is pure: the server feeds it what agents report and stores
//! the result. A gratuitous ARP (`Announce`) is a takeover: the announcer becomes the holder and
//! earlier claimants are superseded. Replies to the agents' probes keep claims fresh. Two MACs
//! with fresh claims at once is a split brain (`Conflict`); when one of them stops answering for
//! the conflict window the conflict resolves to the other. `misses_before_lost` probes in a row
//! without any reply mean no host holds the address any more.
//!
//! Hosts that share one MAC (keepalived's `use_vmac`: VRRP's virtual MAC `00:00:5e:00:01:<VRID>`)
//! cannot be told apart by their MACs. There, more than one answer to one probe is a second
//! holder: the agent reports `SameMacReplies` once it saw it on consecutive probes, and again
//! (with one reply) when one answer per probe comes back.

use super::mac::Mac;
use crate::i18n::Text;
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
    /// Consecutive probes were each answered `replies` times by `mac`: with 2 or more, that many
    /// hosts share the MAC (a split brain behind a virtual MAC); 1 says one host answers again.
    SameMacReplies { mac: Mac, replies: u8 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRules {
    pub misses_before_lost: u32,
    pub conflict_window_ms: u64,
    /// A new holder this soon after the old one was lost is a failover, not a fresh binding
    /// (a hard failure is noticed after 3 probes, keepalived's backup takes over after
    /// 3 adverts + skew: the two race).
    pub failover_window_ms: u64,
    /// A claim by a MAC outside the allowed holders is shown this long after it was last seen.
    pub unauthorized_window_ms: u64,
    /// A holder taken over by an announcement may still answer a probe this soon after it: a
    /// preempted keepalived master drops the address a few milliseconds after the new master's
    /// first advert, and a probe can fall in between. Only an answer after this is a second holder.
    pub handover_grace_ms: u64,
}

impl Default for BindingRules {
    fn default() -> Self {
        BindingRules {
            misses_before_lost: 3,
            conflict_window_ms: 2_000,
            failover_window_ms: 10_000,
            unauthorized_window_ms: 5_000,
            handover_grace_ms: 300,
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
    /// Fresh claims by MACs that are not allowed to hold the address (never the holder).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unauthorized: Vec<Claim>,
    /// Hosts answering each probe with one MAC, when more than one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<SharedMac>,
    /// The holder an announcement took over from (`last_seen` = when).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<Claim>,
    /// The MACs of the routers advertising as master for the address's VRID, when more than
    /// one does (`domain::vrrp`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masters: Vec<Mac>,
}

/// More than one host answering for the address with the same MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedMac {
    pub mac: Mac,
    pub hosts: u8,
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

    /// Its label in the reader's language, for the pages (`label` stays the APIs' English).
    pub fn word(&self) -> crate::i18n::Msg {
        use crate::i18n::m::status as s;
        match self {
            Status::Unbound => s::UNBOUND,
            Status::Bound { .. } => s::BOUND,
            Status::Conflict { .. } => s::CONFLICT,
        }
    }
}

/// A holder change, recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Bound {
        mac: Mac,
    },
    Failover {
        from: Mac,
        to: Mac,
    },
    Conflict {
        macs: Vec<Mac>,
    },
    Resolved {
        mac: Mac,
    },
    Lost {
        mac: Mac,
    },
    /// A MAC outside the allowed holders announced or answered for the address.
    Unauthorized {
        mac: Mac,
    },
}

impl Change {
    pub fn describe(&self) -> String {
        self.describe_with(|mac| mac.to_string())
    }

    /// The sentence shown in the history, naming each MAC with `name` (e.g. its instance).
    pub fn describe_with(&self, name: impl Fn(Mac) -> String) -> String {
        match self {
            Change::Bound { mac } => format!("Bound to {}", name(*mac)),
            Change::Failover { from, to } => format!("Failover {} → {}", name(*from), name(*to)),
            Change::Conflict { macs } => match shared_mac(macs) {
                Some(mac) => format!("Conflict: {} hosts answer with {}", macs.len(), name(mac)),
                None => format!("Conflict: {}", join(macs, name)),
            },
            Change::Resolved { mac } => format!("Conflict resolved to {}", name(*mac)),
            Change::Lost { mac } => format!("Holder {} lost", name(*mac)),
            Change::Unauthorized { mac } => {
                format!(
                    "Unauthorized claim by {} (not an allowed holder)",
                    name(*mac)
                )
            }
        }
    }

    /// The MACs the change names.
    pub fn macs(&self) -> Vec<Mac> {
        match self {
            Change::Failover { from, to } => vec![*from, *to],
            Change::Conflict { macs } => macs.clone(),
            Change::Bound { mac }
            | Change::Resolved { mac }
            | Change::Lost { mac }
            | Change::Unauthorized { mac } => vec![*mac],
        }
    }

    /// `describe_with` in the reader's language, for the pages (in English the same words).
    pub fn text_with(&self, name: impl Fn(Mac) -> String) -> Text {
        use crate::i18n::m::status as s;
        match self {
            Change::Bound { mac } => Text::new(s::CHANGE_BOUND).arg("holder", name(*mac)),
            Change::Failover { from, to } => (Text::new(s::CHANGE_FAILOVER))
                .arg("from", name(*from))
                .arg("to", name(*to)),
            Change::Conflict { macs } => match shared_mac(macs) {
                Some(mac) => (Text::new(s::CHANGE_CONFLICT_SHARED))
                    .arg("count", macs.len())
                    .arg("mac", name(mac)),
                None => Text::new(s::CHANGE_CONFLICT).arg("holders", join(macs, name)),
            },
            Change::Resolved { mac } => Text::new(s::CHANGE_RESOLVED).arg("holder", name(*mac)),
            Change::Lost { mac } => Text::new(s::CHANGE_LOST).arg("holder", name(*mac)),
            Change::Unauthorized { mac } => {
                Text::new(s::CHANGE_UNAUTHORIZED).arg("holder", name(*mac))
            }
        }
    }
}

/// The one MAC of a conflict between hosts that share it (`[m, m]`), if it is one.
pub fn shared_mac(macs: &[Mac]) -> Option<Mac> {
    match macs {
        [first, rest @ ..] if !rest.is_empty() && rest.iter().all(|m| m == first) => Some(*first),
        _ => None,
    }
}

fn join(macs: &[Mac], name: impl Fn(Mac) -> String) -> String {
    macs.iter().map(|m| name(*m)).collect::<Vec<_>>().join(", ")
}

impl Observation {
    /// The MAC the observation is from, if any.
    pub fn mac(&self) -> Option<Mac> {
        match *self {
            Observation::Announce { mac }
            | Observation::ProbeReply { mac }
            | Observation::SameMacReplies { mac, .. } => Some(mac),
            Observation::ProbeMiss => None,
        }
    }

    /// What the history says caused a change: `outsider` when the MAC is not an allowed holder.
    pub fn cause(&self, rules: &BindingRules, outsider: bool) -> Text {
        use crate::i18n::m::causes;
        let pick = |inside, outside| if outsider { outside } else { inside };
        match *self {
            Observation::Announce { mac } => {
                Text::new(pick(causes::ANNOUNCE, causes::ANNOUNCE_OUTSIDER)).arg("mac", mac)
            }
            Observation::ProbeReply { mac } => {
                Text::new(pick(causes::PROBE_REPLY, causes::PROBE_REPLY_OUTSIDER)).arg("mac", mac)
            }
            Observation::ProbeMiss => {
                Text::new(causes::PROBE_MISS).arg("count", rules.misses_before_lost)
            }
            Observation::SameMacReplies { mac, replies } => Text::new(pick(
                causes::SAME_MAC_REPLIES,
                causes::SAME_MAC_REPLIES_OUTSIDER,
            ))
            .arg("replies", replies)
            .arg("mac", mac),
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
        if let Some(shared) = self.shared {
            return Status::Conflict {
                macs: vec![shared.mac; usize::from(shared.hosts)],
            };
        }
        if self.masters.len() >= 2 {
            return Status::Conflict {
                macs: self.masters.clone(),
            };
        }
        match self.holder {
            Some(h) => Status::Bound {
                mac: h.mac,
                since: h.since,
            },
            None => Status::Unbound,
        }
    }

    /// The state without the times claims were last heard (nor when a claim that is not the
    /// holder began): what the console shows and what the next observation decides on, apart
    /// from the conflict windows. A holder answering its probe each second changes only the
    /// rest, so the store writes a binding to disk only when this part changes.
    pub fn durable(&self) -> BindingState {
        let heard = |c: &Claim| Claim { last_seen: 0, ..*c };
        BindingState {
            holder: self.holder.as_ref().map(heard),
            claims: (self.claims.iter())
                .map(|c| Claim {
                    since: 0,
                    ..heard(c)
                })
                .collect(),
            misses: self.misses,
            lost: self.lost,
            unauthorized: self.unauthorized.iter().map(heard).collect(),
            shared: self.shared,
            superseded: self.superseded,
            masters: self.masters.clone(),
        }
    }

    /// Whether `mac` is the holder an announcement took over from, answering a probe sent
    /// before it let the address go (see `BindingRules::handover_grace_ms`).
    fn is_handing_over_from(&self, mac: Mac, now: u64, rules: &BindingRules) -> bool {
        self.superseded.is_some_and(|old| {
            old.mac == mac && now.saturating_sub(old.last_seen) <= rules.handover_grace_ms
        })
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
    if let Observation::ProbeReply { mac } = obs {
        if state.is_handing_over_from(mac, now, rules) {
            return (state.clone(), None);
        }
    }
    let old_holder = state.holder.map(|h| h.mac);
    let mut s = state.clone();
    s.claims
        .retain(|c| now.saturating_sub(c.last_seen) <= rules.conflict_window_ms);

    match obs {
        Observation::Announce { mac } => {
            s.misses = 0;
            if s.shared.is_some_and(|shared| shared.mac != mac) {
                s.shared = None;
            }
            let claim = s.touch(mac, now);
            if old_holder != Some(mac) {
                // takeover: whoever claimed before this announcement is superseded
                s.claims.retain(|c| c.mac == mac);
                s.superseded = state.holder.map(|h| Claim {
                    last_seen: now,
                    ..h
                });
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
        Observation::SameMacReplies { mac, replies } => {
            s.misses = 0;
            let claim = s.touch(mac, now);
            if s.holder.is_none() {
                s.holder = Some(claim);
            }
            s.shared = (replies >= 2).then_some(SharedMac {
                mac,
                hosts: replies,
            });
        }
        Observation::ProbeMiss => {
            // counted up to the threshold only: an address nobody holds stays as it is
            s.misses = (s.misses + 1).min(rules.misses_before_lost);
            if s.misses >= rules.misses_before_lost {
                if let Some(h) = s.holder {
                    s.lost = Some(Claim {
                        last_seen: now,
                        ..h
                    });
                }
                s.holder = None;
                s.claims.clear();
                s.shared = None;
                s.masters.clear();
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
    let change = holder_change(state, &s, now, rules);
    (s, change)
}

/// The holder change between two states, if their statuses differ.
fn holder_change(
    state: &BindingState,
    next: &BindingState,
    now: u64,
    rules: &BindingRules,
) -> Option<Change> {
    let (before, after) = (state.status(), next.status());
    match (&before, &after) {
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
    }
}

/// Takes the MACs of the routers now advertising as master for the address's VRID: two or
/// more is a split brain whatever the probes say (a master that ignores ARP still holds the
/// address); back to one or none, the conflict they made resolves. Masters that `may_hold`
/// refuses are left out, as their claims are.
pub fn advertised(
    state: &BindingState,
    masters: &[Mac],
    may_hold: impl Fn(Mac) -> bool,
    now: u64,
    rules: &BindingRules,
) -> (BindingState, Option<Change>) {
    let mut s = state.clone();
    let mut allowed: Vec<Mac> = masters.iter().copied().filter(|m| may_hold(*m)).collect();
    allowed.sort();
    s.masters = if allowed.len() >= 2 { allowed } else { vec![] };
    let change = holder_change(state, &s, now, rules);
    (s, change)
}

/// `apply` for an HAVIP whose holders are restricted ("allowed holders"): a MAC for which
/// `may_hold` is false never becomes the holder or part of a conflict. Its claim is kept apart
/// (shown red) and reported once as `Unauthorized` while it stays fresh. Its probe replies count
/// as unanswered probes, so an allowed holder that died is still noticed as lost.
pub fn apply_guarded(
    state: &BindingState,
    obs: Observation,
    may_hold: impl Fn(Mac) -> bool,
    now: u64,
    rules: &BindingRules,
) -> (BindingState, Vec<Change>) {
    let mut s = state.clone();
    s.unauthorized
        .retain(|c| now.saturating_sub(c.last_seen) <= rules.unauthorized_window_ms);
    let mut changes = vec![];
    let effective = match obs.mac() {
        Some(mac) if !may_hold(mac) => {
            match s.unauthorized.iter_mut().find(|c| c.mac == mac) {
                Some(c) => c.last_seen = now,
                None => {
                    changes.push(Change::Unauthorized { mac });
                    s.unauthorized.push(Claim {
                        mac,
                        since: now,
                        last_seen: now,
                    });
                }
            }
            match obs {
                Observation::ProbeReply { .. } => Some(Observation::ProbeMiss),
                _ => None,
            }
        }
        _ => Some(obs),
    };
    if let Some(obs) = effective {
        let (next, change) = apply(&s, obs, now, rules);
        s = next;
        changes.extend(change);
    }
    (s, changes)
}

/// Applies a new allowed-holders rule at once: claims by MACs no longer allowed (the holder
/// included) move to the unauthorized claims. Returns the holder change it causes, if any.
pub fn restrict(
    state: &BindingState,
    may_hold: impl Fn(Mac) -> bool,
    now: u64,
    rules: &BindingRules,
) -> (BindingState, Option<Change>) {
    let mut s = state.clone();
    // hosts allowed now are no longer unauthorized
    s.unauthorized.retain(|u| !may_hold(u.mac));
    // hosts sharing a MAC no longer allowed are no longer holders either, nor masters
    if s.shared.is_some_and(|shared| !may_hold(shared.mac)) {
        s.shared = None;
    }
    s.masters.retain(|m| may_hold(*m));
    if s.masters.len() < 2 {
        s.masters.clear();
    }
    let (kept, dropped): (Vec<Claim>, Vec<Claim>) = s.claims.iter().partition(|c| may_hold(c.mac));
    s.claims = kept;
    for c in dropped {
        if !s.unauthorized.iter().any(|u| u.mac == c.mac) {
            s.unauthorized.push(c);
        }
    }
    if let Some(h) = s.holder.filter(|h| !may_hold(h.mac)) {
        s.holder = None;
        s.lost = Some(Claim {
            last_seen: now,
            ..h
        });
        if !s.unauthorized.iter().any(|u| u.mac == h.mac) {
            s.unauthorized.push(h);
        }
    }
    if s.holder.is_none() {
        if let [only] = s.claims[..] {
            s.holder = Some(only);
            s.lost = None;
        }
    }
    let change = holder_change(state, &s, now, rules);
    (s, change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_sharing_one_mac_are_a_conflict_until_one_answer_per_probe_comes_back() {
        const VMAC: Mac = Mac([0, 0, 0x5e, 0, 1, 51]);
        let rules = BindingRules::default();
        let (bound, change) = apply(
            &BindingState::default(),
            Observation::ProbeReply { mac: VMAC },
            1_000,
            &rules,
        );
        assert_eq!(change, Some(Change::Bound { mac: VMAC }));
        let shared = Observation::SameMacReplies {
            mac: VMAC,
            replies: 2,
        };
        let (split, change) = apply(&bound, shared, 2_000, &rules);
        assert_eq!(
            split.status(),
            Status::Conflict {
                macs: vec![VMAC, VMAC]
            }
        );
        let change = change.expect("a conflict is recorded");
        assert_eq!(
            change.describe(),
            "Conflict: 2 hosts answer with 00:00:5e:00:01:33"
        );
        // a reply and a gratuitous ARP from the shared MAC do not end it
        let (still, change) = apply(&split, Observation::Announce { mac: VMAC }, 3_000, &rules);
        assert_eq!((still.status(), change), (split.status(), None));
        // the durable part carries it (it is written to disk and survives a restart)
        assert_eq!(still.durable().shared, still.shared);
        let one = Observation::SameMacReplies {
            mac: VMAC,
            replies: 1,
        };
        let (healed, change) = apply(&still, one, 4_000, &rules);
        assert_eq!(change, Some(Change::Resolved { mac: VMAC }));
        assert!(matches!(healed.status(), Status::Bound { mac, .. } if mac == VMAC));
        // a split that ends with nobody answering is a loss, and forgets the sharing
        let mut gone = split;
        for t in 0..3 {
            gone = apply(&gone, Observation::ProbeMiss, 5_000 + t, &rules).0;
        }
        assert_eq!((gone.status(), gone.shared), (Status::Unbound, None));
    }

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
    fn a_preempted_master_answering_one_probe_during_the_handover_is_not_a_conflict() {
        // B holds; A comes back with the higher priority and announces; B answers a probe sent
        // just before it dropped the address, and is gone from the next round
        let (s, ch) = run(&[
            (0, ProbeReply { mac: B }),
            (1000, Announce { mac: A }),
            (1004, ProbeReply { mac: B }),
            (1005, ProbeReply { mac: A }),
            (2000, ProbeReply { mac: A }),
        ]);
        assert_eq!(
            s.status(),
            Status::Bound {
                mac: A,
                since: 1000
            }
        );
        assert_eq!(
            ch,
            vec![
                (0, Change::Bound { mac: B }),
                (1000, Change::Failover { from: B, to: A })
            ]
        );
        // but a superseded holder still answering on the next round is a second holder
        let (s, ch) = run(&[
            (0, ProbeReply { mac: B }),
            (1000, Announce { mac: A }),
            (1004, ProbeReply { mac: B }),
            (2000, ProbeReply { mac: A }),
            (2001, ProbeReply { mac: B }),
        ]);
        assert_eq!(s.status(), Status::Conflict { macs: vec![A, B] });
        assert_eq!(
            ch.last().unwrap(),
            &(2001, Change::Conflict { macs: vec![A, B] })
        );
        // the grace is for the holder taken over only: a third host answering is a conflict at once
        let (_, ch) = run(&[
            (0, ProbeReply { mac: B }),
            (1000, Announce { mac: A }),
            (1004, ProbeReply { mac: X }),
        ]);
        assert_eq!(
            ch.last().unwrap(),
            &(1004, Change::Conflict { macs: vec![A, X] })
        );
    }

    #[test]
    fn two_routers_advertising_as_master_are_a_conflict_until_one_stops() {
        let rules = BindingRules::default();
        let (bound, _) = run(&[(0, Announce { mac: A })]);
        // B ignores ARP (no probe answer), yet advertises as master beside A
        let (split, ch) = advertised(&bound, &[A, B], |_| true, 3_000, &rules);
        assert_eq!(split.status(), Status::Conflict { macs: vec![A, B] });
        assert_eq!(ch, Some(Change::Conflict { macs: vec![A, B] }));
        // the same masters again change nothing; the probe replies of A keep it a conflict
        assert_eq!(advertised(&split, &[B, A], |_| true, 4_000, &rules).1, None);
        let (still, ch) = apply(&split, ProbeReply { mac: A }, 4_500, &rules);
        assert_eq!((still.status(), ch), (split.status(), None));
        // B stops advertising: A alone is master, the conflict resolves to the holder
        let (one, ch) = advertised(&still, &[A], |_| true, 6_000, &rules);
        assert_eq!(one.status(), Status::Bound { mac: A, since: 0 });
        assert_eq!(ch, Some(Change::Resolved { mac: A }));
        // behind a virtual MAC both masters send with it: "2 hosts answer with" it
        let (vmac, ch) = advertised(&bound, &[A, A], |_| true, 3_000, &rules);
        assert_eq!(vmac.status(), Status::Conflict { macs: vec![A, A] });
        assert_eq!(
            ch.unwrap().describe(),
            format!("Conflict: 2 hosts answer with {A}")
        );
        // a master outside the allowed holders makes no conflict, also when the rule comes after
        assert_eq!(
            advertised(&bound, &[A, X], |m| m != X, 3_000, &rules).1,
            None
        );
        let (with_x, _) = advertised(&bound, &[A, X], |_| true, 3_000, &rules);
        let (restricted, change) = restrict(&with_x, |m| m != X, 3_500, &rules);
        assert_eq!(restricted.status(), Status::Bound { mac: A, since: 0 });
        assert_eq!(change, Some(Change::Resolved { mac: A }));
        // nobody answering any more: lost, whatever the adverts said last
        let mut lost = split;
        for t in [7_000, 8_000, 9_000] {
            lost = apply(&lost, ProbeMiss, t, &rules).0;
        }
        assert_eq!(lost.status(), Status::Unbound);
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

    const X: Mac = Mac([2, 0, 0, 0x16, 0x16, 9]);

    /// Like `run`, with only A and B allowed to hold the address.
    fn run_guarded(script: &[(u64, Observation)]) -> (BindingState, Vec<(u64, Change)>) {
        let rules = BindingRules::default();
        let mut s = BindingState::default();
        let mut changes = vec![];
        for &(t, obs) in script {
            let (next, ch) = apply_guarded(&s, obs, |m| m == A || m == B, t, &rules);
            s = next;
            changes.extend(ch.into_iter().map(|c| (t, c)));
        }
        (s, changes)
    }

    #[test]
    fn an_announcement_outside_the_allowed_holders_does_not_take_the_address() {
        let (s, ch) = run_guarded(&[
            (0, Announce { mac: A }),
            (500, Announce { mac: X }),
            (1000, ProbeReply { mac: A }),
            (1000, ProbeReply { mac: X }),
            (2000, ProbeReply { mac: X }),
            (2000, ProbeReply { mac: A }),
        ]);
        assert_eq!(s.status(), Status::Bound { mac: A, since: 0 });
        assert_eq!(s.unauthorized.len(), 1);
        assert_eq!(s.unauthorized[0].mac, X);
        assert_eq!(
            ch,
            vec![
                (0, Change::Bound { mac: A }),
                (500, Change::Unauthorized { mac: X })
            ],
            "reported once while fresh, never a conflict"
        );
    }

    #[test]
    fn an_allowed_holder_that_dies_is_lost_even_if_an_outsider_answers() {
        let (s, ch) = run_guarded(&[
            (0, Announce { mac: A }),
            (3650, Announce { mac: X }),
            (4000, ProbeReply { mac: X }),
            (5000, ProbeReply { mac: X }),
            (6000, ProbeReply { mac: X }),
        ]);
        assert_eq!(s.status(), Status::Unbound);
        assert_eq!(
            ch,
            vec![
                (0, Change::Bound { mac: A }),
                (3650, Change::Unauthorized { mac: X }),
                (6000, Change::Lost { mac: A })
            ]
        );
        // an allowed backup taking over afterwards is a failover, as without the rule
        let rules = BindingRules::default();
        let (s, ch) = apply_guarded(&s, Announce { mac: B }, |m| m != X, 6500, &rules);
        assert_eq!(ch, vec![Change::Failover { from: A, to: B }]);
        assert_eq!(s.unauthorized.len(), 1, "X is still fresh");
    }

    #[test]
    fn an_unauthorized_claim_expires_and_is_reported_again_when_it_returns() {
        let rules = BindingRules::default();
        let late = 1000 + rules.unauthorized_window_ms + 1;
        let (s, ch) = run_guarded(&[
            (0, Announce { mac: A }),
            (1000, Announce { mac: X }),
            (late, ProbeReply { mac: A }),
        ]);
        assert!(s.unauthorized.is_empty());
        let (_, again) = apply_guarded(&s, Announce { mac: X }, |m| m == A, late + 1, &rules);
        assert_eq!(again, vec![Change::Unauthorized { mac: X }]);
        assert_eq!(ch.len(), 2);
    }

    #[test]
    fn restricting_the_holders_moves_a_disallowed_holder_out() {
        let rules = BindingRules::default();
        let (s, _) = run(&[(0, Announce { mac: A }), (100, ProbeReply { mac: A })]);
        let (r, change) = restrict(&s, |m| m == B, 200, &rules);
        assert_eq!(r.status(), Status::Unbound);
        assert_eq!(change, Some(Change::Lost { mac: A }));
        assert_eq!(r.unauthorized[0].mac, A);
        // allowing it changes nothing
        let (same, none) = restrict(&s, |m| m == A, 200, &rules);
        assert_eq!((same, none), (s.clone(), None));
        // allowing it again clears its unauthorized claim at once
        let (back, _) = restrict(&r, |m| m == A || m == B, 300, &rules);
        assert!(back.unauthorized.is_empty());
        // a conflict between an allowed and a disallowed MAC resolves to the allowed one
        let (c, _) = run(&[(0, Announce { mac: A }), (10, ProbeReply { mac: B })]);
        let (r, change) = restrict(&c, |m| m == B, 20, &rules);
        assert_eq!(r.status().label(), "Bound with CVM");
        assert_eq!(change, Some(Change::Resolved { mac: B }));
    }

    #[test]
    fn describe_names_macs() {
        let c = Change::Failover { from: A, to: B };
        assert_eq!(c.describe(), format!("Failover {A} → {B}"));
        let named = c.describe_with(|m| {
            if m == A {
                "web-1".into()
            } else {
                m.to_string()
            }
        });
        assert_eq!(named, format!("Failover web-1 → {B}"));
    }

    #[test]
    fn the_pages_words_are_the_apis_in_english() {
        let bound = Status::Bound { mac: A, since: 0 };
        let conflict = Status::Conflict { macs: vec![A, B] };
        for status in [Status::Unbound, bound, conflict] {
            assert_eq!(status.word().text(crate::i18n::Lang::En), status.label());
        }
        let changes = [
            Change::Bound { mac: A },
            Change::Failover { from: A, to: B },
            Change::Conflict { macs: vec![A, B] },
            Change::Conflict { macs: vec![A, A] },
            Change::Resolved { mac: A },
            Change::Lost { mac: A },
            Change::Unauthorized { mac: B },
        ];
        for change in changes {
            let name = |m: Mac| format!("<{m}>");
            assert_eq!(
                change.text_with(name).to_string(),
                change.describe_with(name)
            );
        }
    }

    #[test]
    fn state_round_trips_through_json() {
        let (s, _) = run(&[(0, Announce { mac: A }), (10, ProbeReply { mac: B })]);
        let back: BindingState = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
