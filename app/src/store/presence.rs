//! Which agents are connected now: runtime state, never stored (agents reconnect within
//! seconds after a restart of the console). On etcd, each replica also shares its own agents'
//! presence on its lease (`presence/AGENT/REPLICA`): another replica shows an agent connected
//! to this one as online, and the record goes when this replica does. Written when an agent
//! comes or goes, never while it only reports.

use super::{encode, lock, now_ms, Store, StoreChange};
use crate::domain::error::ApiError;
use crate::domain::ids::{AgentId, SubnetId};
use crate::domain::model::Agent;

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
    agent_id: AgentId,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut presence = lock(&self.store.inner.presence);
        let p = presence.entry(self.agent_id.clone()).or_default();
        p.connections = p.connections.saturating_sub(1);
        let offline = p.connections == 0;
        if offline {
            p.since = now_ms();
        }
        let now = *p;
        drop(presence);
        self.store.share_presence(&self.agent_id, now);
        self.store.publish(StoreChange::Agents);
        if offline {
            self.store.raise_presence(&self.agent_id, false);
        }
    }
}

impl Store {
    /// Records that `agent` is connected until the returned guard is dropped.
    pub fn agent_connected(&self, agent: &Agent) -> Connected {
        let mut presence = lock(&self.inner.presence);
        let p = presence.entry(agent.id.clone()).or_default();
        let online = p.connections == 0;
        if online {
            p.since = now_ms();
        }
        p.connections += 1;
        let now = *p;
        drop(presence);
        self.share_presence(&agent.id, now);
        self.publish(StoreChange::Agents);
        if online {
            self.raise_presence(&agent.id, true);
        }
        Connected {
            store: self.clone(),
            agent_id: agent.id.clone(),
        }
    }

    /// `None`: not connected since the console started (to any replica).
    pub fn presence(&self, agent_id: &AgentId) -> Option<Presence> {
        let here = lock(&self.inner.presence).get(agent_id).copied();
        let elsewhere = self.presence_elsewhere(Some(agent_id));
        merged(
            here.into_iter()
                .chain(elsewhere.into_iter().map(|(_, p)| p)),
        )
    }

    /// Subnets some connected, unrevoked agent reports for (to any replica): their HAVIPs'
    /// statuses are current.
    pub fn watched_subnets(&self) -> Result<std::collections::HashSet<SubnetId>, ApiError> {
        let mut live: Vec<AgentId> = {
            let presence = lock(&self.inner.presence);
            presence
                .iter()
                .filter(|(_, p)| p.connections > 0)
                .map(|(id, _)| id.clone())
                .collect()
        };
        (self.presence_elsewhere(None).into_iter())
            .filter(|(_, p)| p.connections > 0)
            .for_each(|(id, _)| live.push(id));
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

    /// This replica's presence of an agent, for the other replicas (etcd only).
    fn share_presence(&self, agent_id: &AgentId, presence: Presence) {
        let key = format!("{agent_id}/{:x}", self.inner.epoch);
        let shared = self
            .inner
            .kv
            .put_leased("presence", key.as_bytes(), &encode(&presence));
        if let Err(e) = shared {
            tracing::warn!("sharing agent {agent_id}'s presence with the other replicas: {e}");
        }
    }

    /// What the other replicas share of one agent (or of all): (agent, presence) each.
    fn presence_elsewhere(&self, agent_id: Option<&AgentId>) -> Vec<(AgentId, Presence)> {
        let own = format!("/{:x}", self.inner.epoch);
        let prefix = agent_id.map_or(String::new(), |id| format!("{id}/"));
        (self.inner.shared_presence.scan_prefix(prefix.as_bytes()))
            .filter_map(Result::ok)
            .filter(|(key, _)| !key.ends_with(own.as_bytes()))
            .filter_map(|(key, value)| {
                let key = std::str::from_utf8(&key).ok()?;
                let id = key.split('/').next()?.parse::<AgentId>().ok()?;
                Some((id, super::decode(&value).ok()?))
            })
            .collect()
    }
}

/// One agent's presence on several replicas: connected if it is to any (since the earliest
/// connection that is still open); otherwise offline since the latest went.
fn merged(all: impl Iterator<Item = Presence>) -> Option<Presence> {
    let all: Vec<Presence> = all.collect();
    let connections: u32 = all.iter().map(|p| p.connections).sum();
    let since = if connections > 0 {
        (all.iter().filter(|p| p.connections > 0))
            .map(|p| p.since)
            .min()
    } else {
        all.iter().map(|p| p.since).max()
    }?;
    Some(Presence { connections, since })
}
