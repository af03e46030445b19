//! What each page loads, in one place: the shapes the server functions answer with and the
//! pages render. Rows are built here too, so the list, the detail page and the JSON API show an
//! HAVIP the same way.

use super::binding::{shared_mac, BindingState, Status};
use super::ids::{EniId, HavipId, RegionId, SubnetId, VpcId};
use super::listing::Counters;
use super::mac::Mac;
use super::model::{Agent, Eip, Havip, HistoryEvent, Instance, MacNames};
use super::model::{Region, Station, Subnet, Vpc};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// One row of the HAVIP list, joined with its VPC and subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HavipRow {
    pub id: HavipId,
    pub name: String,
    pub status: Status,
    pub vpc_id: VpcId,
    pub vpc_name: String,
    pub subnet_id: SubnetId,
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

impl HavipRow {
    /// The one row builder: an HAVIP with its VPC and subnet, holders named by `names`.
    pub fn new(h: &Havip, vpc: &Vpc, subnet: &Subnet, names: &MacNames, watched: bool) -> Self {
        let status = h.binding.status();
        let bound_instance = match &status {
            Status::Unbound => String::new(),
            Status::Bound { mac, .. } => names.label(*mac),
            Status::Conflict { macs } => match shared_mac(macs) {
                Some(mac) => format!("{} hosts as {}", macs.len(), names.label(mac)),
                None => names.labels(macs.iter().copied()),
            },
        };
        HavipRow {
            id: h.id.clone(),
            name: h.name.clone(),
            vpc_id: vpc.id.clone(),
            vpc_name: vpc.name.clone(),
            subnet_id: subnet.id.clone(),
            subnet_name: subnet.name.clone(),
            subnet_cidr: subnet.cidr,
            ip: h.ip,
            bound_instance,
            unauthorized: h
                .binding
                .unauthorized
                .iter()
                .map(|c| names.label(c.mac))
                .collect(),
            watched,
            eip: h.eip,
            created: h.created,
            status,
        }
    }
}

/// The VRRP routers heard for an HAVIP, as its detail page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpView {
    pub vrid: u8,
    pub routers: Vec<RouterView>,
    /// two or more say they are master
    pub split_brain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterView {
    pub ip: Ipv4Addr,
    /// the MAC its adverts come from, named by instance when registered
    pub sender: String,
    pub priority: u8,
    /// it keeps advertising: it says it is master
    pub master: bool,
    pub last_heard: u64,
}

impl VrrpView {
    pub fn new(routers: &super::vrrp::Routers, names: &MacNames, now: u64) -> VrrpView {
        VrrpView {
            vrid: routers.vrid,
            routers: routers
                .routers
                .iter()
                .map(|r| RouterView {
                    ip: r.ip,
                    sender: names.label(r.mac),
                    priority: r.priority,
                    master: r.is_master(now),
                    last_heard: r.heard.first().copied().unwrap_or_default(),
                })
                .collect(),
            split_brain: routers.split_brain(now),
        }
    }
}

/// A subnet as the apply dialog and the network page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetView {
    pub subnet: Subnet,
    pub free: u32,
    pub usable: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcView {
    pub vpc: Vpc,
    pub subnets: Vec<SubnetView>,
    pub havips: u32,
    pub quota: u32,
}

/// Everything the HAVIP list page needs for one region, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HavipListData {
    pub regions: Vec<Region>,
    pub region_id: RegionId,
    /// the requested page of the matching rows
    pub rows: Vec<HavipRow>,
    pub matching: u32,
    pub page: u32,
    pub counters: Counters,
    pub networks: Vec<VpcView>,
    /// the last 24 hours of each row, in the rows' order
    #[serde(default)]
    pub sparks: Vec<crate::domain::timeline::Timeline>,
}

/// The detail page of one HAVIP (its history is loaded page by page, see `HistoryPage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HavipDetailData {
    pub row: HavipRow,
    pub region_id: RegionId,
    pub binding: BindingState,
    /// the agent that reported the latest holder change
    pub last_agent: Option<String>,
    /// the registered instances of the HAVIP's subnet (holder names, allowed holders, HA hosts)
    pub instances: Vec<Instance>,
    /// ENI ids allowed to hold it; empty: any
    pub allowed: Vec<EniId>,
    /// the last 24 hours and the last 7 days
    pub timelines: Vec<crate::domain::timeline::Timeline>,
    /// the VRRP routers heard advertising it (`None`: no advert heard, e.g. sent by unicast)
    #[serde(default)]
    pub vrrp: Option<VrrpView>,
    /// a fresh keepalived PASS password the HA configuration proposes
    /// (`haconfig::random_auth_pass`)
    pub auth_pass: String,
}

impl HavipDetailData {
    pub fn names(&self) -> MacNames {
        MacNames::new(self.instances.iter().cloned())
    }
}

pub const HISTORY_PAGE: u32 = 50;

/// One page of an HAVIP's history, newest first, with holders named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// each event with the sentence the timeline shows (in English)
    pub events: Vec<(HistoryEvent, String)>,
    /// how the events name each MAC (its instance's name): the page says the sentence in its
    /// reader's language (`Change::text_with`)
    #[serde(default)]
    pub labels: Vec<(crate::domain::mac::Mac, String)>,
    pub total: u32,
    pub page: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkData {
    pub regions: Vec<Region>,
    pub region_id: RegionId,
    pub vpcs: Vec<VpcView>,
}

/// The Instances page of one region: registered instances and discovered stations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstancesData {
    pub regions: Vec<Region>,
    pub region_id: RegionId,
    pub networks: Vec<VpcView>,
    pub instances: Vec<Instance>,
    pub discovered: Vec<Station>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EipRow {
    pub eip: Eip,
    /// name of the bound HAVIP
    pub havip_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EipsData {
    pub pool: String,
    pub eips: Vec<EipRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetChoice {
    pub id: SubnetId,
    pub label: String,
}

/// An agent and whether it is connected now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRow {
    pub agent: Agent,
    pub connected: bool,
    /// since when connected, or when last disconnected; None: not seen since the console started
    pub since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentsData {
    pub agents: Vec<AgentRow>,
    pub subnets: Vec<SubnetChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAgent {
    pub agent: Agent,
    /// shown once; only its hash is stored
    pub token: String,
}

/// The "Holder instance" line of the detail page.
pub fn holder_instance(names: &MacNames, status: &Status) -> String {
    match status {
        Status::Bound { mac, .. } => names.instance(*mac).map_or_else(
            || "Not a registered instance".to_string(),
            |i| format!("{} ({}, {})", i.name, i.id, i.eni_id),
        ),
        _ => "-".to_string(),
    }
}

/// A MAC list as the "Holder MAC" line shows it.
pub fn macs_text(status: &Status) -> String {
    match status {
        Status::Unbound => "-".to_string(),
        Status::Bound { mac, .. } => mac.to_string(),
        Status::Conflict { macs } => match shared_mac(macs) {
            Some(mac) => format!("{} hosts answer with {mac}", macs.len()),
            None => macs
                .iter()
                .map(Mac::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        },
    }
}

/// What the "Holder MAC" line adds when the holder answers with VRRP's virtual MAC
/// (keepalived's `use_vmac`): every host behind it answers with the same MAC, so a second one
/// shows only as more than one answer to each probe.
pub fn virtual_mac_note(status: &Status) -> Option<String> {
    let mac = match status {
        Status::Bound { mac, .. } => *mac,
        Status::Conflict { macs } => shared_mac(macs)?,
        Status::Unbound => return None,
    };
    let vrid = mac.vrrp_vrid()?;
    Some(format!("virtual MAC in use (VRRP VRID {vrid})"))
}

/// A user as the Users page shows it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub name: String,
    pub role: super::auth::Role,
    pub disabled: bool,
    pub created: u64,
    /// sessions open now
    pub sessions: u32,
    /// the identity provider (its issuer) of a user made by single sign-on; None for a local
    /// user, who logs in with a password
    #[serde(default)]
    pub sso_issuer: Option<String>,
}

impl UserRow {
    /// Where the user comes from, as the Users page says it.
    pub fn source(&self) -> String {
        match &self.sso_issuer {
            Some(issuer) => format!("Single sign-on ({issuer})"),
            None => "Local".to_string(),
        }
    }
}

/// An API key as its owner sees it in the list (the SecretKey is shown only when created).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiKeyRow {
    /// the SecretId, `AKID…`
    pub id: String,
    pub user: String,
    pub created: u64,
    /// unix ms of the last signed request, 0 if never used
    pub last_used: u64,
    pub disabled: bool,
}

/// A key just created: the only time its SecretKey leaves the console.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyRow,
    pub secret_key: String,
}
