//! VPCs and subnets: describe, create, delete; the HAVIP quota.

use super::common::{check_filters, id, list, object, own_vpc, page, wanted, Filter};
use super::Ctx;
use crate::tcapi::errors::TcError;
use crate::tcapi::params::{decode, number};
use crate::tcapi::shapes;
use app::domain::ids::SubnetId;
use serde::Deserialize;
use serde_json::{json, Map, Value};

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

pub(super) fn describe_vpcs(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: DescribeNetwork = decode(params)?;
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
        .filter(|(_, v)| {
            wanted(&ids, v.vpc.id.as_str(), &filters, |name| match name {
                "vpc-id" => v.vpc.id.to_string(),
                "vpc-name" => v.vpc.name.clone(),
                _ => v.vpc.cidr.to_string(),
            })
        })
        .map(|(n, v)| shapes::vpc(&v.vpc, n == 0))
        .collect();
    Ok(list(items, "VpcSet", offset, limit))
}

pub(super) fn describe_subnets(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: DescribeNetwork = decode(params)?;
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
        .filter(|(_, s)| {
            wanted(&ids, s.subnet.id.as_str(), &filters, |name| match name {
                "vpc-id" => s.subnet.vpc_id.to_string(),
                "subnet-id" => s.subnet.id.to_string(),
                "subnet-name" => s.subnet.name.clone(),
                _ => s.subnet.cidr.to_string(),
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

pub(super) async fn create_vpc(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: NewVpc = decode(params)?;
    let vpc = ctx
        .store
        .create_vpc(&ctx.region.id, &p.vpc_name, &p.cidr_block)
        .await?;
    Ok(object(json!({ "Vpc": shapes::vpc(&vpc, false) })))
}

pub(super) async fn create_subnet(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
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

pub(super) async fn delete_subnet(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: SubnetOnly = decode(params)?;
    let subnet: SubnetId = id(&p.subnet_id, "subnet")?;
    let vpc = ctx.store.subnet(&subnet).map_err(TcError::from)?.vpc_id;
    own_vpc(ctx, vpc.as_str())?;
    ctx.store.delete_subnet(&subnet).await?;
    Ok(Map::new())
}

pub(super) async fn delete_vpc(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
    let p: VpcOnly = decode(params)?;
    let vpc = own_vpc(ctx, &p.vpc_id)?;
    ctx.store.delete_vpc(&vpc).await?;
    Ok(Map::new())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VpcLimits {
    #[serde(default)]
    limit_types: Vec<String>,
}

pub(super) fn limits(ctx: &Ctx, params: Value) -> Result<Map<String, Value>, TcError> {
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
