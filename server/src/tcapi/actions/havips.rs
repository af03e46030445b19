//! HAVIPs: create, describe, rename, delete, EIP and instance associations.

use super::common::{
    check_filters, eip_by_ip, id, list, object, own_havip, own_vpc, page, task, Filter,
};
use super::Ctx;
use crate::tcapi::errors::TcError;
use crate::tcapi::params::{decode, number};
use crate::tcapi::shapes;
use app::domain::ids::{EniId, HavipId};
use app::domain::model::{Havip, Instance, IpChoice, NewHavip};
use app::store::{ClientToken, Created};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateHaVip {
    vpc_id: String,
    subnet_id: Option<String>,
    ha_vip_name: String,
    vip: Option<String>,
    network_interface_id: Option<String>,
    client_token: Option<String>,
}

pub(super) async fn create(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: CreateHaVip = decode(params)?;
    if p.network_interface_id.is_some() {
        return Err(TcError::new(
            "UnsupportedOperation",
            "NetworkInterfaceId is not supported here: give SubnetId.",
        ));
    }
    let Some(subnet) = p.subnet_id.as_deref() else {
        return Err(TcError::new("MissingParameter", "SubnetId is required."));
    };
    let request = NewHavip {
        region_id: ctx.region.id.clone(),
        name: p.ha_vip_name.clone(),
        vpc_id: own_vpc(ctx, &p.vpc_id)?,
        subnet_id: id(subnet, "subnet")?,
        ip: match p.vip.as_deref().map(str::trim) {
            None | Some("") => IpChoice::Automatic,
            Some(ip) => IpChoice::Manual(ip.to_string()),
        },
    };
    let instances = ctx.store.instances().map_err(TcError::from)?;
    let Some(token) = p.client_token.as_deref().filter(|t| !t.is_empty()) else {
        let havip = ctx.store.create_havip(request).await?;
        return Ok(object(
            json!({ "HaVip": shapes::havip(&havip, &instances) }),
        ));
    };
    if token.chars().count() > 64 {
        return Err(TcError::new(
            "InvalidParameterValue.TooLong",
            "ClientToken has more than 64 characters.",
        ));
    }
    // the same token with the same parameters answers the first result; with others, refused
    let token = ClientToken {
        key: format!("{}:{token}", ctx.key_id),
        fingerprint: json!([p.vpc_id, subnet, p.ha_vip_name, p.vip]).to_string(),
    };
    let havip = match ctx.store.create_havip_once(request, Some(&token)).await? {
        Created::New(havip) => *havip,
        // the same token with the same parameters answers the first result; with others, refused
        Created::Earlier(earlier) if earlier.fingerprint == token.fingerprint => {
            ctx.store.havip(&earlier.havip_id).map_err(TcError::from)?
        }
        Created::Earlier(_) => {
            return Err(TcError::new(
                "UnsupportedOperation.IdempotentParameterMismatch",
                "This ClientToken was used with other parameters.",
            ))
        }
    };
    Ok(object(
        json!({ "HaVip": shapes::havip(&havip, &instances) }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeHaVips {
    ha_vip_ids: Option<Vec<String>>,
    filters: Option<Vec<Filter>>,
    #[serde(default, deserialize_with = "number")]
    offset: Option<u64>,
    #[serde(default, deserialize_with = "number")]
    limit: Option<u64>,
}

const HAVIP_FILTERS: &[&str] = &[
    "havip-id",
    "havip-name",
    "vpc-id",
    "subnet-id",
    "vip",
    "address-ip",
    "havip-association.instance-id",
    "havip-association.instance-type",
    "check-associate",
];

fn havip_matches(h: &Havip, f: &Filter, instances: &[Instance]) -> bool {
    let any = |text: &str| f.values.iter().any(|v| v == text);
    let holders = || {
        h.allowed
            .iter()
            .filter_map(|e| instances.iter().find(|i| i.eni_id == *e))
    };
    match f.name.as_str() {
        "havip-id" => any(h.id.as_str()),
        "havip-name" => any(&h.name),
        "vpc-id" => any(h.vpc_id.as_str()),
        "subnet-id" => any(h.subnet_id.as_str()),
        "vip" => any(&h.ip.to_string()),
        "address-ip" => h.eip.is_some_and(|ip| any(&ip.to_string())),
        "havip-association.instance-id" => {
            holders().any(|i| any(i.id.as_str()) || any(i.eni_id.as_str()))
        }
        "havip-association.instance-type" => !h.allowed.is_empty() && (any("CVM") || any("ENI")),
        "check-associate" => any(if h.allowed.is_empty() {
            "false"
        } else {
            "true"
        }),
        _ => false,
    }
}

pub(super) fn describe(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: DescribeHaVips = decode(params)?;
    let filters = p.filters.unwrap_or_default();
    let ids = p.ha_vip_ids.unwrap_or_default();
    if !ids.is_empty() && !filters.is_empty() {
        return Err(TcError::new(
            "InvalidParameter.Coexist",
            "HaVipIds and Filters cannot be given together.",
        ));
    }
    check_filters(&filters, HAVIP_FILTERS)?;
    let (offset, limit) = page(p.offset, p.limit)?;
    let instances = ctx.store.instances().map_err(TcError::from)?;
    let shape = |havips: Vec<Havip>| {
        havips
            .iter()
            .map(|h| shapes::havip(h, &instances))
            .collect()
    };
    if !ids.is_empty() {
        let mut havips: Vec<Havip> = ids
            .iter()
            .map(|i| own_havip(ctx, i))
            .collect::<Result<_, _>>()?;
        havips.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        return Ok(list(shape(havips), "HaVipSet", offset, limit));
    }
    // the region's HAVIPs in order from the list index: without filters only the page's
    // records are decoded
    let decode = |id: &HavipId| ctx.store.havip_if_any(id).map_err(TcError::from);
    if filters.is_empty() {
        let (ids, total) = ctx
            .store
            .havip_ids_newest_first(&ctx.region.id, offset, limit);
        let mut page = vec![];
        for id in &ids {
            page.extend(decode(id)?);
        }
        return Ok(object(
            json!({ "TotalCount": total, "HaVipSet": shape(page) }),
        ));
    }
    let (newest_first, _) = ctx
        .store
        .havip_ids_newest_first(&ctx.region.id, 0, usize::MAX);
    let mut matching = vec![];
    for id in &newest_first {
        matching.extend(
            decode(id)?.filter(|h| filters.iter().all(|f| havip_matches(h, f, &instances))),
        );
    }
    Ok(list(shape(matching), "HaVipSet", offset, limit))
}

pub(super) async fn rename(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: HaVipName = decode(params)?;
    let havip = own_havip(ctx, &p.ha_vip_id)?;
    ctx.store.rename_havip(&havip.id, &p.ha_vip_name).await?;
    Ok(Map::new())
}

pub(super) async fn delete(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: HaVipOnly = decode(params)?;
    let havip = own_havip(ctx, &p.ha_vip_id)?;
    ctx.store.delete_havip(&havip.id).await?;
    Ok(Map::new())
}

pub(super) async fn associate_address(
    ctx: &Ctx,
    params: Value,
) -> Result<Map<String, Value>, TcError> {
    let p: AddressOfHaVip = decode(params)?;
    let havip = own_havip(ctx, &p.ha_vip_id)?;
    let eip = eip_by_ip(ctx, p.address_ip.as_deref().unwrap_or(""))?;
    ctx.store.bind_eip(&eip, &havip.id).await?;
    Ok(task(ctx))
}

pub(super) async fn disassociate_address(
    ctx: &Ctx,
    params: Value,
) -> Result<Map<String, Value>, TcError> {
    let p: HaVipOnly = decode(params)?;
    let havip = own_havip(ctx, &p.ha_vip_id)?;
    let Some(ip) = havip.eip else {
        return Err(TcError::new(
            "UnsupportedOperation.UnbindEIP",
            format!("HAVIP {} has no EIP bound.", havip.id),
        ));
    };
    let eip = eip_by_ip(ctx, &ip.to_string())?;
    ctx.store.unbind_eip(&eip).await?;
    Ok(task(ctx))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HaVipOnly {
    ha_vip_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HaVipName {
    ha_vip_id: String,
    ha_vip_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddressOfHaVip {
    ha_vip_id: String,
    address_ip: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Association {
    ha_vip_id: String,
    instance_id: String,
    instance_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Associations {
    ha_vip_association_set: Vec<Association>,
}

/// `AssociateHaVipInstance` (`add`) and `DisassociateHaVipInstance`.
pub(super) async fn associate(
    ctx: &Ctx,
    params: Value,
    add: bool,
) -> Result<Map<String, Value>, TcError> {
    let p: Associations = decode(params)?;
    if p.ha_vip_association_set.is_empty() || p.ha_vip_association_set.len() > 10 {
        return Err(TcError::new(
            "InvalidParameterValue.LimitExceeded",
            "HaVipAssociationSet needs 1 to 10 associations.",
        ));
    }
    let instances = ctx.store.instances().map_err(TcError::from)?;
    // every association is checked before anything changes
    let mut changes: Vec<(HavipId, Vec<EniId>)> = vec![];
    for a in &p.ha_vip_association_set {
        let havip = own_havip(ctx, &a.ha_vip_id)?;
        let eni = match a.instance_type.as_deref().unwrap_or("CVM") {
            "CVM" | "ENI" => instances
                .iter()
                .find(|i| i.id.as_str() == a.instance_id || i.eni_id.as_str() == a.instance_id)
                .map(|i| i.eni_id.clone())
                .ok_or_else(|| {
                    TcError::new(
                        "ResourceNotFound",
                        format!("No registered instance {}.", a.instance_id),
                    )
                })?,
            other => {
                return Err(TcError::new(
                    "InvalidParameterValue",
                    format!("InstanceType {other:?}: use CVM or ENI."),
                ))
            }
        };
        let entry = match changes.iter_mut().find(|(h, _)| *h == havip.id) {
            Some(entry) => entry,
            None => {
                changes.push((havip.id.clone(), havip.allowed.clone()));
                changes.last_mut().expect("just pushed")
            }
        };
        if add && !entry.1.contains(&eni) {
            entry.1.push(eni);
        } else if !add {
            entry.1.retain(|e| *e != eni);
        }
    }
    for (havip, allowed) in changes {
        ctx.store.set_allowed_holders(&havip, &allowed).await?;
    }
    Ok(task(ctx))
}
