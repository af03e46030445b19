use crate::domain::error::ApiError;
use crate::domain::ids::{EniId, HavipId, RegionId};
use crate::domain::listing::ListQuery;
use crate::domain::model::{Havip, NewHavip};
use crate::domain::pages::{HavipDetailData, HavipListData, HistoryPage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The list page: regions, one page of the chosen region's HAVIPs (searched, filtered, sorted),
/// its counters, and its VPCs/subnets for the filters and the apply dialog.
#[server(endpoint = "havip_page")]
pub async fn havip_page(
    region_id: Option<RegionId>,
    query: ListQuery,
) -> Result<HavipListData, ApiError> {
    let store = super::store(super::roles::role_for("havip_page"))?;
    let (regions, region_id) = super::pick_region(&store, region_id)?;
    let crate::store::ListPage {
        havips,
        rows,
        matching,
        page,
        counters,
    } = store.havip_page(&region_id, &query)?;
    let now = crate::support::now_ms();
    let sparks = havips
        .iter()
        .map(|h| store.spark(h, now))
        .collect::<Result<_, _>>()?;
    Ok(HavipListData {
        sparks,
        rows,
        matching: matching as u32,
        page,
        counters,
        networks: store.network_view(&region_id)?,
        regions,
        region_id,
    })
}

/// Apply for an HAVIP: the address chosen automatically or typed by hand (`IpChoice`).
#[server(input = Json, endpoint = "create_havip")]
pub async fn create_havip(req: NewHavip) -> Result<Havip, ApiError> {
    super::store(super::roles::role_for("create_havip"))?
        .create_havip(req)
        .await
}

#[server(endpoint = "rename_havip")]
pub async fn rename_havip(id: HavipId, name: String) -> Result<Havip, ApiError> {
    super::store(super::roles::role_for("rename_havip"))?
        .rename_havip(&id, &name)
        .await
}

#[server(endpoint = "delete_havip")]
pub async fn delete_havip(id: HavipId) -> Result<Havip, ApiError> {
    super::store(super::roles::role_for("delete_havip"))?
        .delete_havip(&id)
        .await
}

/// One HAVIP with its binding, holders named, and the instances of its subnet.
#[server(endpoint = "havip_detail")]
pub async fn havip_detail(id: HavipId) -> Result<HavipDetailData, ApiError> {
    use crate::domain::timeline::{DAY_MS, WEEK_MS};
    let store = super::store(super::roles::role_for("havip_detail"))?;
    let havip = store.havip(&id)?;
    let last_agent = store
        .history(&id, 0, 1)?
        .pop()
        .map(|e| e.agent)
        .filter(|a| !a.is_empty());
    let mut instances = store.instances()?;
    instances.retain(|i| i.subnet_id == havip.subnet_id);
    let now = crate::support::now_ms();
    let timelines = [DAY_MS, WEEK_MS]
        .into_iter()
        .map(|span| store.timeline(&havip, span, now))
        .collect::<Result<_, _>>()?;
    let vrrp = match store.vrrp_routers(&id) {
        Some(routers) => Some(crate::domain::pages::VrrpView::new(
            &routers,
            &store.mac_names()?,
            now,
        )),
        None => None,
    };
    Ok(HavipDetailData {
        timelines,
        row: store.row(&havip)?,
        instances,
        allowed: havip.allowed,
        region_id: havip.region_id,
        binding: havip.binding,
        last_agent,
        vrrp,
        auth_pass: crate::domain::haconfig::random_auth_pass(),
    })
}

/// A page (50 events, newest first) of an HAVIP's history, holders named by instance.
#[server(endpoint = "havip_history")]
pub async fn havip_history(id: HavipId, page: u32) -> Result<HistoryPage, ApiError> {
    use crate::domain::pages::HISTORY_PAGE;
    let store = super::store(super::roles::role_for("havip_history"))?;
    store.havip(&id)?;
    let names = store.mac_names()?;
    let events: Vec<_> = store
        .history(&id, (page * HISTORY_PAGE) as usize, HISTORY_PAGE as usize)?
        .into_iter()
        .map(|e| {
            let text = e.change.describe_with(|m| names.label(m));
            (e, text)
        })
        .collect();
    let mut macs: Vec<_> = events.iter().flat_map(|(e, _)| e.change.macs()).collect();
    macs.sort();
    macs.dedup();
    Ok(HistoryPage {
        labels: macs.into_iter().map(|m| (m, names.label(m))).collect(),
        events,
        total: store.history_len(&id)? as u32,
        page,
    })
}

/// Restricts which registered instances (ENI ids) may hold the HAVIP; an empty list allows any.
/// (JSON input: a form encoding cannot tell an empty list from a missing one.)
#[server(input = Json, endpoint = "set_allowed_holders")]
pub async fn set_allowed_holders(
    havip_id: HavipId,
    eni_ids: Vec<EniId>,
) -> Result<Havip, ApiError> {
    super::store(super::roles::role_for("set_allowed_holders"))?
        .set_allowed_holders(&havip_id, &eni_ids)
        .await
}
