//! Agents, their tokens, and what they report: binding observations and stations.

use super::havips::latest_binding;
use super::kv::{Abort, Transactional};
use super::{db_err, decode, encode, ip_key, ip_of_key, load, lock, new_id};
use super::{Store, StoreChange};
use crate::domain::binding::{advertised, apply_guarded, BindingState, Change, Observation};
use crate::domain::error::ApiError;
use crate::domain::ids::{AddressOwner, AgentId, HavipId, SubnetId};
use crate::domain::mac::Mac;
use crate::domain::model::{Agent, HistoryEvent, Station};
use crate::domain::name::check_name;
use crate::i18n::Text;
use crate::support::{now_ms, same_secret, sha256_hex};
use std::net::Ipv4Addr;

/// A known station's `last_seen` is rewritten at most this often.
const STATION_TOUCH_MS: u64 = 60_000;

/// An agent as the audit log shows it: without its token's digest.
fn agent_snapshot(agent: &Agent) -> Option<serde_json::Value> {
    super::audit::snapshot_without(agent, &["token_sha256"])
}

impl Store {
    /// Registers an agent for `subnet_ids`; returns it with its token, which is shown only now.
    pub async fn create_agent(
        &self,
        name: &str,
        subnet_ids: &[SubnetId],
    ) -> Result<(Agent, String), ApiError> {
        let name = check_name(name).map_err(|e| e.refusal("name"))?;
        if subnet_ids.is_empty() {
            return Err(ApiError::invalid(
                "subnets",
                crate::i18n::m::errors_store::AGENT_NO_SUBNET,
            ));
        }
        let mut subnets: Vec<SubnetId> = vec![];
        for id in subnet_ids {
            self.subnet(id).map_err(|e| e.on_field("subnets"))?;
            if !subnets.contains(id) {
                subnets.push(id.clone());
            }
        }
        let token = format!(
            "hvt_{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        );
        let agent = Agent {
            id: new_id(),
            name,
            subnet_ids: subnets,
            created: now_ms(),
            revoked: false,
            token_sha256: sha256_hex(&token),
        };
        let record = encode(&agent);
        let note = self.note("agent.create", &agent.id)?;
        let result = (
            &self.inner.agents,
            &self.inner.agent_tokens,
            &self.inner.audit,
        )
            .transaction(|(agents, tokens, audit)| {
                agents.insert(agent.id.as_bytes(), record.as_slice())?;
                tokens.insert(agent.token_sha256.as_bytes(), agent.id.as_bytes())?;
                note.write(audit, None, agent_snapshot(&agent))?;
                Ok::<_, Abort<ApiError>>(())
            });
        self.commit(result, StoreChange::Agents).await?;
        Ok((agent, token))
    }

    /// Revokes an agent's token: it is refused from now on, and a connected agent is hung up.
    pub async fn revoke_agent(&self, id: &AgentId) -> Result<Agent, ApiError> {
        let note = self.note("agent.revoke", id)?;
        let result = (
            &self.inner.agents,
            &self.inner.agent_tokens,
            &self.inner.audit,
        )
            .transaction(|(agents, tokens, audit)| {
                let before: Agent = load(agents, "Agent", id)?;
                let mut agent = before.clone();
                agent.revoked = true;
                tokens.remove(agent.token_sha256.as_bytes())?;
                agents.insert(agent.id.as_bytes(), encode(&agent))?;
                note.write(audit, agent_snapshot(&before), agent_snapshot(&agent))?;
                Ok(agent)
            });
        let agent = self.commit(result, StoreChange::Agents).await?;
        Ok(agent)
    }

    pub fn agents(&self) -> Result<Vec<Agent>, ApiError> {
        let mut agents: Vec<Agent> = self.all(&self.inner.agents)?;
        agents.sort_by_key(|a| a.created);
        Ok(agents)
    }

    /// The agent a token belongs to, if the token is valid and not revoked (one index lookup).
    pub fn agent_by_token(&self, token: &str) -> Result<Option<Agent>, ApiError> {
        let digest = sha256_hex(token);
        let Some(id) = self
            .inner
            .agent_tokens
            .get(digest.as_bytes())
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let id = AgentId::parse(&String::from_utf8_lossy(&id))
            .map_err(|e| ApiError::internal(format!("token index: {e}")))?;
        Ok(self
            .get::<Agent>(&self.inner.agents, &id)?
            .filter(|a| !a.revoked && same_secret(&a.token_sha256, &digest)))
    }

    pub fn agent(&self, id: &AgentId) -> Result<Agent, ApiError> {
        self.get(&self.inner.agents, id)?
            .ok_or_else(|| ApiError::not_found("Agent", id))
    }

    /// The HAVIP addresses an agent must watch: those in its subnets, read from the IP index
    /// (the addresses used in those subnets, not every HAVIP).
    pub fn watch_list(&self, agent: &Agent) -> Result<Vec<Ipv4Addr>, ApiError> {
        let mut ips = vec![];
        for subnet_id in &agent.subnet_ids {
            for entry in self.inner.ip_index.scan_prefix(subnet_id.as_bytes()) {
                let (key, owner) = entry.map_err(db_err)?;
                if let Some(AddressOwner::Havip(_)) = AddressOwner::from_bytes(&owner) {
                    ips.push(ip_of_key(&key));
                }
            }
        }
        ips.sort();
        ips.dedup();
        Ok(ips)
    }

    /// Which HAVIP `ip` names for this agent: VPCs may reuse a CIDR, so only the agent's own
    /// subnets are searched.
    pub(super) fn havip_for(
        &self,
        agent: &Agent,
        ip: Ipv4Addr,
    ) -> Result<Option<HavipId>, ApiError> {
        for subnet_id in &agent.subnet_ids {
            let Ok(subnet) = self.subnet(subnet_id) else {
                continue;
            };
            if !subnet.cidr.contains(&ip) {
                continue;
            }
            let owner = self
                .inner
                .ip_index
                .get(ip_key(subnet_id, ip))
                .map_err(db_err)?;
            if let Some(AddressOwner::Havip(id)) = owner.and_then(|o| AddressOwner::from_bytes(&o))
            {
                return Ok(Some(id));
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
        self.count_observation(&agent.id);
        let Some(havip_id) = self.havip_for(agent, ip)? else {
            return Ok(vec![]);
        };
        let rules = self.inner.config.binding;
        self.rebind(agent, &havip_id, |latest, may_hold, now| {
            let (next, changes) = apply_guarded(latest, obs, may_hold, now, &rules);
            let outsider = obs.mac().is_some_and(|m| !may_hold(m));
            let caused = changes.into_iter().map(|c| {
                let unauthorized = matches!(c, Change::Unauthorized { .. });
                (c, obs.cause(&rules, outsider && !unauthorized))
            });
            (next, caused.collect())
        })
    }

    /// Feeds the MACs of the routers advertising as master for an HAVIP's VRID into its
    /// binding state (`binding::advertised`), with `cause` for the history.
    pub(super) fn advertised_masters(
        &self,
        agent: &Agent,
        havip_id: &HavipId,
        masters: &[Mac],
        cause: &Text,
    ) -> Result<Vec<Change>, ApiError> {
        let rules = self.inner.config.binding;
        self.rebind(agent, havip_id, |latest, may_hold, now| {
            let (next, change) = advertised(latest, masters, may_hold, now, &rules);
            (
                next,
                change.map(|c| (c, cause.clone())).into_iter().collect(),
            )
        })
    }

    /// The one path a binding changes by: `step` takes the latest state, who may hold the
    /// address and the time, and gives the next state with its holder changes and their
    /// causes. A changed state is written, each change recorded, and the pages told. The step
    /// runs inside the record's transaction, so a replica deciding from a state another
    /// replica has just replaced decides again from the new one: no decision is lost, and none
    /// is recorded twice.
    fn rebind(
        &self,
        agent: &Agent,
        havip_id: &HavipId,
        step: impl Fn(&BindingState, &dyn Fn(Mac) -> bool, u64) -> (BindingState, Vec<(Change, Text)>),
    ) -> Result<Vec<Change>, ApiError> {
        let now = now_ms();
        // every change of a binding in this process happens under this lock, so the state
        // read here is the one the write below replaces (another replica's is caught by the
        // transaction)
        let mut fresh = lock(&self.inner.fresh);
        // who may hold it, read before the transaction (sled's must not read other tables);
        // a change of the allowed holders restricts the binding itself
        let allowed = match self.stored_havip(havip_id) {
            Ok(stored) => self.allowed_macs(&stored)?,
            Err(e) if e.kind == crate::domain::error::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let may_hold = |m| allowed.as_ref().is_none_or(|a| a.contains(&m));
        let decided = std::cell::RefCell::new(None);
        let updated = self.update_havip_when(havip_id, None, |h| {
            let (next, changes) = step(&latest_binding(&fresh, h), &may_hold, now);
            // only when claims were last heard changed (a holder answering its probe):
            // nothing to write, nothing to announce
            let changed = next.durable() != h.binding.durable();
            if changed {
                self.ensure_space()?;
                h.binding = next.clone();
            }
            *decided.borrow_mut() = Some((next, changes));
            Ok(changed)
        });
        let (havip, written) = match updated {
            Ok(updated) => updated,
            Err(e) if e.kind == crate::domain::error::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let (next, changes) = decided.into_inner().expect("the step ran");
        if !written {
            fresh.insert(havip_id.clone(), next);
            return Ok(vec![]);
        }
        fresh.remove(havip_id);
        drop(fresh);
        for (change, cause) in &changes {
            let event = HistoryEvent::new(
                havip.id.clone(),
                now,
                change.clone(),
                cause,
                agent.name.clone(),
            );
            self.record_event(event)?;
        }
        // something shown changed (a holder, a conflict, an outsider's claim)
        self.publish_havip(&havip, false);
        Ok(changes.into_iter().map(|(c, _)| c).collect())
    }

    /// Records a station an agent saw. New stations and changed MACs are written at once; a
    /// known one only refreshes its `last_seen` when that is over a minute old (agents repeat
    /// what they see, and a refresh need not cost a write each time).
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
        let station = match old {
            Some(s) if s.mac == mac && now.saturating_sub(s.last_seen) < STATION_TOUCH_MS => {
                return Ok(())
            }
            Some(s) if s.mac == mac => Station {
                last_seen: now,
                agent: agent.name.clone(),
                ..s
            },
            _ => Station {
                subnet_id: subnet_id.clone(),
                ip,
                mac,
                first_seen: now,
                last_seen: now,
                agent: agent.name.clone(),
            },
        };
        let news = station.first_seen == now;
        self.ensure_space()?;
        self.inner
            .stations
            .insert(key, encode(&station))
            .map_err(db_err)?;
        // only a host the Instances page would list as discovered is news for browsers (a
        // holder announcing an HAVIP's address is not)
        if news && self.is_unknown_host(subnet_id, ip, mac)? {
            let subnet = self.subnet(subnet_id)?;
            let region_id = self.vpc(&subnet.vpc_id).map(|v| v.region_id)?;
            self.publish(StoreChange::Instances { region_id });
            self.raise_discovered(&subnet, ip, mac, &agent.name);
        }
        Ok(())
    }

    /// Stations seen within the configured time to live.
    pub fn stations(&self) -> Result<Vec<Station>, ApiError> {
        let cutoff = now_ms().saturating_sub(self.inner.config.station_ttl_ms);
        let mut all: Vec<Station> = self.all(&self.inner.stations)?;
        all.retain(|s| s.last_seen >= cutoff);
        Ok(all)
    }

    /// Forgets stations not seen for the time to live as of `now`; returns how many.
    pub fn expire_stations(&self, now: u64) -> Result<usize, ApiError> {
        if !self.has_space() {
            return Ok(0); // forgetting can wait for space
        }
        let cutoff = now.saturating_sub(self.inner.config.station_ttl_ms);
        let mut removed = 0;
        for entry in self.inner.stations.iter() {
            let (key, value) = entry.map_err(db_err)?;
            let station: Station = decode(&value)?;
            if station.last_seen < cutoff
                && self
                    .inner
                    .stations
                    .remove_if(&key, &value)
                    .map_err(db_err)?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
