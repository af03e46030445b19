//! The store on etcd: its records outlive the process, and two consoles on one prefix keep
//! one set of rules (an address is given once, the per-VPC counts stay exact), enforced by
//! etcd's transactions.

use super::kv::tests::EtcdServer;
use super::{Store, StoreConfig, StorePlace};
use crate::domain::ids::{RegionId, SubnetId, VpcId};
use crate::domain::model::{IpChoice, NewHavip};
use std::collections::HashSet;

/// A console on the server's `/havip/` prefix, with a quota of 25 HAVIPs per VPC.
pub(super) fn on(etcd: &EtcdServer, dir: &tempfile::TempDir) -> Store {
    let config = StoreConfig {
        place: StorePlace::parse(&format!("etcd://{}", etcd.endpoint), "/havip/").unwrap(),
        havip_quota_per_vpc: 25,
        ..StoreConfig::default()
    };
    Store::open(dir.path(), config).unwrap()
}

pub(super) fn request(at: &(RegionId, VpcId, SubnetId), name: String) -> NewHavip {
    NewHavip {
        region_id: at.0.clone(),
        name,
        vpc_id: at.1.clone(),
        subnet_id: at.2.clone(),
        ip: IpChoice::Automatic,
    }
}

/// A VPC with a /27 subnet (29 usable addresses).
pub(super) async fn small_subnet(store: &Store) -> (RegionId, VpcId, SubnetId) {
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
async fn a_console_whose_etcd_is_gone_refuses_changes_with_503_reads_and_recovers_by_itself() {
    let mut etcd = EtcdServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = on(&etcd, &dir);
    let at = small_subnet(&store).await;
    let kept = store
        .create_havip(request(&at, "kept".into()))
        .await
        .unwrap();
    store.ready().unwrap();
    etcd.stop();

    let e = store.ready().unwrap_err();
    // said to anyone who asks /readyz: no address of the cluster
    assert_eq!(
        e.message,
        "the database does not answer: etcd: no member answers"
    );
    let refused = store
        .create_havip(request(&at, "lost".into()))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 503, "{refused:?}");
    assert!(refused.message.contains("does not answer"), "{refused:?}");
    // reads answer from what the replica holds
    assert_eq!(store.havip(&kept.id).unwrap().name, "kept");
    assert!(store.catch_up().is_err(), "not caught up without etcd");

    // etcd back: the store follows it again without a restart
    etcd.restart();
    let t0 = std::time::Instant::now();
    while store.ready().is_err() {
        assert!(t0.elapsed().as_secs() < 20, "ready again");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let made = loop {
        match store.create_havip(request(&at, "after".into())).await {
            Ok(made) => break made,
            Err(e) if e.status() == 503 && t0.elapsed().as_secs() < 20 => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    store.catch_up().unwrap();
    assert_eq!(store.havip(&made.id).unwrap().name, "after");
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

/// Runs `a` and `b` at once, each on its own console; `rounds` times.
async fn at_once<A, B, FA, FB>(rounds: usize, a: A, b: B) -> Vec<(bool, bool)>
where
    A: Fn(usize) -> FA,
    B: Fn(usize) -> FB,
    FA: std::future::Future<Output = bool> + Send + 'static,
    FB: std::future::Future<Output = bool> + Send + 'static,
{
    let mut outcomes = vec![];
    for round in 0..rounds {
        let (first, second) = (tokio::spawn(a(round)), tokio::spawn(b(round)));
        outcomes.push((first.await.unwrap(), second.await.unwrap()));
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_keep_the_rules_that_read_a_whole_group() {
    let etcd = EtcdServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (on(&etcd, &dir_a), on(&etcd, &dir_b));
    let region = a.regions().unwrap().remove(0).id;
    let vpc = a
        .create_vpc(&region, "wide", "10.40.0.0/16")
        .await
        .unwrap()
        .id;

    // each round, the two ask for overlapping subnets: a /24 and the /25 inside it
    let subnet = |store: &Store, cidr: String| {
        let (store, vpc) = (store.clone(), vpc.clone());
        async move { store.create_subnet(&vpc, "s", &cidr).await.is_ok() }
    };
    let made = at_once(
        10,
        |i| subnet(&a, format!("10.40.{i}.0/24")),
        |i| subnet(&b, format!("10.40.{i}.0/25")),
    )
    .await;
    assert!(
        made.iter().all(|(x, y)| x ^ y),
        "one of each pair: {made:?}"
    );
    assert_eq!(b.subnets_of(&vpc).unwrap().len(), 10);

    // each round, one deletes a subnet while the other takes an address in it
    let used = b
        .create_vpc(&region, "used", "10.50.0.0/16")
        .await
        .unwrap()
        .id;
    let mut subnets = vec![];
    for i in 0..10 {
        let cidr = format!("10.50.{i}.0/24");
        subnets.push(b.create_subnet(&used, "s", &cidr).await.unwrap().id);
    }
    let delete = |i: usize| {
        let (store, id) = (a.clone(), subnets[i].clone());
        async move { store.delete_subnet(&id).await.is_ok() }
    };
    let take = |i: usize| {
        let (store, at) = (
            b.clone(),
            (region.clone(), used.clone(), subnets[i].clone()),
        );
        async move { store.create_havip(request(&at, "vip".into())).await.is_ok() }
    };
    let outcomes = at_once(10, delete, take).await;
    assert!(
        outcomes.iter().all(|(x, y)| !(x & y)),
        "never both: {outcomes:?}"
    );
    for havip in a.havips().unwrap() {
        a.subnet(&havip.subnet_id)
            .expect("every HAVIP's subnet exists");
    }

    // each round, the two make a region of one name
    let region_named = |store: &Store, i: usize| {
        let store = store.clone();
        async move { store.create_region(&format!("east-{i}")).await.is_ok() }
    };
    let made = at_once(10, |i| region_named(&a, i), |i| region_named(&b, i)).await;
    assert!(
        made.iter().all(|(x, y)| x ^ y),
        "one of each pair: {made:?}"
    );

    // each round, with two enabled admins, each console disables one of them
    use crate::domain::auth::Role;
    let password = "a long enough password";
    for name in ["p", "q"] {
        a.create_user(name, password, Role::Admin).await.unwrap();
    }
    let disable = |store: &Store, name: &'static str| {
        let store = store.clone();
        async move { store.set_user_disabled(name, true).await.is_ok() }
    };
    let mut disabled = vec![];
    for _ in 0..10 {
        for name in ["p", "q"] {
            a.set_user_disabled(name, false).await.unwrap();
        }
        let (x, y) = (
            tokio::spawn(disable(&a, "p")),
            tokio::spawn(disable(&b, "q")),
        );
        disabled.push((x.await.unwrap(), y.await.unwrap()));
    }
    assert!(
        disabled.iter().all(|(x, y)| x ^ y),
        "one of each pair: {disabled:?}"
    );
    let admins = (a.users().unwrap().into_iter())
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .count();
    assert_eq!(admins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_etcd_authentication_a_console_logs_in_with_its_user_and_a_wrong_password_is_refused()
{
    let etcd = EtcdServer::start();
    let mut client = etcd_client::Client::connect([etcd.endpoint.clone()], None)
        .await
        .unwrap();
    client.user_add("root", "root secret", None).await.unwrap();
    client.user_grant_role("root", "root").await.unwrap();
    client.auth_enable().await.unwrap();
    let config = |user: Option<&str>| StoreConfig {
        place: StorePlace::Etcd {
            endpoints: vec![etcd.endpoint.clone()],
            prefix: "/havip/".into(),
            access: super::EtcdAccess {
                user: user.map(|password| ("root".to_string(), password.to_string())),
                ..Default::default()
            },
        },
        ..StoreConfig::default()
    };
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let store = Store::open(dirs[0].path(), config(Some("root secret"))).unwrap();
    assert_eq!(store.regions().unwrap().len(), 1, "seeded through the user");
    drop(store);
    assert!(Store::open(dirs[1].path(), config(Some("wrong"))).is_err());
    assert!(
        Store::open(dirs[2].path(), config(None)).is_err(),
        "anonymous"
    );
}
