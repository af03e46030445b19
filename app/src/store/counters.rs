//! Counters since the console started (in memory, for `/metrics`): holder changes and split
//! brains per HAVIP, observations per agent. Prometheus expects counters to start over after a
//! restart; what lasts is in the history.

use super::{lock, Store};
use crate::domain::alerts::EventType;
use crate::domain::ids::{AgentId, HavipId};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HavipCounters {
    pub holder_changes: u64,
    pub conflicts: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    havips: HashMap<HavipId, HavipCounters>,
    observations: HashMap<AgentId, u64>,
}

impl Store {
    pub(super) fn count_event(&self, havip_id: &HavipId, event_type: EventType) {
        let mut counters = lock(&self.inner.counters);
        let c = counters.havips.entry(havip_id.clone()).or_default();
        match event_type {
            EventType::HolderChanged => c.holder_changes += 1,
            EventType::ConflictDetected => c.conflicts += 1,
            _ => {}
        }
    }

    pub(super) fn count_observation(&self, agent_id: &AgentId) {
        *lock(&self.inner.counters)
            .observations
            .entry(agent_id.clone())
            .or_default() += 1;
    }

    pub fn havip_counters(&self, havip_id: &HavipId) -> HavipCounters {
        lock(&self.inner.counters)
            .havips
            .get(havip_id)
            .copied()
            .unwrap_or_default()
    }

    pub fn observations_of(&self, agent_id: &AgentId) -> u64 {
        lock(&self.inner.counters)
            .observations
            .get(agent_id)
            .copied()
            .unwrap_or_default()
    }
}
