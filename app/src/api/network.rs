use crate::domain::error::ApiError;
use crate::domain::ids::{RegionId, VpcId};
use crate::domain::model::{Region, Subnet, Vpc};
use crate::domain::pages::NetworkData;
use leptos::prelude::*;

#[server(endpoint = "network_page")]
pub async fn network_page(region_id: Option<RegionId>) -> Result<NetworkData, ApiError> {
    let store = super::store(super::roles::role_for("network_page"))?;
    let (regions, region_id) = super::pick_region(&store, region_id)?;
    Ok(NetworkData {
        vpcs: store.network_view(&region_id)?,
        regions,
        region_id,
    })
}

#[server(endpoint = "create_region")]
pub async fn create_region(name: String) -> Result<Region, ApiError> {
    super::store(super::roles::role_for("create_region"))?
        .create_region(&name)
        .await
}

#[server(endpoint = "create_vpc")]
pub async fn create_vpc(region_id: RegionId, name: String, cidr: String) -> Result<Vpc, ApiError> {
    super::store(super::roles::role_for("create_vpc"))?
        .create_vpc(&region_id, &name, &cidr)
        .await
}

#[server(endpoint = "create_subnet")]
pub async fn create_subnet(vpc_id: VpcId, name: String, cidr: String) -> Result<Subnet, ApiError> {
    super::store(super::roles::role_for("create_subnet"))?
        .create_subnet(&vpc_id, &name, &cidr)
        .await
}
