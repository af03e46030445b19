//! What the actions share: the request's region, IDs, filters, paging, tasks, and the lookups
//! that keep a key to its region.

use super::Ctx;
use crate::tcapi::errors::TcError;
use crate::tcapi::params::decode;
use app::domain::ids::{EipId, HavipId, VpcId};
use app::domain::model::{Havip, Region};
use app::store::Store;
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub fn region(store: &Store, asked: &str) -> Result<Region, TcError> {
    let regions = store.regions().map_err(TcError::from)?;
    if asked.is_empty() {
        return regions
            .into_iter()
            .next()
            .ok_or_else(|| TcError::new("InternalError", "No region."));
    }
    regions
        .into_iter()
        .find(|r| r.id == asked || region_code(&r.name) == asked.to_ascii_lowercase())
        .ok_or_else(|| {
            TcError::new(
                "UnsupportedRegion",
                format!("The region {asked} does not exist here (regions are ap- and the console's region name, e.g. ap-default)."),
            )
        })
}

/// `ap-` and the name, lower case, every run of other characters a dash.
pub fn region_code(name: &str) -> String {
    let mut code = String::from("ap-");
    for c in name.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            code.push(c);
        } else if !code.ends_with('-') {
            code.push('-');
        }
    }
    code.trim_end_matches('-').to_string()
}

pub(super) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(super) fn id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, TcError> {
    text.trim().parse().map_err(|_| {
        TcError::new(
            "InvalidParameterValue.Malformed",
            format!("{text:?} is not a valid {what} id."),
        )
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Filter {
    pub(super) name: String,
    #[serde(default)]
    pub(super) values: Vec<String>,
}

/// Filters: at most 10, each with at most 5 values; AND across filters, OR within one.
pub(super) fn check_filters(filters: &[Filter], known: &[&str]) -> Result<(), TcError> {
    if filters.len() > 10 || filters.iter().any(|f| f.values.len() > 5) {
        return Err(TcError::new(
            "InvalidParameterValue.LimitExceeded",
            "At most 10 filters with at most 5 values each.",
        ));
    }
    if let Some(f) = filters.iter().find(|f| !known.contains(&f.name.as_str())) {
        return Err(TcError::new(
            "InvalidParameter.FilterInvalidKey",
            format!(
                "Unknown filter {:?}; use one of {}.",
                f.name,
                known.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Whether an item is asked for: its `id` among `ids` (none given: every item), and for every
/// filter, what `field` reads of the item under the filter's name among the filter's values.
pub(super) fn wanted(
    ids: &[String],
    id: &str,
    filters: &[Filter],
    field: impl Fn(&str) -> String,
) -> bool {
    (ids.is_empty() || ids.iter().any(|i| i == id))
        && filters.iter().all(|f| f.values.contains(&field(&f.name)))
}

/// Offset (default 0) and Limit (default 20, at most 100).
pub(super) fn page(offset: Option<u64>, limit: Option<u64>) -> Result<(usize, usize), TcError> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(TcError::new(
            "InvalidParameterValue.Range",
            format!("Limit {limit} is outside 1-100."),
        ));
    }
    Ok((offset.unwrap_or(0) as usize, limit as usize))
}

pub(super) fn list(
    items: Vec<Value>,
    set: &str,
    offset: usize,
    limit: usize,
) -> Map<String, Value> {
    let total = items.len();
    let shown: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    object(json!({ "TotalCount": total, set: shown }))
}

/// Asynchronous actions finish before they answer; their task is their RequestId, which
/// every replica knows. (Not remembered, the action is still done: it answers as such.)
pub(super) fn task(ctx: &Ctx) -> Map<String, Value> {
    if let Err(e) = ctx.store.remember_api_task(&ctx.request_id) {
        tracing::warn!("remembering task {}: {}", ctx.request_id, e.message);
    }
    object(json!({ "TaskId": ctx.request_id }))
}

/// An HAVIP of the request's region.
pub(super) fn own_havip(ctx: &Ctx, text: &str) -> Result<Havip, TcError> {
    let havip = ctx
        .store
        .havip(&id::<HavipId>(text, "HAVIP")?)
        .map_err(TcError::from)?;
    if havip.region_id != ctx.region.id {
        return Err(TcError::new(
            "ResourceNotFound",
            format!(
                "HAVIP {} is not in region {}.",
                havip.id,
                region_code(&ctx.region.name)
            ),
        ));
    }
    Ok(havip)
}

pub(super) fn own_vpc(ctx: &Ctx, text: &str) -> Result<VpcId, TcError> {
    let vpc = ctx
        .store
        .vpc(&id::<VpcId>(text, "VPC")?)
        .map_err(TcError::from)?;
    if vpc.region_id != ctx.region.id {
        return Err(TcError::new(
            "ResourceNotFound",
            format!(
                "VPC {} is not in region {}.",
                vpc.id,
                region_code(&ctx.region.name)
            ),
        ));
    }
    Ok(vpc.id)
}

pub(super) fn eip_by_ip(ctx: &Ctx, ip: &str) -> Result<EipId, TcError> {
    let parsed: std::net::Ipv4Addr = ip.trim().parse().map_err(|_| {
        TcError::new(
            "InvalidParameterValue.Malformed",
            format!("AddressIp {ip:?} is not an IPv4 address."),
        )
    })?;
    ctx.store
        .eips()
        .map_err(TcError::from)?
        .into_iter()
        .find(|e| e.ip == parsed)
        .map(|e| e.id)
        .ok_or_else(|| TcError::new("ResourceNotFound", format!("No EIP {parsed}.")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskId {
    task_id: String,
}

pub(super) fn task_result(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: TaskId = decode(params)?;
    if !ctx
        .store
        .api_task_known(&p.task_id)
        .map_err(TcError::from)?
    {
        return Err(TcError::new(
            "ResourceNotFound",
            format!("No task {}.", p.task_id),
        ));
    }
    Ok(object(json!({ "Status": "SUCCESS", "Output": "" })))
}

#[cfg(test)]
mod tests {
    use super::region_code;

    #[test]
    fn region_codes_from_names() {
        assert_eq!(region_code("Default"), "ap-default");
        assert_eq!(region_code("  Shanghai East 2 "), "ap-shanghai-east-2");
        assert_eq!(region_code("a/b"), "ap-a-b");
    }
}
