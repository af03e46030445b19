//! Schema migrations, run once when an older database is opened.

use super::{db_err, decode, Store};
use crate::domain::error::ApiError;
use crate::domain::ids::HavipId;
use crate::domain::model::Agent;

/// The length of an HAVIP id, the prefix of every history key.
const HAVIP_ID_LEN: usize = "havip-".len() + 8;

impl Store {
    /// 1 → 2: count each HAVIP's history (dropping what deleted HAVIPs left behind and what
    /// exceeds the limit), and index agent tokens by their hash.
    pub(super) fn migrate_1_to_2(&self) -> Result<(), ApiError> {
        let inner = &self.inner;
        let mut counts: std::collections::BTreeMap<Vec<u8>, u64> = Default::default();
        let mut orphans = super::kv::Batch::default();
        for key in inner.events.iter().keys() {
            let key = key.map_err(db_err)?;
            let id = &key[..HAVIP_ID_LEN.min(key.len())];
            if inner.havips.contains_key(id).map_err(db_err)? {
                *counts.entry(id.to_vec()).or_default() += 1;
            } else {
                orphans.remove(key);
            }
        }
        inner.events.apply_batch(orphans).map_err(db_err)?;
        for (id, n) in &counts {
            inner
                .history_counts
                .insert(id.as_slice(), n.to_be_bytes())
                .map_err(db_err)?;
            if *n > inner.config.history_limit {
                let id = HavipId::parse(&String::from_utf8_lossy(id))
                    .map_err(|e| ApiError::internal(format!("history key: {e}")))?;
                self.trim_history(&id, inner.config.history_limit)?;
            }
        }
        for value in inner.agents.iter().values() {
            let agent: Agent = decode(&value.map_err(db_err)?)?;
            if !agent.revoked {
                inner
                    .agent_tokens
                    .insert(agent.token_sha256.as_bytes(), agent.id.as_bytes())
                    .map_err(db_err)?;
            }
        }
        Ok(())
    }
}
