//! The actions: each decodes its parameters, calls the store functions the console's server
//! functions call, and shapes the answer.

use super::errors::TcError;
use super::params::{decode, number};
use super::{shapes, TcApi};
use app::domain::auth::Role;
use app::domain::ids::{EipId, EniId, HavipId, SubnetId, VpcId};
use app::domain::model::{Havip, Instance, IpChoice, NewHavip, Region};
use app::store::Store;
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub struct Ctx<'a> {
    pub api: &'a TcApi,
    /// acting for the key's user (the audit log names the key)
    pub store: Store,
    pub region: Region,
    pub key_id: String,
    pub request_id: String,
}

/// The least role an action needs; `None` for an action this console does not know.
pub fn role_for(action: &str) -> Option<Role> {
    Some(match action {
        "DescribeHaVips"
        | "DescribeVpcs"
        | "DescribeSubnets"
        | "DescribeAddresses"
        | "DescribeVpcLimits"
        | "DescribeVpcTaskResult" => Role::Viewer,
        "CreateHaVip"
        | "ModifyHaVipAttribute"
        | "DeleteHaVip"
        | "HaVipAssociateAddressIp"
        | "HaVipDisassociateAddressIp"
        | "AssociateHaVipInstance"
        | "DisassociateHaVipInstance"
        | "AllocateAddresses"
        | "ReleaseAddresses" => Role::Operator,
        "CreateVpc" | "CreateSubnet" | "DeleteSubnet" | "DeleteVpc" => Role::Admin,
        _ => return None,
    })
}

/// The region of `X-TC-Region`: `ap-` and the region's name in lower case with dashes
/// (`ap-default` for the seeded "Default"), or the console's region id; none given: the first.
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

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, TcError> {
    text.trim().parse().map_err(|_| {
        TcError::new(
            "InvalidParameterValue.Malformed",
            format!("{text:?} is not a valid {what} id."),
        )
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    name: String,
    #[serde(default)]
    values: Vec<String>,
}

/// Filters: at most 10, each with at most 5 values; AND across filters, OR within one.
fn check_filters(filters: &[Filter], known: &[&str]) -> Result<(), TcError> {
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

/// Offset (default 0) and Limit (default 20, at most 100).
fn page(offset: Option<u64>, limit: Option<u64>) -> Result<(usize, usize), TcError> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(TcError::new(
            "InvalidParameterValue.Range",
            format!("Limit {limit} is outside 1-100."),
        ));
    }
    Ok((offset.unwrap_or(0) as usize, limit as usize))
}

fn list(items: Vec<Value>, set: &str, offset: usize, limit: usize) -> Map<String, Value> {
    let total = items.len();
    let shown: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    object(json!({ "TotalCount": total, set: shown }))
}

pub async fn run(
    ctx: &Ctx<'_>,
    action: &str,
    params: Value,
) -> Result<Map<String, Value>, TcError> {
    match action {
        "CreateHaVip" => create_havip(ctx, decode(params)?).await,
        "DescribeHaVips" => describe_havips(ctx, decode(params)?),
        "ModifyHaVipAttribute" => {
            let p: HaVipName = decode(params)?;
            let havip = own_havip(ctx, &p.ha_vip_id)?;
            ctx.store.rename_havip(&havip.id, &p.ha_vip_name).await?;
            Ok(Map::new())
        }
        "DeleteHaVip" => {
            let p: HaVipOnly = decode(params)?;
            let havip = own_havip(ctx, &p.ha_vip_id)?;
            ctx.store.delete_havip(&havip.id).await?;
            Ok(Map::new())
        }
        "HaVipAssociateAddressIp" => {
            let p: AddressOfHaVip = decode(params)?;
            let havip = own_havip(ctx, &p.ha_vip_id)?;
            let eip = eip_by_ip(ctx, p.address_ip.as_deref().unwrap_or(""))?;
            ctx.store.bind_eip(&eip, &havip.id).await?;
            Ok(task(ctx))
        }
        "HaVipDisassociateAddressIp" => {
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
        "AssociateHaVipInstance" => associate(ctx, decode(params)?, true).await,
        "DisassociateHaVipInstance" => associate(ctx, decode(params)?, false).await,
        "DescribeVpcs" => describe_vpcs(ctx, decode(params)?),
        "DescribeSubnets" => describe_subnets(ctx, decode(params)?),
        "CreateVpc" => {
            let p: NewVpc = decode(params)?;
            let vpc = ctx
                .store
                .create_vpc(&ctx.region.id, &p.vpc_name, &p.cidr_block)
                .await?;
            Ok(object(json!({ "Vpc": shapes::vpc(&vpc, false) })))
        }
        "CreateSubnet" => {
            let p: NewSubnet = decode(params)?;
            let vpc = own_vpc(ctx, &p.vpc_id)?;
            let subnet = ctx
                .store
                .create_subnet(&vpc, &p.subnet_name, &p.cidr_block)
                .await?;
            let usable = app::domain::ip::usable_count(subnet.cidr);
            Ok(object(
                json!({ "Subnet": shapes::subnet(&subnet, usable, usable, false) }),
            ))
        }
        "DeleteSubnet" => {
            let p: SubnetOnly = decode(params)?;
            let subnet: SubnetId = id(&p.subnet_id, "subnet")?;
            let vpc = ctx.store.subnet(&subnet).map_err(TcError::from)?.vpc_id;
            own_vpc(ctx, vpc.as_str())?;
            ctx.store.delete_subnet(&subnet).await?;
            Ok(Map::new())
        }
        "DeleteVpc" => {
            let p: VpcOnly = decode(params)?;
            let vpc = own_vpc(ctx, &p.vpc_id)?;
            ctx.store.delete_vpc(&vpc).await?;
            Ok(Map::new())
        }
        "AllocateAddresses" => {
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
        "DescribeAddresses" => describe_addresses(ctx, decode(params)?),
        "ReleaseAddresses" => {
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
        "DescribeVpcLimits" => {
            let p: VpcLimits = decode(params)?;
            let quota = ctx.store.config().havip_quota_per_vpc;
            let limits: Vec<Value> = p
                .limit_types
                .iter()
                .filter(|t| t.as_str() == "vpc-max-havips")
                .map(|t| json!({"LimitType": t, "LimitValue": quota}))
                .collect();
            Ok(object(json!({ "VpcLimitSet": limits })))
        }
        "DescribeVpcTaskResult" => {
            let p: TaskId = decode(params)?;
            if !ctx.api.knows_task(&p.task_id) {
                return Err(TcError::new(
                    "ResourceNotFound",
                    format!("No task {}.", p.task_id),
                ));
            }
            Ok(object(json!({ "Status": "SUCCESS", "Output": "" })))
        }
        _ => Err(TcError::new(
            "InvalidAction",
            format!("{action} is not supported."),
        )),
    }
}

/// Asynchronous actions finish before they answer; their task is their RequestId.
fn task(ctx: &Ctx) -> Map<String, Value> {
    ctx.api.remember_task(&ctx.request_id);
    object(json!({ "TaskId": ctx.request_id }))
}

/// An HAVIP of the request's region.
fn own_havip(ctx: &Ctx, text: &str) -> Result<Havip, TcError> {
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

fn own_vpc(ctx: &Ctx, text: &str) -> Result<VpcId, TcError> {
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

fn eip_by_ip(ctx: &Ctx, ip: &str) -> Result<EipId, TcError> {
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
struct CreateHaVip {
    vpc_id: String,
    subnet_id: Option<String>,
    ha_vip_name: String,
    vip: Option<String>,
    network_interface_id: Option<String>,
    client_token: Option<String>,
}

async fn create_havip(ctx: &Ctx<'_>, p: CreateHaVip) -> Result<Map<String, Value>, TcError> {
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
    let fingerprint = json!([p.vpc_id, subnet, p.ha_vip_name, p.vip]).to_string();
    let key = format!("{}:{token}", ctx.key_id);
    let _one_at_a_time = ctx.api.creating.lock().await;
    if let Some((seen, havip_id)) = ctx.store.client_token(&key).map_err(TcError::from)? {
        if seen != fingerprint {
            return Err(TcError::new(
                "UnsupportedOperation.IdempotentParameterMismatch",
                "This ClientToken was used with other parameters.",
            ));
        }
        let havip = ctx.store.havip(&havip_id).map_err(TcError::from)?;
        return Ok(object(
            json!({ "HaVip": shapes::havip(&havip, &instances) }),
        ));
    }
    let havip = ctx.store.create_havip(request).await?;
    ctx.store
        .remember_client_token(&key, &fingerprint, &havip.id)
        .map_err(TcError::from)?;
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

fn describe_havips(ctx: &Ctx, p: DescribeHaVips) -> Result<Map<String, Value>, TcError> {
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

/// Adds instances to (or removes them from) HAVIPs' allowed holders.
async fn associate(
    ctx: &Ctx<'_>,
    p: Associations,
    add: bool,
) -> Result<Map<String, Value>, TcError> {
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

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeNetwork {
    vpc_ids: Option<Vec<String>>,
    subnet_ids: Option<Vec<String>>,
    filters: Option<Vec<Filter>>,
    #[serde(default, deserialize_with = "number")]
    offset: Option<u64>,
    #[serde(default, deserialize_with = "number")]
    limit: Option<u64>,
}

fn describe_vpcs(ctx: &Ctx, p: DescribeNetwork) -> Result<Map<String, Value>, TcError> {
    let filters = p.filters.unwrap_or_default();
    check_filters(&filters, &["vpc-id", "vpc-name", "cidr-block"])?;
    let ids = p.vpc_ids.unwrap_or_default();
    let (offset, limit) = page(p.offset, p.limit)?;
    for i in &ids {
        own_vpc(ctx, i)?;
    }
    let views = ctx
        .store
        .network_view(&ctx.region.id)
        .map_err(TcError::from)?;
    let items = views
        .iter()
        .enumerate()
        .filter(|(_, v)| ids.is_empty() || ids.iter().any(|i| i == v.vpc.id.as_str()))
        .filter(|(_, v)| {
            filters.iter().all(|f| {
                let value = match f.name.as_str() {
                    "vpc-id" => v.vpc.id.to_string(),
                    "vpc-name" => v.vpc.name.clone(),
                    _ => v.vpc.cidr.to_string(),
                };
                f.values.contains(&value)
            })
        })
        .map(|(n, v)| shapes::vpc(&v.vpc, n == 0))
        .collect();
    Ok(list(items, "VpcSet", offset, limit))
}

fn describe_subnets(ctx: &Ctx, p: DescribeNetwork) -> Result<Map<String, Value>, TcError> {
    let filters = p.filters.unwrap_or_default();
    check_filters(
        &filters,
        &["vpc-id", "subnet-id", "subnet-name", "cidr-block"],
    )?;
    let ids = p.subnet_ids.unwrap_or_default();
    for i in &ids {
        let subnet = ctx
            .store
            .subnet(&id::<SubnetId>(i, "subnet")?)
            .map_err(TcError::from)?;
        own_vpc(ctx, subnet.vpc_id.as_str())?;
    }
    let (offset, limit) = page(p.offset, p.limit)?;
    let views = ctx
        .store
        .network_view(&ctx.region.id)
        .map_err(TcError::from)?;
    let items = views
        .iter()
        .flat_map(|v| v.subnets.iter())
        .enumerate()
        .filter(|(_, s)| ids.is_empty() || ids.iter().any(|i| i == s.subnet.id.as_str()))
        .filter(|(_, s)| {
            filters.iter().all(|f| {
                let value = match f.name.as_str() {
                    "vpc-id" => s.subnet.vpc_id.to_string(),
                    "subnet-id" => s.subnet.id.to_string(),
                    "subnet-name" => s.subnet.name.clone(),
                    _ => s.subnet.cidr.to_string(),
                };
                f.values.contains(&value)
            })
        })
        .map(|(n, s)| shapes::subnet(&s.subnet, s.usable, s.free, n == 0))
        .collect();
    Ok(list(items, "SubnetSet", offset, limit))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewVpc {
    vpc_name: String,
    cidr_block: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewSubnet {
    vpc_id: String,
    subnet_name: String,
    cidr_block: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SubnetOnly {
    subnet_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VpcOnly {
    vpc_id: String,
}

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

fn describe_addresses(ctx: &Ctx, p: DescribeAddresses) -> Result<Map<String, Value>, TcError> {
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

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VpcLimits {
    #[serde(default)]
    limit_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskId {
    task_id: String,
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
