//! Users, for administrators: who may use the console, with which role, and their sessions.

use crate::domain::auth::Role;
use crate::domain::error::ApiError;
use crate::domain::pages::UserRow;
use leptos::prelude::*;

#[server(endpoint = "users_page")]
pub async fn users_page() -> Result<Vec<UserRow>, ApiError> {
    let store = super::store(super::roles::role_for("users_page"))?;
    store
        .users()?
        .into_iter()
        .map(|u| {
            Ok(UserRow {
                sessions: store.sessions_of(&u.name)? as u32,
                sso_issuer: u.sso.map(|sso| sso.issuer),
                name: u.name,
                role: u.role,
                disabled: u.disabled,
                created: u.created,
            })
        })
        .collect()
}

#[server(endpoint = "add_user")]
pub async fn add_user(name: String, role: Role, password: String) -> Result<(), ApiError> {
    super::store(super::roles::role_for("add_user"))?
        .create_user(&name, &password, role)
        .await
        .map(|_| ())
}

#[server(endpoint = "set_user_role")]
pub async fn set_user_role(name: String, role: Role) -> Result<(), ApiError> {
    super::store(super::roles::role_for("set_user_role"))?
        .set_user_role(&name, role)
        .await
        .map(|_| ())
}

#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(name: String, disabled: bool) -> Result<(), ApiError> {
    super::store(super::roles::role_for("set_user_disabled"))?
        .set_user_disabled(&name, disabled)
        .await
        .map(|_| ())
}

#[server(endpoint = "delete_user")]
pub async fn delete_user(name: String) -> Result<(), ApiError> {
    super::store(super::roles::role_for("delete_user"))?
        .delete_user(&name)
        .await
}

/// Sets a user's password, ending its sessions; its API keys are deleted too unless
/// `revoke_keys` is false.
#[server(endpoint = "set_user_password")]
pub async fn set_user_password(
    name: String,
    password: String,
    revoke_keys: Option<bool>,
) -> Result<(), ApiError> {
    super::store(super::roles::role_for("set_user_password"))?
        .set_password(&name, &password, revoke_keys.unwrap_or(true))
        .await
}

#[server(endpoint = "end_user_sessions")]
pub async fn end_user_sessions(name: String) -> Result<(), ApiError> {
    super::store(super::roles::role_for("end_user_sessions"))?
        .end_user_sessions(&name)
        .await
}
