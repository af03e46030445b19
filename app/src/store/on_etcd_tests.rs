//! The store on etcd: its records outlive the process, and two consoles on one prefix keep
//! one set of rules (an address is given once, the per-VPC counts stay exact), enforced by
//! etcd's transactions.

use super::kv::tests::EtcdServer;
use super::{Store, StoreConfig, StorePlace};
use crate::domain::ids::{RegionId, SubnetId, VpcId};
use crate::domain::model::{IpChoice, NewHavip};
use std::collections::HashSet;

/// A console on the server's `/havip/` prefix, with a quota of 25 HAVIPs per VPC.
fn on(etcd: &EtcdServer, dir: &tempfile::TempDir) -> Store {
    let config = StoreConfig {
        place: StorePlace::parse(&format!("etcd://{}", etcd.endpoint), "/havip/").unwrap(),
        havip_quota_per_vpc: 25,
        ..StoreConfig::default()
    };
    Store::open(dir.path(), config).unwrap()
}

fn request(at: &(RegionId, VpcId, SubnetId), name: String) -> NewHavip {
    NewHavip {
        region_id: at.0.clone(),
        name,
        vpc_id: at.1.clone(),
        subnet_id: at.2.clone(),
        ip: IpChoice::Automatic,
    }
}

/// A VPC with a /27 subnet (29 usable addresses).
async fn small_subnet(store: &Store) -> (RegionId, VpcId, SubnetId) {
    let region = store.regions().unwrap().remove(0).id;
    let vpc = store
        .create_vpc(&region, "small", "10.30.0.0/16")
        .await
        .unwrap();
    let subnet = (store.create_subnet(&vpc.id, "small", "10.30.0.0/27").await).unwrap();
    (region, vpc.id, subnet.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_on_etcd_finds_its_records_when_it_starts_again() {
    let etcd = EtcdServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = on(&etcd, &dir);
    let at = small_subnet(&store).await;
    let havip = store
        .create_havip(request(&at, "vip".into()))
        .await
        .unwrap();
    drop(store);

    let store = on(&etcd, &dir);
    assert_eq!(store.havip(&havip.id).unwrap().ip, havip.ip);
    assert_eq!(
        store.free_count(&at.2),
        28,
        "the address map is rebuilt from etcd"
    );
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_on_one_prefix_give_each_address_once_and_keep_the_quota() {
    let etcd = EtcdServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = on(&etcd, &dir_a);
    let at = small_subnet(&a).await;
    // the second console starts once the subnet exists (its address map is built at start)
    let b = on(&etcd, &dir_b);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let req = request(&at, format!("vip-{i}"));
            tokio::spawn(async move { store.create_havip(req).await })
        })
        .collect();
    let (mut ips, mut refused) = (HashSet::new(), 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(h) => assert!(ips.insert(h.ip), "{} given twice", h.ip),
            Err(e) => {
                assert!(e.message.contains("its quota"), "{e:?}");
                refused += 1;
            }
        }
    }
    assert_eq!(
        (ips.len(), refused),
        (25, 15),
        "each address once, up to the quota"
    );
    assert_eq!(
        b.havip_count(&at.1).unwrap(),
        25,
        "the VPC's count is exact"
    );
    assert_eq!(a.check().unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_whose_etcd_is_gone_is_not_ready_and_says_why() {
    let mut etcd = EtcdServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = on(&etcd, &dir);
    store.ready().unwrap();
    etcd.stop();
    let e = store.ready().unwrap_err();
    assert!(
        e.message
            .starts_with("the database does not answer: etcd: "),
        "{}",
        e.message
    );
}
