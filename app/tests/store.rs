//! The store against a real sled database in a temporary directory, and (with
//! `HAVIP_TEST_STORE=etcd`) the same rules on etcd; the tests of sled's own files run on sled.

use app::domain::error::ErrorKind;
use app::domain::model::IpChoice;
use app::store::{Store, StoreConfig};
use std::collections::HashSet;
use std::net::Ipv4Addr;

mod common;
use common::{open_store, request, seeded};

fn open(dir: &tempfile::TempDir, quota: u32) -> Store {
    let config = StoreConfig {
        havip_quota_per_vpc: quota,
        ..Default::default()
    };
    open_store(dir.path(), config)
}

/// On sled whatever the backend of the run: for the tests of sled's own files.
fn open_sled(dir: &tempfile::TempDir, quota: u32) -> Store {
    let config = StoreConfig {
        havip_quota_per_vpc: quota,
        ..Default::default()
    };
    Store::open(dir.path(), config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_fill_a_subnet_exactly_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 1000);
    let (region, _, _) = seeded(&store);
    let vpc = store
        .create_vpc(&region, "big", "10.20.0.0/16")
        .await
        .unwrap();
    let subnet = store
        .create_subnet(&vpc.id, "small", "10.20.0.0/25")
        .await
        .unwrap();
    assert_eq!(store.free_count(&subnet.id), 125);

    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            let req = request(
                &store,
                &vpc.id,
                &subnet.id,
                &format!("vip-{i}"),
                IpChoice::Automatic,
            );
            tokio::spawn(async move { store.create_havip(req).await })
        })
        .collect();
    let mut ips = HashSet::new();
    let mut full = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(h) => assert!(ips.insert(h.ip), "duplicate IP {}", h.ip),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Invalid);
                assert!(e.message.contains("is full"), "{}", e.message);
                full += 1;
            }
        }
    }
    assert_eq!(ips.len(), 125);
    assert_eq!(full, 75);
    let expected: HashSet<Ipv4Addr> = (2..=126).map(|x| Ipv4Addr::new(10, 20, 0, x)).collect();
    assert_eq!(ips, expected);
    assert_eq!(store.free_count(&subnet.id), 0);
    assert_eq!(store.havip_count(&vpc.id).unwrap(), 125);

    drop(store);
    let store = open(&dir, 1000);
    let reopened: HashSet<Ipv4Addr> = store
        .havips()
        .unwrap()
        .into_iter()
        .filter(|h| h.subnet_id == subnet.id)
        .map(|h| h.ip)
        .collect();
    assert_eq!(reopened, expected);
    assert_eq!(
        store.free_count(&subnet.id),
        0,
        "free ranges rebuilt from the index"
    );
    assert_eq!(store.havip_count(&vpc.id).unwrap(), 125);
}

#[tokio::test]
async fn auto_assignment_takes_the_lowest_free_address_and_reuses_freed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 10);
    let (_, vpc, subnet) = seeded(&store);
    let a = store
        .create_havip(request(&store, &vpc, &subnet, "a", IpChoice::Automatic))
        .await
        .unwrap();
    let b = store
        .create_havip(request(&store, &vpc, &subnet, "b", IpChoice::Automatic))
        .await
        .unwrap();
    assert_eq!(a.ip, Ipv4Addr::new(172, 16, 16, 2));
    assert_eq!(b.ip, Ipv4Addr::new(172, 16, 16, 3));
    let m = store
        .create_havip(request(
            &store,
            &vpc,
            &subnet,
            "m",
            IpChoice::Manual("172.16.16.4".into()),
        ))
        .await
        .unwrap();
    assert_eq!(m.ip, Ipv4Addr::new(172, 16, 16, 4));
    store.delete_havip(&a.id).await.unwrap();
    let c = store
        .create_havip(request(&store, &vpc, &subnet, "c", IpChoice::Automatic))
        .await
        .unwrap();
    assert_eq!(
        c.ip,
        Ipv4Addr::new(172, 16, 16, 2),
        "the freed address is the lowest again"
    );
    let d = store
        .create_havip(request(&store, &vpc, &subnet, "d", IpChoice::Automatic))
        .await
        .unwrap();
    assert_eq!(d.ip, Ipv4Addr::new(172, 16, 16, 5));
}

#[tokio::test]
async fn manual_addresses_are_checked_and_refusals_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 10);
    let (_, vpc, subnet) = seeded(&store);
    let first = store
        .create_havip(request(
            &store,
            &vpc,
            &subnet,
            "web",
            IpChoice::Manual("172.16.16.12".into()),
        ))
        .await
        .unwrap();
    for (text, field, words) in [
        ("172.16.16.12", "ip", "already in use"),
        ("172.16.16.1", "ip", "reserved"),
        ("172.16.16.0", "ip", "reserved"),
        ("172.16.16.255", "ip", "reserved"),
        ("172.16.17.9", "ip", "outside the subnet"),
        ("172.16.16", "ip", "not a valid IPv4"),
    ] {
        let err = store
            .create_havip(request(
                &store,
                &vpc,
                &subnet,
                "x",
                IpChoice::Manual(text.into()),
            ))
            .await
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some(field), "{text}");
        assert!(err.message.contains(words), "{text}: {}", err.message);
    }
    let err = store
        .create_havip(request(&store, &vpc, &subnet, "  ", IpChoice::Automatic))
        .await
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("name"));
    let mut wrong = request(&store, &vpc, &subnet, "x", IpChoice::Automatic);
    wrong.subnet_id = "subnet-zzzzzzzz".parse().unwrap();
    assert_eq!(
        store
            .create_havip(wrong)
            .await
            .unwrap_err()
            .field
            .as_deref(),
        Some("subnet")
    );
    let mut wrong = request(&store, &vpc, &subnet, "x", IpChoice::Automatic);
    wrong.region_id = "region-elsewher".parse().unwrap();
    assert_eq!(
        store
            .create_havip(wrong)
            .await
            .unwrap_err()
            .field
            .as_deref(),
        Some("vpc")
    );

    let all = store.havips().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0], first);
    assert_eq!(store.havip_count(&vpc).unwrap(), 1);
    assert_eq!(store.free_count(&subnet), 252);
}

#[tokio::test]
async fn quota_of_ten_per_vpc() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 10);
    let (_, vpc, subnet) = seeded(&store);
    for i in 0..10 {
        store
            .create_havip(request(
                &store,
                &vpc,
                &subnet,
                &format!("v{i}"),
                IpChoice::Automatic,
            ))
            .await
            .unwrap();
    }
    let err = store
        .create_havip(request(&store, &vpc, &subnet, "v10", IpChoice::Automatic))
        .await
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("vpc"));
    assert!(err.message.contains("quota"), "{}", err.message);
    assert_eq!(store.havips().unwrap().len(), 10);
    assert_eq!(
        store.free_count(&subnet),
        253 - 10,
        "the refused create gave its address back"
    );
}

#[tokio::test]
async fn rename_and_delete_persist_and_unknown_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 10);
    let (_, vpc, subnet) = seeded(&store);
    let h = store
        .create_havip(request(&store, &vpc, &subnet, "old", IpChoice::Automatic))
        .await
        .unwrap();
    let g = store
        .create_havip(request(&store, &vpc, &subnet, "gone", IpChoice::Automatic))
        .await
        .unwrap();
    store.rename_havip(&h.id, "  新名字 ").await.unwrap();
    assert_eq!(
        store
            .rename_havip(&h.id, &"x".repeat(61))
            .await
            .unwrap_err()
            .field
            .as_deref(),
        Some("name")
    );
    store.delete_havip(&g.id).await.unwrap();
    assert_eq!(
        store.delete_havip(&g.id).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        store
            .rename_havip(&"havip-nothere0".parse().unwrap(), "x")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    drop(store);

    let store = open(&dir, 10);
    let all = store.havips().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "新名字");
    assert_eq!(store.havip_count(&vpc).unwrap(), 1);
}

#[tokio::test]
async fn seeding_happens_once_and_networks_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 10);
    let (region, vpc, _) = seeded(&store);
    assert_eq!(store.regions().unwrap()[0].name, "Default");
    let view = store.network_view(&region).unwrap();
    let cidrs: Vec<String> = view[0]
        .subnets
        .iter()
        .map(|s| s.subnet.cidr.to_string())
        .collect();
    assert_eq!(view[0].vpc.cidr.to_string(), "172.16.0.0/16");
    assert_eq!(cidrs, ["172.16.16.0/24", "172.16.17.0/24"]);
    assert_eq!(
        store
            .create_subnet(&vpc, "dup", "172.16.16.0/25")
            .await
            .unwrap_err()
            .field
            .as_deref(),
        Some("cidr")
    );
    assert_eq!(
        store
            .create_vpc(&region, "pub", "8.8.0.0/16")
            .await
            .unwrap_err()
            .field
            .as_deref(),
        Some("cidr")
    );
    assert_eq!(
        store
            .create_region("default")
            .await
            .unwrap_err()
            .field
            .as_deref(),
        Some("name")
    );
    store.create_region("Second").await.unwrap();
    drop(store);
    let store = open(&dir, 10);
    assert_eq!(
        store.regions().unwrap().len(),
        2,
        "no second seeding on reopen"
    );
}

#[tokio::test]
async fn eip_rules() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        eip_pool: "198.51.100.0/30".parse().unwrap(),
        ..Default::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let (_, vpc, subnet) = seeded(&store);
    let a = store
        .create_havip(request(&store, &vpc, &subnet, "a", IpChoice::Automatic))
        .await
        .unwrap();
    let b = store
        .create_havip(request(&store, &vpc, &subnet, "b", IpChoice::Automatic))
        .await
        .unwrap();

    // a /30 pool has two usable addresses
    let e1 = store.allocate_eip().await.unwrap();
    let e2 = store.allocate_eip().await.unwrap();
    assert_eq!(
        (e1.ip.to_string().as_str(), e2.ip.to_string().as_str()),
        ("198.51.100.1", "198.51.100.2")
    );
    assert!(store
        .allocate_eip()
        .await
        .unwrap_err()
        .message
        .contains("no free address"));

    assert_eq!(
        store.bind_eip(&e1.id, &a.id).await.unwrap().eip,
        Some(e1.ip)
    );
    let twice = store.bind_eip(&e1.id, &b.id).await.unwrap_err();
    assert_eq!(twice.kind, ErrorKind::Conflict);
    assert!(twice.message.contains("already bound"), "{}", twice.message);
    let second_for_a = store.bind_eip(&e2.id, &a.id).await.unwrap_err();
    assert!(
        second_for_a.message.contains("already has EIP"),
        "{}",
        second_for_a.message
    );
    assert_eq!(
        store
            .bind_eip(&e2.id, &"havip-missing0".parse().unwrap())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        store
            .bind_eip(&"eip-missing0".parse().unwrap(), &b.id)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );

    let release_bound = store.release_eip(&e1.id).await.unwrap_err();
    assert!(
        release_bound.message.contains("unbind it before releasing"),
        "{}",
        release_bound.message
    );
    let delete_bound = store.delete_havip(&a.id).await.unwrap_err();
    assert_eq!(delete_bound.kind, ErrorKind::Conflict);
    assert!(
        delete_bound.message.contains("unbind the EIP"),
        "{}",
        delete_bound.message
    );
    assert!(
        store.havip(&a.id).is_ok(),
        "the refused delete changed nothing"
    );
    assert_eq!(
        store.eip(&e2.id).unwrap().havip_id,
        None,
        "refused binds changed nothing"
    );

    store.unbind_eip(&e1.id).await.unwrap();
    assert_eq!(store.havip(&a.id).unwrap().eip, None);
    assert!(store
        .unbind_eip(&e1.id)
        .await
        .unwrap_err()
        .message
        .contains("not bound"));
    store.release_eip(&e1.id).await.unwrap();
    store.delete_havip(&a.id).await.unwrap();
    assert_eq!(
        store.allocate_eip().await.unwrap().ip.to_string(),
        "198.51.100.1",
        "released addresses are reused"
    );
}

#[tokio::test]
async fn the_consistency_check_finds_every_damaged_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 100);
    let (_, vpc, subnet) = seeded(&store);
    let havip = store
        .create_havip(request(
            &store,
            &vpc,
            &subnet,
            "checked",
            IpChoice::Automatic,
        ))
        .await
        .unwrap();
    let eip = store.allocate_eip().await.unwrap();
    store.bind_eip(&eip.id, &havip.id).await.unwrap();
    store
        .register_instance(app::store::NewInstance {
            name: "web".into(),
            subnet_id: subnet.clone(),
            mac: "52:54:00:00:00:09".into(),
            ip: "172.16.16.9".into(),
        })
        .await
        .unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());

    // each kind of damage is named
    let index = store.raw_tree("ip_index").unwrap();
    let (key, owner) = index.iter().next().unwrap().unwrap();
    index.remove(&key).unwrap();
    let counts = store.raw_tree("havip_counts").unwrap();
    counts.insert(vpc.as_bytes(), 7u32.to_be_bytes()).unwrap();
    store.raw_tree("mac_index").unwrap().clear().unwrap();
    let problems = store.check().unwrap().join("\n");
    assert!(
        problems.contains(&format!("{}'s address", String::from_utf8_lossy(&owner))),
        "{problems}"
    );
    assert!(
        problems.contains("the HAVIP counter says 7, there are 1"),
        "{problems}"
    );
    assert!(
        problems.contains("MAC index: 0 entries for 1 instances"),
        "{problems}"
    );
}

#[tokio::test]
async fn a_damaged_database_is_refused_not_replaced_by_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open_sled(&dir, 10);
        store
            .create_user(
                "alice",
                "twelve chars at least",
                app::domain::auth::Role::Admin,
            )
            .await
            .unwrap();
    }
    // the head of sled's log overwritten: sled itself recovers it as an empty database
    let path = dir.path().join("db");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len().min(4096);
    bytes[..n].iter_mut().for_each(|b| *b = 0x5a);
    std::fs::write(&path, &bytes).unwrap();
    let Err(e) = Store::open(dir.path(), StoreConfig::default()) else {
        panic!("a damaged database was opened");
    };
    assert!(
        matches!(&e, app::store::OpenError::Damaged(why) if why.contains("no records now")),
        "{e:?}"
    );
    assert!(e.explain(dir.path()).contains("havip restore"), "{e:?}");
    // a new directory still starts fresh
    let fresh = tempfile::tempdir().unwrap();
    assert!(Store::open(fresh.path(), StoreConfig::default()).is_ok());
}

#[tokio::test]
async fn a_backup_restores_every_record_and_a_used_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, 100);
    let (_, vpc, subnet) = seeded(&store);
    for i in 0..20 {
        store
            .create_havip(request(
                &store,
                &vpc,
                &subnet,
                &format!("b{i}"),
                IpChoice::Automatic,
            ))
            .await
            .unwrap();
    }
    store
        .create_user(
            "alice",
            "twelve chars at least",
            app::domain::auth::Role::Admin,
        )
        .await
        .unwrap();
    let (key, secret) = store.create_api_key("alice").await.unwrap();
    let copy = store.backup_consistent().unwrap();

    let target = tempfile::tempdir().unwrap();
    let into = target.path().join("restored");
    let records = app::store::restore(&mut copy.as_slice(), &into).unwrap();
    assert!(records > 20, "{records}");
    let restored = Store::open(&into, StoreConfig::default()).unwrap();
    assert!(
        restored.dump().unwrap() == store.dump().unwrap(),
        "a record differs"
    );
    assert_eq!(restored.check().unwrap(), Vec::<String>::new());
    // the sealed API key still unseals with the restored sealing key
    let (_, unsealed) = restored.api_key_secret(&key.id).unwrap().unwrap();
    assert_eq!(unsealed, secret);

    // a directory in use, a truncated copy, and something else are refused
    let err = app::store::restore(&mut copy.as_slice(), &into).unwrap_err();
    assert!(err.message.contains("not empty"), "{}", err.message);
    let cut = &copy[..copy.len() / 2];
    let err = app::store::restore(&mut &cut[..], &target.path().join("cut")).unwrap_err();
    assert!(
        err.message.contains("truncated") || err.message.contains("malformed"),
        "{}",
        err.message
    );
    let err = app::store::restore(&mut &b"hello\n"[..], &target.path().join("other")).unwrap_err();
    assert!(
        err.message.contains("not a havip backup"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_clean_stop_saves_the_audit_count_and_a_crash_makes_the_next_start_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sled(&dir, 10);
    let (_, vpc, subnet) = seeded(&store);
    for name in ["a", "b", "c"] {
        store
            .create_havip(request(&store, &vpc, &subnet, name, IpChoice::Automatic))
            .await
            .unwrap();
    }
    let counted = store.audit_len();
    assert!(counted >= 3, "{counted}");
    store.shut_down_cleanly().unwrap();
    // a record the saved count does not know of: only a count that reads the log finds it
    store
        .raw_tree("audit")
        .unwrap()
        .insert(u64::MAX.to_be_bytes(), b"{}".as_slice())
        .unwrap();
    store.flush_now().unwrap();
    drop(store);

    let store = open_sled(&dir, 10);
    assert_eq!(store.audit_len(), counted, "the saved count, read once");
    drop(store); // as a crash would: nothing saved

    let store = open_sled(&dir, 10);
    assert_eq!(store.audit_len(), counted + 1, "counted again");
}
