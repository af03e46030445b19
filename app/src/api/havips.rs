use crate::domain::error::ApiError;
use crate::domain::listing::ListQuery;
use crate::domain::model::{Havip, HavipDetailData, HavipListData};
use leptos::prelude::*;

/// The list page: regions, one page of the chosen region's HAVIPs (searched, filtered, sorted),
/// its counters, and its VPCs/subnets for the filters and the apply dialog.
#[server]
pub async fn havip_page(
    region_id: Option<String>,
    query: ListQuery,
) -> Result<HavipListData, ApiError> {
    use crate::domain::listing::{counters, select};
    let store = super::store()?;
    let (regions, region_id) = super::pick_region(&store, region_id)?;
    let all = store.havip_rows(&region_id)?;
    let counters = counters(&all);
    let (rows, matching, page) = select(all, &query);
    Ok(HavipListData {
        rows,
        matching: matching as u32,
        page,
        counters,
        networks: store.network_view(&region_id)?,
        regions,
        region_id,
    })
}

/// Apply for an HAVIP. `ip_mode` is "auto" or "manual" (then `ip` is the typed address).
#[server]
pub async fn create_havip(
    region_id: String,
    name: String,
    vpc_id: String,
    subnet_id: String,
    ip_mode: String,
    ip: String,
) -> Result<Havip, ApiError> {
    use crate::domain::model::{IpChoice, NewHavip};
    let ip = match ip_mode.as_str() {
        "auto" => IpChoice::Automatic,
        "manual" => IpChoice::Manual(ip),
        other => {
            return Err(ApiError::invalid(
                "ip",
                format!("Unknown IP assignment mode \"{other}\"."),
            ))
        }
    };
    super::store()?
        .create_havip(NewHavip {
            region_id,
            name,
            vpc_id,
            subnet_id,
            ip,
        })
        .await
}

#[server]
pub async fn rename_havip(id: String, name: String) -> Result<Havip, ApiError> {
    super::store()?.rename_havip(&id, &name).await
}

#[server]
pub async fn delete_havip(id: String) -> Result<Havip, ApiError> {
    super::store()?.delete_havip(&id).await
}

/// One HAVIP with its binding and a page (50 events, newest first) of its history.
#[server]
pub async fn havip_detail(id: String, history_page: u32) -> Result<HavipDetailData, ApiError> {
    use crate::domain::model::HISTORY_PAGE;
    let store = super::store()?;
    let havip = store.havip(&id)?;
    let total = store.history_len(&id) as u32;
    let history = store.history(
        &id,
        (history_page * HISTORY_PAGE) as usize,
        HISTORY_PAGE as usize,
    )?;
    let last_agent = store
        .history(&id, 0, 1)?
        .pop()
        .map(|e| e.agent)
        .filter(|a| !a.is_empty());
    let mut instances = store.instances()?;
    instances.retain(|i| i.subnet_id == havip.subnet_id);
    Ok(HavipDetailData {
        instances,
        allowed: havip.allowed.clone(),
        region_id: havip.region_id.clone(),
        binding: havip.binding.clone(),
        row: store.row(havip)?,
        last_agent,
        history,
        history_total: total,
        history_page,
    })
}

/// Restricts which registered instances (ENI ids) may hold the HAVIP; an empty list allows any.
/// (JSON input: a form encoding cannot tell an empty list from a missing one.)
#[server(input = leptos::server_fn::codec::Json)]
pub async fn set_allowed_holders(
    havip_id: String,
    eni_ids: Vec<String>,
) -> Result<Havip, ApiError> {
    super::store()?
        .set_allowed_holders(&havip_id, &eni_ids)
        .await
}
