//! Helpers shared by the store tests.
use app::domain::model::{IpChoice, NewHavip};
use app::store::Store;

pub fn request(store: &Store, vpc: &str, subnet: &str, name: &str, ip: IpChoice) -> NewHavip {
    let region_id = store.vpc(vpc).unwrap().region_id;
    NewHavip {
        region_id,
        name: name.into(),
        vpc_id: vpc.into(),
        subnet_id: subnet.into(),
        ip,
    }
}

/// The seeded region, its VPC and subnet 172.16.16.0/24.
pub fn seeded(store: &Store) -> (String, String, String) {
    let region = store.regions().unwrap().remove(0);
    let view = store.network_view(&region.id).unwrap().remove(0);
    let subnet = view
        .subnets
        .iter()
        .find(|s| s.subnet.cidr.to_string() == "172.16.16.0/24")
        .unwrap();
    (region.id, view.vpc.id, subnet.subnet.id.clone())
}
