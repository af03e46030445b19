//! Tencent API `ClientToken`s: a create retried with the same token, on any replica, answers
//! the HAVIP the first one made. The token is claimed in the create's own transaction, so two
//! retries racing on two replicas cannot make two HAVIPs.

use super::kv::{TxFailed, TxTable};
use super::{db_err, decode, now_ms, Store};
use crate::domain::error::ApiError;
use crate::domain::ids::HavipId;
use serde::{Deserialize, Serialize};

/// A token is remembered this long.
const CLIENT_TOKEN_MS: u64 = 24 * 3600 * 1000;

/// A `ClientToken` given with a create: its key (scoped by the caller's API key) and what the
/// request asked (its fingerprint), so that the same token with other parameters is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToken {
    pub key: String,
    pub fingerprint: String,
}

/// What a create with a `ClientToken` made, as remembered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TokenRecord {
    pub fingerprint: String,
    pub havip_id: HavipId,
    pub at: u64,
}

impl TokenRecord {
    fn fresh(&self, now: u64) -> bool {
        now.saturating_sub(self.at) < CLIENT_TOKEN_MS
    }
}

/// A token's earlier create, found in the transaction that would claim it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    pub fingerprint: String,
    pub havip_id: HavipId,
}

/// Inside a create's transaction: the token's earlier create within a day, if any; otherwise
/// the token is claimed for `havip_id`.
pub(super) fn claim_in(
    tokens: &TxTable<'_>,
    token: &ClientToken,
    havip_id: &HavipId,
) -> Result<Option<Earlier>, TxFailed> {
    let now = now_ms();
    if let Some(bytes) = tokens.get(&token.key)? {
        if let Ok(seen) = decode::<TokenRecord>(&bytes) {
            if seen.fresh(now) {
                return Ok(Some(Earlier {
                    fingerprint: seen.fingerprint,
                    havip_id: seen.havip_id,
                }));
            }
        }
    }
    let record = TokenRecord {
        fingerprint: token.fingerprint.clone(),
        havip_id: havip_id.clone(),
        at: now,
    };
    tokens.insert(token.key.as_bytes(), super::encode(&record))?;
    Ok(None)
}

impl Store {
    /// The token's earlier create within a day, if any (a read before the claim; the claim
    /// itself decides).
    pub fn client_token(&self, key: &str) -> Result<Option<Earlier>, ApiError> {
        let seen: Option<TokenRecord> = self.get(&self.inner.client_tokens, key)?;
        Ok(seen.filter(|t| t.fresh(now_ms())).map(|t| Earlier {
            fingerprint: t.fingerprint,
            havip_id: t.havip_id,
        }))
    }

    /// Forgets the tokens used over a day before `now` (the leading replica's sweep; a token
    /// claimed again meanwhile stays); how many.
    pub fn forget_old_client_tokens(&self, now: u64) -> Result<usize, ApiError> {
        (self.inner.client_tokens)
            .remove_ended(|v| decode::<TokenRecord>(v).map_or(true, |t| !t.fresh(now)))
            .map_err(db_err)
    }
}
