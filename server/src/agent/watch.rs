//! What the agent makes of the frames it sees, round by round (no sockets: unit-tested).
//!
//! Each probe interval is a round: probes go out for every watched address; every frame whose
//! sender is a watched address is reported at once (gratuitous ARP as `Announce`, anything else
//! as `ProbeReply`, once per MAC per round); at the end of the round, each watched address that
//! nobody claimed is reported as `ProbeMiss`.
//!
//! Every sender is also reported as a `Station` when it is new, changed its MAC, or was last
//! reported more than `station_refresh` ago, so the console can keep `last_seen` current and
//! expire hosts that left.
//!
//! Hosts behind one virtual MAC (keepalived's `use_vmac`) look like one host. What tells them
//! apart is the number of answers to our own probe (ARP replies addressed to our MAC) in one
//! round: more than one answer from the same MAC on `SHARED_ROUNDS` rounds in a row (so a frame
//! duplicated on the wire once is not enough) is reported as `SameMacReplies`, and so is the
//! first round with one answer again.

use super::arp::{Arp, Op};
use crate::agent::protocol::{AgentMessage, Holder};
use app::domain::binding::Observation;
use app::domain::mac::Mac;
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Stations remembered for "new station" reports; beyond this, the oldest knowledge is dropped.
const MAX_STATIONS: usize = 65_536;
/// A station seen again is reported again once its last report is this old.
pub const STATION_REFRESH: Duration = Duration::from_secs(5 * 60);
/// Rounds in a row with several answers from one MAC before they are reported.
pub const SHARED_ROUNDS: u8 = 2;

pub struct Watcher {
    our_mac: Option<Mac>,
    /// watched address -> MACs that claimed it this round
    round: BTreeMap<Ipv4Addr, Vec<Mac>>,
    /// the previous round's claims (for snapshots)
    last: BTreeMap<Ipv4Addr, Vec<Mac>>,
    /// watched address -> answers to our probe this round, by MAC
    answers: HashMap<Ipv4Addr, HashMap<Mac, u8>>,
    /// watched address -> the MAC that answered several times, the fewest answers in a round,
    /// and for how many rounds in a row
    several: HashMap<Ipv4Addr, (Mac, u8, u8)>,
    /// watched address -> the shared MAC reported (until one answer per probe comes back)
    shared: HashMap<Ipv4Addr, Mac>,
    /// station -> its MAC and when it was last reported
    stations: HashMap<Ipv4Addr, (Mac, Instant)>,
    pub station_refresh: Duration,
    pub malformed: u64,
}

impl Watcher {
    pub fn new(our_mac: Mac) -> Self {
        Watcher {
            our_mac: Some(our_mac),
            round: BTreeMap::new(),
            last: BTreeMap::new(),
            answers: HashMap::new(),
            several: HashMap::new(),
            shared: HashMap::new(),
            stations: HashMap::new(),
            station_refresh: STATION_REFRESH,
            malformed: 0,
        }
    }

    pub fn watched(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.round.keys().copied()
    }

    /// Replaces the watch list; claims of addresses still watched are kept.
    pub fn set_watch(&mut self, ips: &[Ipv4Addr]) {
        self.round = ips
            .iter()
            .map(|ip| (*ip, self.round.remove(ip).unwrap_or_default()))
            .collect();
        self.last.retain(|ip, _| self.round.contains_key(ip));
        let watched = |ip: &Ipv4Addr| self.round.contains_key(ip);
        self.answers.retain(|ip, _| watched(ip));
        self.several.retain(|ip, _| watched(ip));
        self.shared.retain(|ip, _| watched(ip));
    }

    /// What one frame, received at `now`, tells the console.
    pub fn on_frame(&mut self, arp: &Arp, now: Instant) -> Vec<AgentMessage> {
        let mut out = Vec::new();
        if Some(arp.sender_mac) == self.our_mac || arp.sender_ip.is_unspecified() {
            return out;
        }
        let fresh = match self.stations.get(&arp.sender_ip) {
            Some((mac, reported)) => {
                *mac == arp.sender_mac
                    && now.saturating_duration_since(*reported) < self.station_refresh
            }
            None => false,
        };
        if !fresh {
            if self.stations.len() >= MAX_STATIONS && !self.stations.contains_key(&arp.sender_ip) {
                self.stations.clear();
            }
            self.stations.insert(arp.sender_ip, (arp.sender_mac, now));
            out.push(AgentMessage::Station {
                ip: arp.sender_ip,
                mac: arp.sender_mac,
            });
        }
        if let Some(claims) = self.round.get_mut(&arp.sender_ip) {
            if arp.op == Op::Reply && Some(arp.target_mac) == self.our_mac {
                let count = self.answers.entry(arp.sender_ip).or_default();
                let n = count.entry(arp.sender_mac).or_default();
                *n = n.saturating_add(1);
            }
            let seen = claims.contains(&arp.sender_mac);
            if !seen {
                claims.push(arp.sender_mac);
            }
            let observation = if arp.is_gratuitous() {
                Some(Observation::Announce {
                    mac: arp.sender_mac,
                })
            } else if !seen {
                Some(Observation::ProbeReply {
                    mac: arp.sender_mac,
                })
            } else {
                None
            };
            if let Some(observation) = observation {
                out.push(AgentMessage::Observe {
                    ip: arp.sender_ip,
                    observation,
                });
            }
        }
        out
    }

    /// Closes the round: a miss for every watched address nobody claimed, and what the round's
    /// answers per MAC say about hosts sharing one.
    pub fn end_round(&mut self) -> Vec<AgentMessage> {
        let mut misses: Vec<AgentMessage> = self
            .round
            .iter()
            .filter(|(_, macs)| macs.is_empty())
            .map(|(ip, _)| AgentMessage::Observe {
                ip: *ip,
                observation: Observation::ProbeMiss,
            })
            .collect();
        misses.extend(self.count_answers());
        self.last = self
            .round
            .iter()
            .map(|(ip, macs)| (*ip, macs.clone()))
            .collect();
        self.round.values_mut().for_each(Vec::clear);
        misses
    }

    /// `SameMacReplies` for each address whose answers per MAC changed what is known: several
    /// answers from one MAC for `SHARED_ROUNDS` rounds, or one answer again after that.
    fn count_answers(&mut self) -> Vec<AgentMessage> {
        let answers = std::mem::take(&mut self.answers);
        let mut out = Vec::new();
        for ip in self.round.keys() {
            let most = answers
                .get(ip)
                .and_then(|by_mac| by_mac.iter().max_by_key(|(_, n)| **n))
                .map(|(mac, n)| (*mac, *n));
            let report = match most {
                Some((mac, n)) if n >= 2 => {
                    let (_, fewest, rounds) = match self.several.get(ip) {
                        Some(&(seen, fewest, rounds)) if seen == mac => {
                            (mac, fewest.min(n), rounds.saturating_add(1))
                        }
                        _ => (mac, n, 1),
                    };
                    self.several.insert(*ip, (mac, fewest, rounds));
                    let new = rounds == SHARED_ROUNDS || self.shared.get(ip) != Some(&mac);
                    (rounds >= SHARED_ROUNDS && new).then(|| {
                        self.shared.insert(*ip, mac);
                        (mac, fewest)
                    })
                }
                Some((mac, _)) => {
                    self.several.remove(ip);
                    self.shared.remove(ip).map(|_| (mac, 1))
                }
                None => {
                    self.several.remove(ip);
                    self.shared.remove(ip);
                    None
                }
            };
            if let Some((mac, replies)) = report {
                out.push(AgentMessage::Observe {
                    ip: *ip,
                    observation: Observation::SameMacReplies { mac, replies },
                });
            }
        }
        out
    }

    /// Whether an address was answered several times by one MAC on fewer than
    /// `SHARED_ROUNDS` rounds in a row so far: the next round should come at once, to confirm
    /// the second host or clear it, rather than an interval later.
    pub fn awaits_confirmation(&self) -> bool {
        (self.several.iter()).any(|(ip, (mac, _, rounds))| {
            *rounds < SHARED_ROUNDS && self.shared.get(ip) != Some(mac)
        })
    }

    /// Who held each address in the latest complete round (sent after reconnecting).
    pub fn snapshot(&self) -> AgentMessage {
        let holders = self
            .last
            .iter()
            .filter(|(_, macs)| !macs.is_empty())
            .map(|(ip, macs)| Holder {
                ip: *ip,
                macs: macs.clone(),
            })
            .collect();
        AgentMessage::Snapshot { holders }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Mac = Mac([2, 0, 0, 0x16, 0x16, 5]);
    const B: Mac = Mac([2, 0, 0, 0x16, 0x16, 6]);
    const ME: Mac = Mac([2, 0, 0, 0x16, 0x16, 0x99]);
    const VIP: Ipv4Addr = Ipv4Addr::new(172, 16, 16, 12);

    fn arp(op: Op, mac: Mac, sip: Ipv4Addr, tip: Ipv4Addr) -> Arp {
        Arp {
            op,
            sender_mac: mac,
            sender_ip: sip,
            target_mac: Mac([0; 6]),
            target_ip: tip,
        }
    }

    #[test]
    fn announcements_replies_and_misses() {
        let mut w = Watcher::new(ME);
        let t = Instant::now();
        w.set_watch(&[VIP]);
        let garp = arp(Op::Request, A, VIP, VIP);
        let out = w.on_frame(&garp, t);
        assert_eq!(out[0], AgentMessage::Station { ip: VIP, mac: A });
        assert_eq!(
            out[1],
            AgentMessage::Observe {
                ip: VIP,
                observation: Observation::Announce { mac: A }
            }
        );
        // a repeated GARP is still an announcement, but no new station
        assert_eq!(
            w.on_frame(&garp, t),
            vec![AgentMessage::Observe {
                ip: VIP,
                observation: Observation::Announce { mac: A }
            }]
        );
        assert!(w.end_round().is_empty());
        assert_eq!(
            w.snapshot(),
            AgentMessage::Snapshot {
                holders: vec![Holder {
                    ip: VIP,
                    macs: vec![A]
                }]
            }
        );

        // next round: both A and B answer the probe -> two replies (split brain)
        let reply_a = arp(Op::Reply, A, VIP, Ipv4Addr::UNSPECIFIED);
        let reply_b = arp(Op::Reply, B, VIP, Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            w.on_frame(&reply_a, t),
            vec![AgentMessage::Observe {
                ip: VIP,
                observation: Observation::ProbeReply { mac: A }
            }]
        );
        assert!(
            w.on_frame(&reply_a, t).is_empty(),
            "one reply per MAC per round"
        );
        assert_eq!(w.on_frame(&reply_b, t).len(), 2, "new station + reply");
        w.end_round();
        // silent round -> a miss
        assert_eq!(
            w.end_round(),
            vec![AgentMessage::Observe {
                ip: VIP,
                observation: Observation::ProbeMiss
            }]
        );
    }

    #[test]
    fn several_answers_from_one_mac_on_consecutive_probes_are_hosts_sharing_it() {
        const VMAC: Mac = Mac([0, 0, 0x5e, 0, 1, 51]);
        let mut w = Watcher::new(ME);
        let t = Instant::now();
        w.set_watch(&[VIP]);
        let answer = Arp {
            target_mac: ME,
            ..arp(Op::Reply, VMAC, VIP, Ipv4Addr::UNSPECIFIED)
        };
        let shared = |replies| {
            vec![AgentMessage::Observe {
                ip: VIP,
                observation: Observation::SameMacReplies { mac: VMAC, replies },
            }]
        };
        let round = |w: &mut Watcher, answers: usize| {
            for _ in 0..answers {
                w.on_frame(&answer, t);
            }
            w.end_round()
        };
        // a frame duplicated on the wire once is not enough; the next round is asked for at once
        assert!(!w.awaits_confirmation());
        assert!(round(&mut w, 2).is_empty());
        assert!(w.awaits_confirmation());
        assert!(round(&mut w, 1).is_empty());
        assert!(!w.awaits_confirmation());
        // two answers to each of two probes in a row: two hosts, said once
        assert!(round(&mut w, 2).is_empty());
        assert_eq!(
            round(&mut w, 3),
            shared(2),
            "the fewest answers of the rounds"
        );
        assert!(
            !w.awaits_confirmation(),
            "confirmed: rounds at their interval again"
        );
        assert!(round(&mut w, 2).is_empty());
        assert!(!w.awaits_confirmation());
        // one answer again: said once
        assert_eq!(round(&mut w, 1), shared(1));
        assert!(round(&mut w, 1).is_empty());
        // replies addressed to another host (not answers to our probe) are not counted
        let theirs = arp(Op::Reply, VMAC, VIP, Ipv4Addr::UNSPECIFIED);
        for _ in 0..2 {
            w.on_frame(&theirs, t);
            w.on_frame(&theirs, t);
            assert!(w.end_round().is_empty());
        }
    }

    #[test]
    fn ignores_our_own_frames_probes_and_unwatched_addresses() {
        let mut w = Watcher::new(ME);
        let t = Instant::now();
        w.set_watch(&[VIP]);
        assert!(w.on_frame(&arp(Op::Request, ME, VIP, VIP), t).is_empty());
        assert!(
            w.on_frame(&arp(Op::Request, A, Ipv4Addr::UNSPECIFIED, VIP), t)
                .is_empty(),
            "someone else's probe"
        );
        let other = Ipv4Addr::new(172, 16, 16, 5);
        assert_eq!(
            w.on_frame(
                &arp(Op::Request, A, other, Ipv4Addr::new(172, 16, 16, 6)),
                t
            ),
            vec![AgentMessage::Station { ip: other, mac: A }]
        );
    }

    #[test]
    fn watch_list_updates_keep_current_claims() {
        let mut w = Watcher::new(ME);
        let t = Instant::now();
        w.set_watch(&[VIP]);
        w.on_frame(&arp(Op::Reply, A, VIP, Ipv4Addr::UNSPECIFIED), t);
        let other = Ipv4Addr::new(172, 16, 16, 13);
        w.set_watch(&[VIP, other]);
        assert_eq!(w.watched().collect::<Vec<_>>(), vec![VIP, other]);
        assert_eq!(
            w.end_round(),
            vec![AgentMessage::Observe {
                ip: other,
                observation: Observation::ProbeMiss
            }]
        );
        w.set_watch(&[]);
        assert!(w.end_round().is_empty());
    }

    #[test]
    fn stations_are_reported_again_after_the_refresh_interval() {
        let mut w = Watcher::new(ME);
        w.station_refresh = Duration::from_secs(60);
        let host = Ipv4Addr::new(172, 16, 16, 5);
        let frame = |mac| arp(Op::Request, mac, host, Ipv4Addr::new(172, 16, 16, 6));
        let station = |mac| vec![AgentMessage::Station { ip: host, mac }];
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);
        assert_eq!(w.on_frame(&frame(A), t0), station(A), "new");
        assert!(
            w.on_frame(&frame(A), at(59)).is_empty(),
            "reported a minute ago"
        );
        assert_eq!(w.on_frame(&frame(A), at(60)), station(A), "still there");
        assert!(w.on_frame(&frame(A), at(61)).is_empty());
        assert_eq!(
            w.on_frame(&frame(B), at(62)),
            station(B),
            "a new MAC at once"
        );
        assert!(w.on_frame(&frame(B), at(121)).is_empty());
        assert_eq!(w.on_frame(&frame(B), at(122)), station(B));
        // a clock that appears to go back never suppresses a report forever
        assert!(w.on_frame(&frame(B), t0).is_empty());
        assert_eq!(w.on_frame(&frame(B), at(182)), station(B));
        assert_eq!(STATION_REFRESH, Duration::from_secs(300));
    }
}
