//! Each user's own settings: the time zone their pages show times in (`whoami` gives it with
//! the user).

use crate::domain::error::ApiError;
use leptos::prelude::*;

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
