//! EIPs (Tencent's "addresses"): allocate, describe, release.

use super::common::{check_filters, id, list, page, task, Filter};
use super::Ctx;
use crate::tcapi::errors::TcError;
use crate::tcapi::params::{decode, number};
use crate::tcapi::shapes;
use app::domain::ids::EipId;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AllocateAddresses {
    #[serde(default, deserialize_with = "number")]
    address_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddressIds {
    address_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAddresses {
    address_ids: Option<Vec<String>>,
    filters: Option<Vec<Filter>>,
    #[serde(default, deserialize_with = "number")]
    offset: Option<u64>,
    #[serde(default, deserialize_with = "number")]
    limit: Option<u64>,
}

pub(super) async fn allocate(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: AllocateAddresses = decode(params)?;
    let count = p.address_count.unwrap_or(1);
    if !(1..=100).contains(&count) {
        return Err(TcError::new(
            "InvalidParameterValue.Range",
            format!("AddressCount {count} is outside 1-100."),
        ));
    }
    let mut ids = vec![];
    for _ in 0..count {
        ids.push(ctx.store.allocate_eip().await?.id.to_string());
    }
    let mut answer = task(ctx);
    answer.insert("AddressSet".into(), json!(ids));
    Ok(answer)
}

pub(super) fn describe(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: DescribeAddresses = decode(params)?;
    let filters = p.filters.unwrap_or_default();
    check_filters(&filters, &["address-id", "address-ip", "address-status"])?;
    let ids = p.address_ids.unwrap_or_default();
    for i in &ids {
        ctx.store
            .eip(&id::<EipId>(i, "address")?)
            .map_err(TcError::from)?;
    }
    let (offset, limit) = page(p.offset, p.limit)?;
    let items = ctx
        .store
        .eips()
        .map_err(TcError::from)?
        .iter()
        .filter(|e| ids.is_empty() || ids.iter().any(|i| i == e.id.as_str()))
        .filter(|e| {
            filters.iter().all(|f| {
                let value = match f.name.as_str() {
                    "address-id" => e.id.to_string(),
                    "address-ip" => e.ip.to_string(),
                    _ => if e.havip_id.is_some() {
                        "BIND"
                    } else {
                        "UNBIND"
                    }
                    .to_string(),
                };
                f.values.contains(&value)
            })
        })
        .map(shapes::address)
        .collect();
    Ok(list(items, "AddressSet", offset, limit))
}

pub(super) async fn release(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: AddressIds = decode(params)?;
    let ids: Vec<EipId> = p
        .address_ids
        .iter()
        .map(|a| id(a, "address"))
        .collect::<Result<_, _>>()?;
    for eip in &ids {
        ctx.store.eip(eip).map_err(TcError::from)?;
    }
    for eip in &ids {
        ctx.store.release_eip(eip).await?;
    }
    Ok(task(ctx))
}
