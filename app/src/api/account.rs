//! Each user's own settings: the time zone their pages show times in.

use crate::domain::error::ApiError;
use crate::domain::zone::Zone;
use leptos::prelude::*;

/// The caller's time zone with its offsets (UTC, not chosen, until they choose one).
#[server(endpoint = "my_time_zone")]
pub async fn my_time_zone() -> Result<Zone, ApiError> {
    let (me, store) = super::caller_and_store(super::roles::role_for("my_time_zone"))?;
    let chosen = store.user(&me.user)?.and_then(|u| u.time_zone);
    let now_s = (crate::support::now_ms() / 1000) as i64;
    Ok(chosen
        .and_then(|name| crate::support::zone(&name, now_s))
        .unwrap_or_default())
}

#[server(endpoint = "set_time_zone")]
pub async fn set_time_zone(zone: String) -> Result<(), ApiError> {
    let (me, store) = super::caller_and_store(super::roles::role_for("set_time_zone"))?;
    store.set_time_zone(&me.user, &zone).await
}

/// Every time zone's name, for the choice on the account page.
#[server(endpoint = "time_zones")]
pub async fn time_zones() -> Result<Vec<String>, ApiError> {
    super::require(super::roles::role_for("time_zones"))?;
    Ok(crate::support::zone_names())
}
