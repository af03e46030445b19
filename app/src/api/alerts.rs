//! Alert rules (admins only): list them with their latest deliveries, add, enable or disable,
//! delete, and send a test event to one.

use crate::domain::alerts::{AlertRow, CreatedAlert, NewAlertRule};
#[cfg(feature = "ssr")]
use crate::domain::auth::Role;
use crate::domain::error::ApiError;
use crate::domain::ids::AlertId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Deliveries the Alerts page shows per rule.
pub const RECENT_DELIVERIES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsView {
    pub rows: Vec<AlertRow>,
    /// whether the console was started with a hook directory
    pub hooks_enabled: bool,
}

#[server(endpoint = "alerts_page")]
pub async fn alerts_page() -> Result<AlertsView, ApiError> {
    let store = super::store(Role::Admin)?;
    Ok(AlertsView {
        rows: store.alert_rows(RECENT_DELIVERIES)?,
        hooks_enabled: store.hooks_enabled(),
    })
}

/// Adds a rule; a webhook's signing secret is in this answer only.
#[server(endpoint = "create_alert", input = leptos::server_fn::codec::Json)]
pub async fn create_alert(rule: NewAlertRule) -> Result<CreatedAlert, ApiError> {
    super::store(Role::Admin)?.create_alert(rule).await
}

#[server(endpoint = "set_alert_enabled")]
pub async fn set_alert_enabled(id: AlertId, enabled: bool) -> Result<(), ApiError> {
    let store = super::store(Role::Admin)?;
    store.set_alert_enabled(&id, enabled).await.map(|_| ())
}

#[server(endpoint = "delete_alert")]
pub async fn delete_alert(id: AlertId) -> Result<(), ApiError> {
    super::store(Role::Admin)?.delete_alert(&id).await
}

/// Sends an `alert.test` event to one rule (enabled or not); its delivery shows in the log.
#[server(endpoint = "test_alert")]
pub async fn test_alert(id: AlertId) -> Result<(), ApiError> {
    let (me, store) = super::caller_and_store(Role::Admin)?;
    store.test_alert(&id, &me.user)
}
