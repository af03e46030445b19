//! Records stored by the server and shown by the console.

use super::binding::{BindingState, Change};
use super::ids::{AgentId, EipId, EniId, HavipId, InstanceId, RegionId, SubnetId, VpcId};
use super::mac::Mac;
use crate::i18n::{Coded, Text};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub id: RegionId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: VpcId,
    pub region_id: RegionId,
    pub name: String,
    pub cidr: Ipv4Net,
    pub created: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: SubnetId,
    pub vpc_id: VpcId,
    pub name: String,
    pub cidr: Ipv4Net,
    pub created: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Havip {
    pub id: HavipId,
    pub name: String,
    pub region_id: RegionId,
    pub vpc_id: VpcId,
    pub subnet_id: SubnetId,
    pub ip: Ipv4Addr,
    /// unix milliseconds
    pub created: u64,
    #[serde(default)]
    pub binding: BindingState,
    #[serde(default)]
    pub eip: Option<Ipv4Addr>,
    /// ENI ids allowed to hold this HAVIP ("drift range"); empty: any host may.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<EniId>,
}

/// A registered instance (CVM) and its primary ENI: the MAC it announces from and its own
/// primary IP, which HAVIPs cannot take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: InstanceId,
    pub eni_id: EniId,
    pub name: String,
    pub region_id: RegionId,
    pub vpc_id: VpcId,
    pub subnet_id: SubnetId,
    pub mac: Mac,
    pub ip: Ipv4Addr,
    pub created: u64,
}

/// How the console names a MAC: `name (mac)` of the registered instance that has it, else the
/// MAC. The one place that decides it (list, detail page, history, JSON API).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MacNames {
    by_mac: std::collections::HashMap<Mac, Instance>,
}

impl MacNames {
    pub fn new(instances: impl IntoIterator<Item = Instance>) -> Self {
        MacNames {
            by_mac: instances.into_iter().map(|i| (i.mac, i)).collect(),
        }
    }

    pub fn instance(&self, mac: Mac) -> Option<&Instance> {
        self.by_mac.get(&mac)
    }

    pub fn label(&self, mac: Mac) -> String {
        match self.by_mac.get(&mac) {
            Some(i) => format!("{} ({mac})", i.name),
            None => mac.to_string(),
        }
    }

    /// Several MACs, comma-separated.
    pub fn labels(&self, macs: impl IntoIterator<Item = Mac>) -> String {
        macs.into_iter()
            .map(|m| self.label(m))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A holder change of one HAVIP, as stored in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub havip_id: HavipId,
    pub at: u64,
    pub change: Change,
    /// What caused it, in English (programs, alerts and the API read it).
    pub cause: String,
    /// The same by its code, for the pages to say in the reader's language; none in events
    /// recorded before causes had codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause_text: Option<Coded>,
    pub agent: String,
}

impl HistoryEvent {
    /// A change of `havip_id` at `at`, its cause kept in English and by its code.
    pub fn new(havip_id: HavipId, at: u64, change: Change, cause: &Text, agent: String) -> Self {
        HistoryEvent {
            havip_id,
            at,
            change,
            cause: cause.to_string(),
            cause_text: Coded::of(cause),
            agent,
        }
    }
}

/// An agent allowed to report ARP observations for some subnets. Its token is stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    pub subnet_ids: Vec<SubnetId>,
    pub created: u64,
    pub revoked: bool,
    /// hex SHA-256 of the token (never sent to browsers)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_sha256: String,
}

/// A host an agent saw on the wire (arpwatch's "new station").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    pub subnet_id: SubnetId,
    pub ip: Ipv4Addr,
    pub mac: Mac,
    pub first_seen: u64,
    pub last_seen: u64,
    pub agent: String,
}

/// A public address from the operator's pool, bound to at most one HAVIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eip {
    pub id: EipId,
    pub ip: Ipv4Addr,
    pub havip_id: Option<HavipId>,
    pub allocated: u64,
}

/// How the apply dialog asks for the address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IpChoice {
    Automatic,
    Manual(String),
}

/// Everything the apply dialog sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHavip {
    pub region_id: RegionId,
    pub name: String,
    pub vpc_id: VpcId,
    pub subnet_id: SubnetId,
    pub ip: IpChoice,
}

/// Formats unix milliseconds as `YYYY-MM-DD HH:MM:SS` UTC (no time-zone database needed).
pub fn format_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_795_603_692_000), "2026-11-25 10:48:12");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00:00");
    }
}
