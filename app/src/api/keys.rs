//! API keys for the Tencent-compatible endpoint: every user manages their own; administrators
//! see everyone's and may disable or delete any.

#[cfg(feature = "ssr")]
use crate::domain::auth::{Principal, Role};
use crate::domain::error::ApiError;
#[cfg(feature = "ssr")]
use crate::domain::pages::ApiKeyRow;
use crate::domain::pages::CreatedApiKey;
use leptos::prelude::*;

/// A key may be made without the password again this long after logging in.
pub const RECENT_LOGIN_MS: u64 = 5 * 60_000;

/// The caller's keys; every user's for an administrator.
#[server(endpoint = "api_keys_page")]
pub async fn api_keys_page() -> Result<Vec<crate::domain::pages::ApiKeyRow>, ApiError> {
    let (me, store) = super::caller_and_store(super::roles::role_for("api_keys_page"))?;
    match me.role {
        Role::Admin => store.api_keys_all(),
        _ => store.api_keys_of(&me.user),
    }
}

/// A new key pair for the caller; the SecretKey is in this answer only. Needs the caller's
/// `password` unless they logged in within `RECENT_LOGIN_MS` (a session taken over later
/// cannot make a key that outlives it); a password given is checked either way. Attempts count against the hourly limit of
/// `MAX_KEY_CREATIONS_PER_HOUR`, wrong passwords too.
#[server(endpoint = "create_api_key")]
pub async fn create_api_key(password: Option<String>) -> Result<CreatedApiKey, ApiError> {
    let (me, store) = super::caller_and_store(super::roles::role_for("create_api_key"))?;
    store.count_key_attempt(&me.user)?;
    let password = password.unwrap_or_default();
    // a password given is always checked; none is needed right after logging in
    if !password.is_empty() || !logged_in_recently() {
        // a user of single sign-on has no password here: they prove themselves by logging in
        // again at their provider
        if store.user(&me.user)?.is_some_and(|u| u.sso.is_some()) {
            return Err(ApiError::invalid(
                "password",
                crate::i18n::m::errors_api::LOG_IN_AGAIN_SSO,
            ));
        }
        if password.is_empty() {
            return Err(ApiError::invalid(
                "password",
                crate::i18n::m::errors_api::PASSWORD_NEEDED,
            ));
        }
        if !store.password_is(&me.user, &password).await? {
            return Err(ApiError::invalid(
                "password",
                crate::i18n::m::errors_api::WRONG_PASSWORD,
            ));
        }
    }
    let (key, secret_key): (ApiKeyRow, String) = store.create_api_key(&me.user).await?;
    Ok(CreatedApiKey { key, secret_key })
}

#[cfg(feature = "ssr")]
fn logged_in_recently() -> bool {
    use crate::domain::auth::SessionStarted;
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionStarted>().copied())
        .is_some_and(|s| crate::support::now_ms().saturating_sub(s.0) <= RECENT_LOGIN_MS)
}

/// Whose key `id` is, as far as the caller may act on it: their own, or any for an
/// administrator (another's key is "not found" to the others, as an unknown one is).
#[cfg(feature = "ssr")]
fn owner_for(me: &Principal, store: &crate::store::Store, id: &str) -> Result<String, ApiError> {
    match me.role {
        Role::Admin => store
            .api_key_owner(id)?
            .ok_or_else(|| ApiError::not_found("API key", id)),
        _ => Ok(me.user.clone()),
    }
}

#[server(endpoint = "set_api_key_disabled")]
pub async fn set_api_key_disabled(id: String, disabled: bool) -> Result<(), ApiError> {
    let (me, store) = super::caller_and_store(super::roles::role_for("set_api_key_disabled"))?;
    let owner = owner_for(&me, &store, &id)?;
    store
        .set_api_key_disabled(&owner, &id, disabled)
        .await
        .map(|_| ())
}

#[server(endpoint = "delete_api_key")]
pub async fn delete_api_key(id: String) -> Result<(), ApiError> {
    let (me, store) = super::caller_and_store(super::roles::role_for("delete_api_key"))?;
    let owner = owner_for(&me, &store, &id)?;
    store.delete_api_key(&owner, &id).await
}
