//! `havip check`: the indexes and counters agree exactly with the records. Read-only; every
//! mismatch is one line of the report.

use super::{be_u32, db_err, decode, ip_key, Store};
use crate::domain::error::ApiError;
use crate::domain::model::{Agent, Eip, Havip, Instance, Subnet};
use std::collections::{BTreeMap, HashMap};

impl Store {
    /// Every disagreement between the records and their indexes; empty when consistent.
    pub fn check(&self) -> Result<Vec<String>, ApiError> {
        let inner = &self.inner;
        let mut problems = vec![];
        let havips: Vec<Havip> = self.all(&inner.havips)?;
        let instances: Vec<Instance> = self.all(&inner.enis)?;
        let subnets: HashMap<_, Subnet> = self
            .all::<Subnet>(&inner.subnets)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();

        // the IP index: exactly one key per HAVIP and per instance, naming its owner
        let mut expected: BTreeMap<Vec<u8>, String> = BTreeMap::new();
        let mut claim = |key: Vec<u8>, owner: String, what: String, problems: &mut Vec<String>| {
            if let Some(other) = expected.insert(key, owner.clone()) {
                problems.push(format!("{what}: its address is also used by {other}"));
            }
        };
        for h in &havips {
            if !subnets.contains_key(&h.subnet_id) {
                problems.push(format!(
                    "HAVIP {}: its subnet {} does not exist",
                    h.id, h.subnet_id
                ));
            } else if !subnets[&h.subnet_id].cidr.contains(&h.ip) {
                problems.push(format!("HAVIP {}: {} is outside its subnet", h.id, h.ip));
            }
            claim(
                ip_key(&h.subnet_id, h.ip),
                h.id.to_string(),
                format!("HAVIP {} ({})", h.id, h.ip),
                &mut problems,
            );
        }
        for i in &instances {
            claim(
                ip_key(&i.subnet_id, i.ip),
                i.eni_id.to_string(),
                format!("instance {} ({})", i.eni_id, i.ip),
                &mut problems,
            );
        }
        let mut indexed: BTreeMap<Vec<u8>, String> = BTreeMap::new();
        for entry in inner.ip_index.iter() {
            let (k, v) = entry.map_err(db_err)?;
            indexed.insert(k.to_vec(), String::from_utf8_lossy(&v).into_owned());
        }
        for (key, owner) in &expected {
            match indexed.get(key) {
                None => problems.push(format!(
                    "IP index: {owner}'s address {} is missing",
                    super::ip_of_key(key)
                )),
                Some(o) if o != owner => problems.push(format!(
                    "IP index: {} names {o}, the records say {owner}",
                    super::ip_of_key(key)
                )),
                Some(_) => {}
            }
        }
        for (key, owner) in &indexed {
            if !expected.contains_key(key) {
                problems.push(format!(
                    "IP index: {} names {owner}, which has no such address",
                    super::ip_of_key(key)
                ));
            }
        }

        // the per-VPC HAVIP counters
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for h in &havips {
            *counts.entry(h.vpc_id.to_string()).or_default() += 1;
        }
        for entry in inner.havip_counts.iter() {
            let (k, v) = entry.map_err(db_err)?;
            let vpc = String::from_utf8_lossy(&k).into_owned();
            let stored = be_u32(&v);
            let real = counts.remove(&vpc).unwrap_or(0);
            if stored != real {
                problems.push(format!(
                    "VPC {vpc}: the HAVIP counter says {stored}, there are {real}"
                ));
            }
        }
        for (vpc, real) in counts {
            problems.push(format!("VPC {vpc}: no HAVIP counter, there are {real}"));
        }

        // the MAC index: one entry per instance
        let mut macs = 0;
        for entry in inner.mac_index.iter() {
            let (k, v) = entry.map_err(db_err)?;
            macs += 1;
            let eni = String::from_utf8_lossy(&v).into_owned();
            match instances.iter().find(|i| i.eni_id == eni) {
                Some(i) if i.mac.0[..] == k[..] => {}
                Some(i) => problems.push(format!(
                    "MAC index: {eni} is listed under another MAC than its {}",
                    i.mac
                )),
                None => problems.push(format!("MAC index: names {eni}, which does not exist")),
            }
        }
        if macs != instances.len() {
            problems.push(format!(
                "MAC index: {macs} entries for {} instances",
                instances.len()
            ));
        }

        // EIPs: the public address index, and bindings named on both sides
        let eips: Vec<Eip> = self.all(&inner.eips)?;
        if inner.eip_index.len() != eips.len() {
            problems.push(format!(
                "EIP index: {} entries for {} EIPs",
                inner.eip_index.len(),
                eips.len()
            ));
        }
        for e in &eips {
            let key = u32::from(e.ip).to_be_bytes();
            if inner.eip_index.get(key).map_err(db_err)?.as_deref() != Some(e.id.as_bytes()) {
                problems.push(format!("EIP index: {} does not name {}", e.ip, e.id));
            }
            if let Some(h) = &e.havip_id {
                if !havips.iter().any(|x| x.id == *h && x.eip == Some(e.ip)) {
                    problems.push(format!(
                        "EIP {} is bound to {h}, which does not name it",
                        e.ip
                    ));
                }
            }
        }
        for h in havips.iter().filter(|h| h.eip.is_some()) {
            let ip = h.eip.expect("filtered");
            if !eips
                .iter()
                .any(|e| e.ip == ip && e.havip_id.as_ref() == Some(&h.id))
            {
                problems.push(format!(
                    "HAVIP {} names EIP {ip}, which is not bound to it",
                    h.id
                ));
            }
        }

        // agent tokens: one digest per agent that is not revoked
        let agents: Vec<Agent> = self.all(&inner.agents)?;
        let live = agents.iter().filter(|a| !a.revoked).count();
        if inner.agent_tokens.len() != live {
            problems.push(format!(
                "agent tokens: {} entries for {live} agents",
                inner.agent_tokens.len()
            ));
        }
        for entry in inner.agent_tokens.iter() {
            let (k, v) = entry.map_err(db_err)?;
            let id = String::from_utf8_lossy(&v).into_owned();
            if !agents
                .iter()
                .any(|a| a.id == id && !a.revoked && a.token_sha256.as_bytes() == &k[..])
            {
                problems.push(format!(
                    "agent tokens: a digest names {id}, which is not that agent's"
                ));
            }
        }
        // every record decodes
        for (name, tree) in [
            ("audit", &inner.audit),
            ("users", &inner.users),
            ("sessions", &inner.sessions),
        ] {
            for value in tree.iter().values() {
                if let Err(e) = decode::<serde_json::Value>(&value.map_err(db_err)?) {
                    problems.push(format!("{name}: a record does not decode ({e})"));
                }
            }
        }
        Ok(problems)
    }
}
