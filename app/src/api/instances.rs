use crate::domain::error::ApiError;
use crate::domain::ids::{EniId, RegionId, SubnetId};
use crate::domain::model::Instance;
use crate::domain::pages::InstancesData;
use leptos::prelude::*;

#[server(endpoint = "instances_page")]
pub async fn instances_page(region_id: Option<RegionId>) -> Result<InstancesData, ApiError> {
    let store = super::store(super::roles::role_for("instances_page"))?;
    let (regions, region_id) = super::pick_region(&store, region_id)?;
    let networks = store.network_view(&region_id)?;
    let in_region = |subnet_id: &SubnetId| {
        networks
            .iter()
            .any(|v| v.subnets.iter().any(|s| s.subnet.id == *subnet_id))
    };
    let mut instances = store.instances()?;
    instances.retain(|i| i.region_id == region_id);
    let mut discovered = store.discovered()?;
    discovered.retain(|s| in_region(&s.subnet_id));
    Ok(InstancesData {
        regions,
        region_id,
        networks,
        instances,
        discovered,
    })
}

/// Registers an instance with its primary ENI: MAC and primary IP (inside the subnet, free).
#[server(endpoint = "register_instance")]
pub async fn register_instance(
    name: String,
    subnet_id: SubnetId,
    mac: String,
    ip: String,
) -> Result<Instance, ApiError> {
    use crate::store::NewInstance;
    super::store(super::roles::role_for("register_instance"))?
        .register_instance(NewInstance {
            name,
            subnet_id,
            mac,
            ip,
        })
        .await
}

#[server(endpoint = "deregister_instance")]
pub async fn deregister_instance(eni_id: EniId) -> Result<Instance, ApiError> {
    super::store(super::roles::role_for("deregister_instance"))?
        .deregister_instance(&eni_id)
        .await
}
