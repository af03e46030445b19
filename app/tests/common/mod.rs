//! Helpers shared by the store tests.
use app::domain::ids::{RegionId, SubnetId, VpcId};
use app::domain::model::{IpChoice, NewHavip};
use app::store::Store;

pub fn request(
    store: &Store,
    vpc: &VpcId,
    subnet: &SubnetId,
    name: &str,
    ip: IpChoice,
) -> NewHavip {
    let region_id = store.vpc(vpc).unwrap().region_id;
    NewHavip {
        region_id,
        name: name.into(),
        vpc_id: vpc.clone(),
        subnet_id: subnet.clone(),
        ip,
    }
}

/// The seeded region, its VPC and subnet 172.16.16.0/24.
pub fn seeded(store: &Store) -> (RegionId, VpcId, SubnetId) {
    let region = store.regions().unwrap().remove(0);
    let view = store.network_view(&region.id).unwrap().remove(0);
    let subnet = view
        .subnets
        .iter()
        .find(|s| s.subnet.cidr.to_string() == "172.16.16.0/24")
        .unwrap();
    (region.id, view.vpc.id, subnet.subnet.id.clone())
}

/// A new HAVIP with an automatically assigned address.
#[allow(dead_code)] // not every test file uses every helper
pub async fn auto_havip(
    store: &Store,
    vpc: &VpcId,
    subnet: &SubnetId,
    name: &str,
) -> app::domain::model::Havip {
    store
        .create_havip(request(store, vpc, subnet, name, IpChoice::Automatic))
        .await
        .unwrap()
}
