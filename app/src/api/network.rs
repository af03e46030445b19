use crate::domain::error::ApiError;
use crate::domain::model::{Region, Subnet, Vpc, VpcView};
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkData {
    pub regions: Vec<Region>,
    pub region_id: String,
    pub vpcs: Vec<VpcView>,
}

#[server]
pub async fn network_page(region_id: Option<String>) -> Result<NetworkData, ApiError> {
    let store = super::store()?;
    let (regions, region_id) = super::pick_region(&store, region_id)?;
    Ok(NetworkData {
        vpcs: store.network_view(&region_id)?,
        regions,
        region_id,
    })
}

#[server]
pub async fn create_region(name: String) -> Result<Region, ApiError> {
    super::store()?.create_region(&name).await
}

#[server]
pub async fn create_vpc(region_id: String, name: String, cidr: String) -> Result<Vpc, ApiError> {
    super::store()?.create_vpc(&region_id, &name, &cidr).await
}

#[server]
pub async fn create_subnet(vpc_id: String, name: String, cidr: String) -> Result<Subnet, ApiError> {
    super::store()?.create_subnet(&vpc_id, &name, &cidr).await
}
