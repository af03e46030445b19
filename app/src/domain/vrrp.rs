//! What VRRP adverts tell about an HAVIP: keepalived's master multicasts one advert per
//! interval (1 s by default) to 224.0.0.18, naming its virtual router (VRID), its priority and
//! the addresses it holds; backups stay silent. An agent on the segment hears them and reports
//! each one (`Advert`); per HAVIP the console keeps who advertises (`Routers`).
//!
//! A router that keeps advertising says it is master. Two routers doing so for one VRID at
//! the same time is a split brain, whatever the MACs. "Keeps advertising" is three adverts in a
//! row, the latest within one and a half intervals: when a master hands over (preemption, a
//! resign with priority 0), the old one's last adverts and the new one's first overlap for at
//! most an interval, which is no split brain. Adverts sent by unicast (keepalived's `unicast_peer`) never reach a third host:
//! then nothing is heard here, and the probes alone tell a split brain.

use super::mac::Mac;
use crate::i18n::Text;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// One advert as an agent heard it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advert {
    /// 2 or 3
    pub version: u8,
    pub vrid: u8,
    /// 0 (the master resigns) to 255 (the address owner)
    pub priority: u8,
    /// the advert's source address: the router
    pub router: Ipv4Addr,
    /// the frame's source MAC: the router's, or VRRP's virtual MAC with `use_vmac`
    pub mac: Mac,
    /// the advert interval, in milliseconds
    pub interval_ms: u32,
    /// the addresses the router holds for this VRID
    pub addresses: Vec<Ipv4Addr>,
}

/// A router heard for one HAVIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Router {
    pub ip: Ipv4Addr,
    pub mac: Mac,
    pub priority: u8,
    pub interval_ms: u32,
    /// when its last three adverts were heard (unix ms), latest first
    pub heard: Vec<u64>,
}

/// Adverts in a row that make a master.
const IN_A_ROW: usize = 3;

impl Router {
    /// It keeps advertising: three adverts in a row, the latest within one and a half
    /// intervals, the first within three and a half.
    pub fn is_master(&self, now: u64) -> bool {
        let interval = u64::from(self.interval_ms.max(100));
        let since = |i: usize| self.heard.get(i).map(|t| now.saturating_sub(*t));
        self.priority > 0
            && since(0).is_some_and(|s| s <= interval * 3 / 2)
            && since(IN_A_ROW - 1).is_some_and(|s| s <= interval * 7 / 2)
    }
}

/// Who advertises one HAVIP's VRID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routers {
    pub vrid: u8,
    pub routers: Vec<Router>,
    /// the masters as last told (a master falls silent between adverts: the next advert of
    /// another router tells)
    #[serde(skip)]
    told: Vec<(Ipv4Addr, u8)>,
}

/// A router not heard for this long is forgotten.
const FORGET_MS: u64 = 60_000;
/// Routers kept per HAVIP (a VRRP pair has two; an agent sending adverts from ever new
/// addresses must not grow the list): the one heard longest ago goes first.
const MAX_ROUTERS: usize = 16;

impl Routers {
    /// Takes an advert heard at `now`; returns whether the routers that say they are master
    /// changed since it last said so (a page showing them follows).
    pub fn heard(&mut self, advert: &Advert, now: u64) -> bool {
        if self.vrid != advert.vrid {
            // another virtual router took the address: start again
            *self = Routers {
                vrid: advert.vrid,
                routers: vec![],
                told: std::mem::take(&mut self.told),
            };
        }
        self.routers.retain(|r| {
            r.heard
                .first()
                .is_some_and(|t| now.saturating_sub(*t) <= FORGET_MS)
        });
        match self.routers.iter_mut().find(|r| r.ip == advert.router) {
            Some(r) => {
                r.heard.insert(0, now);
                r.heard.truncate(IN_A_ROW);
                (r.mac, r.priority, r.interval_ms) =
                    (advert.mac, advert.priority, advert.interval_ms);
            }
            None => {
                if self.routers.len() >= MAX_ROUTERS {
                    let oldest = (0..self.routers.len()).min_by_key(|&i| self.routers[i].heard[0]);
                    if let Some(i) = oldest {
                        self.routers.remove(i);
                    }
                }
                self.routers.push(Router {
                    ip: advert.router,
                    mac: advert.mac,
                    priority: advert.priority,
                    interval_ms: advert.interval_ms,
                    heard: vec![now],
                });
            }
        }
        self.routers
            .sort_by(|a, b| b.priority.cmp(&a.priority).then(a.ip.cmp(&b.ip)));
        let masters = self.masters(now);
        (masters != self.told)
            .then(|| self.told = masters)
            .is_some()
    }

    /// The routers that say they are master now, highest priority first.
    pub fn master_routers(&self, now: u64) -> impl Iterator<Item = &Router> {
        self.routers.iter().filter(move |r| r.is_master(now))
    }

    /// Their addresses and priorities.
    pub fn masters(&self, now: u64) -> Vec<(Ipv4Addr, u8)> {
        (self.master_routers(now))
            .map(|r| (r.ip, r.priority))
            .collect()
    }

    /// What the history says of them: "VRID 51: 2 routers advertise as master
    /// (172.16.16.5 priority 100, 172.16.16.6 priority 90)".
    pub fn describe_masters(&self, now: u64) -> Text {
        use crate::i18n::m::causes;
        let masters = self.masters(now);
        let text = match masters.as_slice() {
            [] => Text::new(causes::VRRP_MASTERS_NONE),
            [(ip, priority)] => Text::new(causes::VRRP_MASTERS_ONE)
                .arg("ip", ip)
                .arg("priority", priority),
            [(ip1, priority1), (ip2, priority2)] => Text::new(causes::VRRP_MASTERS_TWO)
                .arg("ip1", ip1)
                .arg("priority1", priority1)
                .arg("ip2", ip2)
                .arg("priority2", priority2),
            many => {
                let list = (many.iter())
                    .map(|(ip, priority)| format!("{ip}/{priority}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                Text::new(causes::VRRP_MASTERS_MANY)
                    .arg("count", many.len())
                    .arg("list", list)
            }
        };
        text.arg("vrid", self.vrid)
    }

    /// Two or more routers say they are master for the VRID: a split brain.
    pub fn split_brain(&self, now: u64) -> bool {
        self.masters(now).len() >= 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advert(router: [u8; 4], priority: u8) -> Advert {
        Advert {
            version: 2,
            vrid: 51,
            priority,
            router: Ipv4Addr::from(router),
            mac: Mac([0, 0, 0x5e, 0, 1, 51]),
            interval_ms: 1000,
            addresses: vec![Ipv4Addr::new(172, 16, 16, 12)],
        }
    }

    #[test]
    fn one_master_advertising_each_second_is_no_split_brain() {
        let mut r = Routers::default();
        assert!(
            !r.heard(&advert([172, 16, 16, 10], 150), 1_000),
            "one advert: not yet master"
        );
        assert!(!r.heard(&advert([172, 16, 16, 10], 150), 2_000));
        assert!(
            r.heard(&advert([172, 16, 16, 10], 150), 3_000),
            "the third makes it master"
        );
        for t in 4..30 {
            assert!(!r.heard(&advert([172, 16, 16, 10], 150), t * 1_000));
            assert!(!r.split_brain(t * 1_000));
        }
        assert_eq!(
            r.masters(30_000),
            vec![(Ipv4Addr::new(172, 16, 16, 10), 150)]
        );
    }

    #[test]
    fn the_history_s_words_for_the_masters() {
        let mut r = Routers::default();
        let said = |r: &Routers, now| r.describe_masters(now).to_string();
        assert_eq!(said(&r, 0), "VRID 0: no router advertises as master");
        for t in 0..3 {
            r.heard(&advert([172, 16, 16, 10], 150), t * 1_000);
        }
        assert_eq!(
            said(&r, 2_000),
            "VRID 51: 172.16.16.10 priority 150 alone advertises as master"
        );
        for t in 0..3 {
            r.heard(&advert([172, 16, 16, 11], 100), t * 1_000 + 300);
        }
        assert_eq!(
            said(&r, 2_300),
            "VRID 51: 2 routers advertise as master (172.16.16.10 priority 150, 172.16.16.11 priority 100)"
        );
        assert!(r
            .describe_masters(2_300)
            .in_lang(crate::i18n::Lang::ZhCn)
            .starts_with("VRID 51：2 个路由器作为主节点发送通告"));
    }

    #[test]
    fn adverts_from_ever_new_routers_keep_at_most_sixteen() {
        let mut r = Routers::default();
        for i in 0..1_000u32 {
            let ip = Ipv4Addr::from(0x0a00_0000 + i).octets();
            r.heard(&advert(ip, 100), u64::from(i));
        }
        assert_eq!(r.routers.len(), MAX_ROUTERS);
        // the latest ones stay
        assert!(r
            .routers
            .iter()
            .all(|x| u32::from(x.ip) >= 0x0a00_0000 + 1_000 - 16));
    }

    #[test]
    fn a_handover_overlaps_once_and_is_no_split_brain() {
        // the backup took over; the primary comes back with a higher priority (preemption):
        // the backup's last advert is a millisecond before the primary's first
        let mut r = Routers::default();
        for t in 0..5 {
            r.heard(&advert([172, 16, 16, 11], 100), 499 + t * 1_000);
        }
        for t in 0..5 {
            let now = 4_500 + t * 1_000;
            r.heard(&advert([172, 16, 16, 10], 150), now);
            assert!(!r.split_brain(now), "at {now}");
        }
        assert_eq!(
            r.masters(9_000),
            vec![(Ipv4Addr::new(172, 16, 16, 10), 150)]
        );
    }

    #[test]
    fn two_routers_advertising_together_are_a_split_brain_until_one_stops() {
        let mut r = Routers::default();
        let mut changed = vec![];
        for t in 0..6 {
            changed.push(r.heard(&advert([172, 16, 16, 10], 150), t * 1_000));
            changed.push(r.heard(&advert([172, 16, 16, 11], 100), t * 1_000 + 300));
        }
        assert!(r.split_brain(5_300));
        assert_eq!(r.masters(5_300).len(), 2);
        assert_eq!(
            changed.iter().filter(|c| **c).count(),
            2,
            "each became master once"
        );
        // the backup falls silent; the primary goes on: its next advert after one and a half
        // intervals tells that the backup is no master
        assert!(!r.heard(&advert([172, 16, 16, 10], 150), 6_000));
        assert!(r.heard(&advert([172, 16, 16, 10], 150), 7_000));
        assert!(!r.split_brain(7_000));
        // a resign (priority 0) is not a claim
        r.heard(&advert([172, 16, 16, 10], 0), 9_500);
        assert!(r.masters(9_500).is_empty());
    }
}
