//! How records are keyed, encoded and read inside transactions, and the typed IDs the store
//! makes.

use super::kv::{Abort, TxError, TxTable};
use crate::domain::error::ApiError;
use crate::domain::ids::{
    AgentId, AlertId, EipId, EniId, HavipId, InstanceId, RegionId, SubnetId, VpcId,
};
use serde::{de::DeserializeOwned, Serialize};
use std::net::Ipv4Addr;

/// A new random ID of any kind: `new_id::<HavipId>()`.
pub(crate) fn new_id<T: NewId>() -> T {
    T::random_id()
}

/// The typed IDs the store makes.
pub(crate) trait NewId: Sized {
    fn random_id() -> Self;
}

macro_rules! new_ids {
    ($($t:ty),*) => {$(
        impl NewId for $t {
            fn random_id() -> Self {
                <$t>::random(rand::random::<u32>)
            }
        }
    )*};
}
new_ids!(RegionId, VpcId, SubnetId, HavipId, EniId, InstanceId, EipId, AgentId, AlertId);

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records always serialize")
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::internal(format!("corrupt record: {e}")))
}

/// The database failed: 503 when etcd does not answer, 507 when it is out of space (as a full
/// disk), else an internal error (500, its details logged only).
pub(crate) fn db_err(e: impl std::fmt::Display + 'static) -> ApiError {
    use super::kv::StorageError;
    match (&e as &dyn std::any::Any).downcast_ref::<StorageError>() {
        Some(StorageError::Unavailable(why)) => {
            tracing::warn!("etcd does not answer: {why}");
            ApiError::unavailable(crate::i18n::m::errors_store::DB_UNAVAILABLE)
        }
        Some(StorageError::NoSpace) => {
            ApiError::storage_full(crate::i18n::m::errors_store::DB_NO_SPACE)
        }
        _ => ApiError::internal(format!("database error: {e}")),
    }
}

/// A stored u32 counter or version (big-endian); malformed values read as 0.
pub(crate) fn be_u32(bytes: &[u8]) -> u32 {
    bytes.try_into().map(u32::from_be_bytes).unwrap_or(0)
}

pub(crate) fn be_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// Reads a record inside a transaction; a missing one aborts with "not found".
pub(crate) fn load<T: DeserializeOwned>(
    tree: &TxTable<'_>,
    what: &str,
    id: &str,
) -> Result<T, Abort<ApiError>> {
    match tree.get(id.as_bytes())? {
        Some(bytes) => decode(&bytes).map_err(Abort::Abort),
        None => Err(Abort::Abort(ApiError::not_found(what, id))),
    }
}

/// A transaction's outcome as the store's error: its own refusal, or a database error.
pub(crate) fn finish<T>(result: Result<T, TxError<ApiError>>) -> Result<T, ApiError> {
    result.map_err(|e| match e {
        TxError::Abort(e) => e,
        TxError::Storage(e) => db_err(e),
    })
}

/// The address at the end of an IP-index (or station) key.
pub(crate) fn ip_of_key(key: &[u8]) -> Ipv4Addr {
    let tail: [u8; 4] = key[key.len() - 4..].try_into().expect("4-byte ip suffix");
    Ipv4Addr::from(u32::from_be_bytes(tail))
}

pub(crate) fn ip_key(subnet_id: &str, ip: Ipv4Addr) -> Vec<u8> {
    let mut key = Vec::with_capacity(subnet_id.len() + 4);
    key.extend_from_slice(subnet_id.as_bytes());
    key.extend_from_slice(&u32::from(ip).to_be_bytes());
    key
}
