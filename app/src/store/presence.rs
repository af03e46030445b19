//! Which agents are connected now: runtime state, never stored (agents reconnect within
//! seconds after a restart of the console).

use super::{lock, now_ms, Store, StoreChange};
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
        drop(presence);
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
        drop(presence);
        self.publish(StoreChange::Agents);
        if online {
            self.raise_presence(&agent.id, true);
        }
        Connected {
            store: self.clone(),
            agent_id: agent.id.clone(),
        }
    }

    /// `None`: not connected since the console started.
    pub fn presence(&self, agent_id: &AgentId) -> Option<Presence> {
        lock(&self.inner.presence).get(agent_id).copied()
    }

    /// Subnets some connected, unrevoked agent reports for: their HAVIPs' statuses are current.
    pub fn watched_subnets(&self) -> Result<std::collections::HashSet<SubnetId>, ApiError> {
        let live: Vec<AgentId> = {
            let presence = lock(&self.inner.presence);
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
