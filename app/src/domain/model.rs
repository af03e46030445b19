//! Records stored by the server and shown by the console.

use super::binding::{BindingState, Change, Status};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub region_id: String,
    pub name: String,
    pub cidr: Ipv4Net,
    pub created: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    pub cidr: Ipv4Net,
    pub created: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Havip {
    pub id: String,
    pub name: String,
    pub region_id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub ip: Ipv4Addr,
    /// unix milliseconds
    pub created: u64,
    #[serde(default)]
    pub binding: BindingState,
    #[serde(default)]
    pub eip: Option<Ipv4Addr>,
    /// ENI ids allowed to hold this HAVIP ("drift range"); empty: any host may.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

/// A registered instance (CVM) and its primary ENI: the MAC it announces from and its own
/// primary IP, which HAVIPs cannot take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub eni_id: String,
    pub name: String,
    pub region_id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub mac: super::mac::Mac,
    pub ip: Ipv4Addr,
    pub created: u64,
}

impl Instance {
    /// How holders are shown: `name (mac)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.mac)
    }
}

/// A holder change of one HAVIP, as stored in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub havip_id: String,
    pub at: u64,
    pub change: Change,
    pub cause: String,
    pub agent: String,
}

/// An agent allowed to report ARP observations for some subnets. Its token is stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub subnet_ids: Vec<String>,
    pub created: u64,
    pub revoked: bool,
    /// hex SHA-256 of the token (never sent to browsers)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_sha256: String,
}

/// A host an agent saw on the wire (arpwatch's "new station").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    pub subnet_id: String,
    pub ip: Ipv4Addr,
    pub mac: super::mac::Mac,
    pub first_seen: u64,
    pub last_seen: u64,
    pub agent: String,
}

/// A public address from the operator's pool, bound to at most one HAVIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eip {
    pub id: String,
    pub ip: Ipv4Addr,
    pub havip_id: Option<String>,
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
    pub region_id: String,
    pub name: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub ip: IpChoice,
}

/// One row of the HAVIP list, joined with its VPC and subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HavipRow {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub vpc_id: String,
    pub vpc_name: String,
    pub subnet_id: String,
    pub subnet_name: String,
    pub subnet_cidr: Ipv4Net,
    pub ip: Ipv4Addr,
    /// What the "Bound instance" column shows: `name (mac)` of registered instances, else the
    /// MAC(s).
    pub bound_instance: String,
    /// Claims by hosts outside the allowed holders, shown like `bound_instance`.
    pub unauthorized: Vec<String>,
    /// A connected agent reports for its subnet: the status is current, not the last known.
    pub watched: bool,
    pub eip: Option<Ipv4Addr>,
    pub created: u64,
}

/// A subnet as the apply dialog and the network page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetView {
    pub subnet: Subnet,
    pub free: u32,
    pub usable: u32,
}

/// The detail page of one HAVIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HavipDetailData {
    pub row: HavipRow,
    pub region_id: String,
    pub binding: BindingState,
    /// the agent that reported the latest holder change
    pub last_agent: Option<String>,
    pub history: Vec<HistoryEvent>,
    pub history_total: u32,
    pub history_page: u32,
    /// the registered instances of the HAVIP's subnet (holder names, allowed holders, HA hosts)
    pub instances: Vec<Instance>,
    /// ENI ids allowed to hold it; empty: any
    pub allowed: Vec<String>,
}

impl HavipDetailData {
    /// A MAC as the page shows it: the registered instance's `name (mac)`, else the MAC.
    pub fn mac_label(&self, mac: super::mac::Mac) -> String {
        self.instances
            .iter()
            .find(|i| i.mac == mac)
            .map_or_else(|| mac.to_string(), Instance::label)
    }
}

pub const HISTORY_PAGE: u32 = 50;

/// Everything the HAVIP list page needs for one region, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HavipListData {
    pub regions: Vec<Region>,
    pub region_id: String,
    /// the requested page of the matching rows
    pub rows: Vec<HavipRow>,
    pub matching: u32,
    pub page: u32,
    pub counters: super::listing::Counters,
    pub networks: Vec<VpcView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcView {
    pub vpc: Vpc,
    pub subnets: Vec<SubnetView>,
    pub havips: u32,
    pub quota: u32,
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
