//! Agents, their tokens, and what they report: binding observations and stations.

use super::{db_err, decode, encode, ip_key, new_id, now_ms, Store, StoreChange};
use crate::domain::binding::{apply_guarded, Change, Observation};
use crate::domain::error::ApiError;
use crate::domain::ids::Kind;
use crate::domain::mac::Mac;
use crate::domain::model::{Agent, HistoryEvent, Station};
use crate::domain::name::check_name;
use sha2::{Digest, Sha256};
use std::net::Ipv4Addr;

fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Constant-time comparison of two equal-length hex digests.
fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn event_key(havip_id: &str, at: u64, seq: u64) -> Vec<u8> {
    let mut key = havip_id.as_bytes().to_vec();
    key.extend_from_slice(&at.to_be_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

impl Store {
    /// Registers an agent for `subnet_ids`; returns it with its token, which is shown only now.
    pub async fn create_agent(
        &self,
        name: &str,
        subnet_ids: &[String],
    ) -> Result<(Agent, String), ApiError> {
        let name = check_name(name).map_err(|e| ApiError::invalid("name", e))?;
        if subnet_ids.is_empty() {
            return Err(ApiError::invalid(
                "subnets",
                "Choose at least one subnet the agent reports for.",
            ));
        }
        for id in subnet_ids {
            self.subnet(id)
                .map_err(|e| ApiError::invalid("subnets", e))?;
        }
        let token = format!(
            "hvt_{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        );
        let agent = Agent {
            id: new_id(Kind::Agent),
            name,
            subnet_ids: subnet_ids.to_vec(),
            created: now_ms(),
            revoked: false,
            token_sha256: hash_token(&token),
        };
        self.inner
            .agents
            .insert(agent.id.as_bytes(), encode(&agent))
            .map_err(db_err)?;
        self.flush().await?;
        Ok((agent, token))
    }

    pub async fn revoke_agent(&self, id: &str) -> Result<Agent, ApiError> {
        let mut agent: Agent = self
            .get(&self.inner.agents, id)?
            .ok_or_else(|| ApiError::not_found("Agent", id))?;
        agent.revoked = true;
        self.inner
            .agents
            .insert(agent.id.as_bytes(), encode(&agent))
            .map_err(db_err)?;
        self.flush().await?;
        self.publish(StoreChange::Agents);
        Ok(agent)
    }

    pub fn agents(&self) -> Result<Vec<Agent>, ApiError> {
        let mut agents: Vec<Agent> = self.all(&self.inner.agents)?;
        agents.sort_by_key(|a| a.created);
        Ok(agents)
    }

    /// The agent a token belongs to, if the token is valid and not revoked.
    pub fn agent_by_token(&self, token: &str) -> Result<Option<Agent>, ApiError> {
        let digest = hash_token(token);
        Ok(self
            .agents()?
            .into_iter()
            .find(|a| !a.revoked && same_digest(&a.token_sha256, &digest)))
    }

    pub fn agent(&self, id: &str) -> Result<Agent, ApiError> {
        self.get(&self.inner.agents, id)?
            .ok_or_else(|| ApiError::not_found("Agent", id))
    }

    /// The HAVIP addresses an agent must watch: those in its subnets.
    pub fn watch_list(&self, agent: &Agent) -> Result<Vec<Ipv4Addr>, ApiError> {
        let mut ips: Vec<Ipv4Addr> = self
            .havips()?
            .into_iter()
            .filter(|h| agent.subnet_ids.contains(&h.subnet_id))
            .map(|h| h.ip)
            .collect();
        ips.sort();
        Ok(ips)
    }

    /// Which HAVIP `ip` names for this agent: VPCs may reuse a CIDR, so only the agent's own
    /// subnets are searched.
    fn havip_for(&self, agent: &Agent, ip: Ipv4Addr) -> Result<Option<String>, ApiError> {
        for subnet_id in &agent.subnet_ids {
            let Ok(subnet) = self.subnet(subnet_id) else {
                continue;
            };
            if !subnet.cidr.contains(&ip) {
                continue;
            }
            if let Some(owner) = self
                .inner
                .ip_index
                .get(ip_key(subnet_id, ip))
                .map_err(db_err)?
            {
                let owner = String::from_utf8_lossy(&owner).into_owned();
                if owner.starts_with("havip-") {
                    return Ok(Some(owner));
                }
            }
        }
        Ok(None)
    }

    /// Feeds one observation into the HAVIP's binding state (guarded by its allowed holders);
    /// records and announces every holder change. Observations about addresses that are not
    /// this agent's HAVIPs are ignored.
    pub fn observe(
        &self,
        agent: &Agent,
        ip: Ipv4Addr,
        obs: Observation,
    ) -> Result<Vec<Change>, ApiError> {
        let Some(havip_id) = self.havip_for(agent, ip)? else {
            return Ok(vec![]);
        };
        let now = now_ms();
        let rules = self.inner.config.binding;
        let changes = std::cell::RefCell::new(vec![]);
        let pruned = std::cell::Cell::new(false);
        // read outside the transaction: sled's transactions exclude every other access
        let allowed = self.allowed_macs(&self.havip(&havip_id)?)?;
        let may_hold = |m| allowed.as_ref().is_none_or(|a| a.contains(&m));
        let havip = self.update_havip(&havip_id, |h| {
            let (next, c) = apply_guarded(&h.binding, obs, may_hold, now, &rules);
            pruned.set(next.unauthorized.len() < h.binding.unauthorized.len());
            h.binding = next;
            *changes.borrow_mut() = c;
            Ok(())
        });
        let havip = match havip {
            Ok(h) => h,
            Err(e) if e.kind == crate::domain::error::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let changes = changes.into_inner();
        let outsider = obs.mac().is_some_and(|m| !may_hold(m));
        for c in &changes {
            let cause = if outsider && !matches!(c, Change::Unauthorized { .. }) {
                format!("{} (not an allowed holder)", obs.cause(&rules))
            } else {
                obs.cause(&rules)
            };
            self.record_event(HistoryEvent {
                havip_id: havip.id.clone(),
                at: now,
                change: c.clone(),
                cause,
                agent: agent.name.clone(),
            })?;
        }
        if !changes.is_empty() || pruned.get() {
            self.publish_havip(&havip);
        }
        Ok(changes)
    }

    pub(super) fn record_event(&self, event: HistoryEvent) -> Result<(), ApiError> {
        let seq = self.inner.db.generate_id().map_err(db_err)?;
        self.inner
            .events
            .insert(event_key(&event.havip_id, event.at, seq), encode(&event))
            .map_err(db_err)?;
        Ok(())
    }

    /// Holder changes of one HAVIP, newest first: `limit` of them after skipping `offset`.
    pub fn history(
        &self,
        havip_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<HistoryEvent>, ApiError> {
        self.inner
            .events
            .scan_prefix(havip_id.as_bytes())
            .rev()
            .skip(offset)
            .take(limit)
            .map(|e| decode(&e.map_err(db_err)?.1))
            .collect()
    }

    pub fn history_len(&self, havip_id: &str) -> usize {
        self.inner
            .events
            .scan_prefix(havip_id.as_bytes())
            .keys()
            .count()
    }

    /// Records a station an agent saw; only new stations or changed MACs are written.
    pub fn record_station(&self, agent: &Agent, ip: Ipv4Addr, mac: Mac) -> Result<(), ApiError> {
        let Some(subnet_id) = agent
            .subnet_ids
            .iter()
            .find(|id| self.subnet(id).is_ok_and(|s| s.cidr.contains(&ip)))
        else {
            return Ok(());
        };
        let key = ip_key(subnet_id, ip);
        let now = now_ms();
        let old: Option<Station> = match self.inner.stations.get(&key).map_err(db_err)? {
            Some(bytes) => Some(decode(&bytes)?),
            None => None,
        };
        if old.as_ref().is_some_and(|s| s.mac == mac) {
            return Ok(());
        }
        let station = Station {
            subnet_id: subnet_id.clone(),
            ip,
            mac,
            first_seen: now,
            last_seen: now,
            agent: agent.name.clone(),
        };
        self.inner
            .stations
            .insert(key, encode(&station))
            .map_err(db_err)?;
        // only a host the Instances page would list as discovered is news for browsers (a
        // holder announcing an HAVIP's address is not)
        if self.is_unknown_host(subnet_id, ip, mac)? {
            let region_id = self
                .subnet(subnet_id)
                .and_then(|s| self.vpc(&s.vpc_id))
                .map(|v| v.region_id)?;
            self.publish(StoreChange::Instances { region_id });
        }
        Ok(())
    }

    pub fn stations(&self) -> Result<Vec<Station>, ApiError> {
        self.all(&self.inner.stations)
    }
}

/// Whether an agent is connected now; kept in memory (agents reconnect within seconds after a
/// restart of the console).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Presence {
    /// open connections (an agent restarting may overlap its old connection briefly)
    pub connections: u32,
    /// when the current connection began, or the last one ended (unix ms)
    pub since: u64,
}

/// Marks an agent connected for as long as it lives.
pub struct Connected {
    store: Store,
    agent_id: String,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut presence = self.store.inner.presence.lock().unwrap();
        let p = presence.entry(self.agent_id.clone()).or_default();
        p.connections = p.connections.saturating_sub(1);
        if p.connections == 0 {
            p.since = now_ms();
        }
        drop(presence);
        self.store.publish(StoreChange::Agents);
    }
}

impl Store {
    /// Records that `agent` is connected until the returned guard is dropped.
    pub fn agent_connected(&self, agent: &Agent) -> Connected {
        let mut presence = self.inner.presence.lock().unwrap();
        let p = presence.entry(agent.id.clone()).or_default();
        if p.connections == 0 {
            p.since = now_ms();
        }
        p.connections += 1;
        drop(presence);
        self.publish(StoreChange::Agents);
        Connected {
            store: self.clone(),
            agent_id: agent.id.clone(),
        }
    }

    /// `None`: not connected since the console started.
    pub fn presence(&self, agent_id: &str) -> Option<Presence> {
        self.inner.presence.lock().unwrap().get(agent_id).copied()
    }

    /// Subnets some connected, unrevoked agent reports for: their HAVIPs' statuses are current.
    pub fn watched_subnets(&self) -> Result<std::collections::HashSet<String>, ApiError> {
        let live: Vec<String> = {
            let presence = self.inner.presence.lock().unwrap();
            presence
                .iter()
                .filter(|(_, p)| p.connections > 0)
                .map(|(id, _)| id.clone())
                .collect()
        };
        let mut subnets = std::collections::HashSet::new();
        for id in live {
            if let Some(agent) = self.get::<Agent>(&self.inner.agents, &id)? {
                if !agent.revoked {
                    subnets.extend(agent.subnet_ids);
                }
            }
        }
        Ok(subnets)
    }
}
