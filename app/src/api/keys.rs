//! API keys for the Tencent-compatible endpoint: every user manages their own.

#[cfg(feature = "ssr")]
use crate::domain::auth::Role;
use crate::domain::error::ApiError;
#[cfg(feature = "ssr")]
use crate::domain::pages::ApiKeyRow;
use crate::domain::pages::CreatedApiKey;
use leptos::prelude::*;

#[server(endpoint = "api_keys_page")]
pub async fn api_keys_page() -> Result<Vec<crate::domain::pages::ApiKeyRow>, ApiError> {
    let (me, store) = super::caller_and_store(Role::Viewer)?;
    store.api_keys_of(&me.user)
}

/// A new key pair for the caller; the SecretKey is in this answer only.
#[server(endpoint = "create_api_key")]
pub async fn create_api_key() -> Result<CreatedApiKey, ApiError> {
    let (me, store) = super::caller_and_store(Role::Viewer)?;
    let (key, secret_key): (ApiKeyRow, String) = store.create_api_key(&me.user).await?;
    Ok(CreatedApiKey { key, secret_key })
}

#[server(endpoint = "set_api_key_disabled")]
pub async fn set_api_key_disabled(id: String, disabled: bool) -> Result<(), ApiError> {
    let (me, store) = super::caller_and_store(Role::Viewer)?;
    store
        .set_api_key_disabled(&me.user, &id, disabled)
        .await
        .map(|_| ())
}

#[server(endpoint = "delete_api_key")]
pub async fn delete_api_key(id: String) -> Result<(), ApiError> {
    let (me, store) = super::caller_and_store(Role::Viewer)?;
    store.delete_api_key(&me.user, &id).await
}
