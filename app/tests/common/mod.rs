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

/// The store of a test in `dir`: on sled, or with `HAVIP_TEST_STORE=etcd` on an etcd of the
/// directory's own (one member on loopback, started at the first open of `dir` and used again
/// when the test opens it again; stopped when the test binary exits). The same tests, the same
/// rules, on both backends.
#[allow(dead_code)] // not every test file uses every helper
pub fn open_store(dir: &std::path::Path, mut config: app::store::StoreConfig) -> Store {
    if std::env::var("HAVIP_TEST_STORE").as_deref() == Ok("etcd") {
        config.place = app::store::StorePlace::parse(&etcd_of(dir), "/havip/").unwrap();
    }
    Store::open(dir, config).unwrap()
}

/// Whether the store tests run on etcd.
#[allow(dead_code)]
pub fn on_etcd() -> bool {
    std::env::var("HAVIP_TEST_STORE").as_deref() == Ok("etcd")
}

/// The `--store` URL of `dir`'s etcd, started if it is not yet.
fn etcd_of(dir: &std::path::Path) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static RUNNING: Mutex<Option<HashMap<std::path::PathBuf, app::store::TestEtcd>>> =
        Mutex::new(None);
    extern "C" fn stop_all() {
        if let Ok(mut running) = RUNNING.lock() {
            running.take();
        }
    }
    let mut running = RUNNING.lock().unwrap();
    let running = running.get_or_insert_with(|| {
        // SAFETY: registers a plain function, run at the process's exit
        unsafe { libc::atexit(stop_all) };
        HashMap::new()
    });
    let etcd = (running.entry(dir.to_path_buf()))
        .or_insert_with(|| app::store::TestEtcd::start(&dir.join("etcd-data")));
    etcd.store_url()
}
