//! Instances, their ENIs' addresses, discovered stations and allowed holders, against a real
//! sled database (what the server functions call).

use app::domain::binding::{Change, Observation, Status};
use app::domain::error::ErrorKind;
use app::domain::ids::SubnetId;
use app::domain::mac::Mac;
use app::domain::model::{Instance, IpChoice};
use app::store::{NewInstance, Store, StoreChange, StoreConfig};
use std::net::Ipv4Addr;

mod common;
use common::{request, seeded};

fn mac(text: &str) -> Mac {
    text.parse().unwrap()
}

fn new_instance(name: &str, subnet: &SubnetId, mac: &str, ip: &str) -> NewInstance {
    NewInstance {
        name: name.into(),
        subnet_id: subnet.clone(),
        mac: mac.into(),
        ip: ip.into(),
    }
}

async fn register(store: &Store, name: &str, subnet: &SubnetId, mac: &str, ip: &str) -> Instance {
    store
        .register_instance(new_instance(name, subnet, mac, ip))
        .await
        .unwrap()
}

#[tokio::test]
async fn registering_an_instance_validates_mac_and_primary_ip() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(dir.path(), StoreConfig::default());
    let (_, vpc, subnet) = seeded(&store);
    let vip = store
        .create_havip(request(&store, &vpc, &subnet, "vip", IpChoice::Automatic))
        .await
        .unwrap();
    let web1 = register(&store, "web-1", &subnet, "52:54:00:00:00:01", "172.16.16.5").await;
    assert!(web1.id.starts_with("ins-") && web1.eni_id.starts_with("eni-"));
    assert_eq!(web1.vpc_id, vpc);

    let cases = [
        (
            new_instance("x", &subnet, "52:54:00:00:00:02", "172.16.17.5"),
            "ip",
            "outside the subnet 172.16.16.0/24",
        ),
        (
            new_instance("x", &subnet, "52:54:00:00:00:02", "172.16.16.1"),
            "ip",
            "reserved",
        ),
        (
            new_instance("x", &subnet, "52:54:00:00:00:02", "172.16.16.5"),
            "ip",
            "already in use",
        ),
        (
            new_instance("x", &subnet, "52:54:00:00:00:02", &vip.ip.to_string()),
            "ip",
            "already in use",
        ),
        (
            new_instance("x", &subnet, "52:54:00:00:00:02", "172.16.16.300"),
            "ip",
            "not a valid IPv4 address",
        ),
        (
            new_instance("x", &subnet, "52:54:00:00:00", "172.16.16.7"),
            "mac",
            "is not a MAC address",
        ),
        (
            new_instance("x", &subnet, "zz:54:00:00:00:02", "172.16.16.7"),
            "mac",
            "is not a MAC address",
        ),
        (
            new_instance("x", &subnet, "ff:ff:ff:ff:ff:ff", "172.16.16.7"),
            "mac",
            "not one network interface",
        ),
        (
            new_instance("x", &subnet, "52-54-00-00-00-01", "172.16.16.7"),
            "mac",
            "already registered to instance web-1",
        ),
        (
            new_instance(" ", &subnet, "52:54:00:00:00:02", "172.16.16.7"),
            "name",
            "Enter a name",
        ),
        (
            new_instance(
                "x",
                &"subnet-missing0".parse().unwrap(),
                "52:54:00:00:00:02",
                "172.16.16.7",
            ),
            "subnet",
            "does not exist",
        ),
    ];
    for (req, field, message) in cases {
        let e = store.register_instance(req.clone()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid, "{req:?}");
        assert_eq!(e.field.as_deref(), Some(field), "{req:?}: {}", e.message);
        assert!(e.message.contains(message), "{req:?}: {}", e.message);
    }
    assert_eq!(
        store.instances().unwrap(),
        vec![web1.clone()],
        "refusals change nothing"
    );
    // a refused MAC did not keep the address it asked for
    register(&store, "web-2", &subnet, "52:54:00:00:00:02", "172.16.16.7").await;
    assert_eq!(
        store
            .deregister_instance(&"eni-missing0".parse().unwrap())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_registered_primary_ip_is_in_use_for_havips_until_deregistered() {
    let dir = tempfile::tempdir().unwrap();
    let (vpc, subnet, web1) = {
        let store = common::open_store(dir.path(), StoreConfig::default());
        let (_, vpc, subnet) = seeded(&store);
        let web1 = register(&store, "web-1", &subnet, "52:54:00:00:00:01", "172.16.16.2").await;
        (vpc, subnet, web1)
    };
    // after a reopen the address map is rebuilt with the ENI's address in it
    let store = common::open_store(dir.path(), StoreConfig::default());
    let manual = store
        .create_havip(request(
            &store,
            &vpc,
            &subnet,
            "m",
            IpChoice::Manual("172.16.16.2".into()),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        manual.message,
        "172.16.16.2 is already in use in this subnet."
    );
    let auto = store
        .create_havip(request(&store, &vpc, &subnet, "a", IpChoice::Automatic))
        .await
        .unwrap();
    assert_eq!(auto.ip, Ipv4Addr::new(172, 16, 16, 3));

    store.deregister_instance(&web1.eni_id).await.unwrap();
    assert!(store.instances().unwrap().is_empty());
    let reused = store
        .create_havip(request(&store, &vpc, &subnet, "b", IpChoice::Automatic))
        .await
        .unwrap();
    assert_eq!(reused.ip, Ipv4Addr::new(172, 16, 16, 2));
    // and the MAC can be registered again
    register(&store, "web-1", &subnet, "52:54:00:00:00:01", "172.16.16.9").await;
}

#[tokio::test]
async fn discovered_stations_are_the_unregistered_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(dir.path(), StoreConfig::default());
    let (_, vpc, subnet) = seeded(&store);
    let vip = store
        .create_havip(request(&store, &vpc, &subnet, "vip", IpChoice::Automatic))
        .await
        .unwrap();
    let (agent, _) = store
        .create_agent("a", std::slice::from_ref(&subnet))
        .await
        .unwrap();
    let (m5, m6) = (mac("02:00:00:16:16:05"), mac("02:00:00:16:16:06"));
    store
        .record_station(&agent, Ipv4Addr::new(172, 16, 16, 5), m5)
        .unwrap();
    store
        .record_station(&agent, Ipv4Addr::new(172, 16, 16, 6), m6)
        .unwrap();
    // the holder announcing the VIP is not a host with that address: nothing to tell browsers
    let mut changes = store.subscribe();
    store.record_station(&agent, vip.ip, m5).unwrap();
    assert!(
        changes.try_recv().is_err(),
        "no change pushed for an HAVIP's address"
    );
    // outside the agent's subnets: ignored
    store
        .record_station(&agent, Ipv4Addr::new(10, 9, 9, 9), m6)
        .unwrap();
    let ips = |s: &Store| {
        s.discovered()
            .unwrap()
            .iter()
            .map(|s| s.ip.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ips(&store), ["172.16.16.5", "172.16.16.6"]);
    store
        .record_station(&agent, Ipv4Addr::new(172, 16, 16, 7), m6)
        .unwrap();
    assert!(
        matches!(changes.try_recv(), Ok(StoreChange::Instances { .. })),
        "a newly discovered host is pushed to browsers"
    );
    assert_eq!(ips(&store), ["172.16.16.5", "172.16.16.6", "172.16.16.7"]);

    let station = store.discovered().unwrap().remove(0);
    register(
        &store,
        "cvm-1",
        &station.subnet_id,
        &station.mac.to_string(),
        &station.ip.to_string(),
    )
    .await;
    assert_eq!(ips(&store), ["172.16.16.6", "172.16.16.7"]);
}

#[tokio::test]
async fn allowed_holders_keep_outsiders_from_holding_the_havip() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(dir.path(), StoreConfig::default());
    let (_, vpc, subnet) = seeded(&store);
    let other_subnet = store
        .network_view(&store.vpc(&vpc).unwrap().region_id)
        .unwrap()[0]
        .subnets
        .iter()
        .find(|s| s.subnet.id != subnet)
        .unwrap()
        .subnet
        .id
        .clone();
    let vip = store
        .create_havip(request(&store, &vpc, &subnet, "vip", IpChoice::Automatic))
        .await
        .unwrap();
    let (agent, _) = store
        .create_agent("lab", std::slice::from_ref(&subnet))
        .await
        .unwrap();
    let primary = register(
        &store,
        "cvm-primary",
        &subnet,
        "02:00:00:16:16:05",
        "172.16.16.5",
    )
    .await;
    let backup = register(
        &store,
        "cvm-backup",
        &subnet,
        "02:00:00:16:16:06",
        "172.16.16.6",
    )
    .await;
    let elsewhere = register(
        &store,
        "far",
        &other_subnet,
        "02:00:00:16:17:05",
        "172.16.17.5",
    )
    .await;
    let outsider = mac("02:00:00:16:16:99");

    // holders are shown by instance name
    store
        .observe(&agent, vip.ip, Observation::Announce { mac: backup.mac })
        .unwrap();
    assert_eq!(
        store
            .row(&store.havip(&vip.id).unwrap())
            .unwrap()
            .bound_instance,
        "cvm-backup (02:00:00:16:16:06)"
    );

    for (ids, message) in [
        (
            vec![elsewhere.eni_id.clone()],
            "is not in the HAVIP's subnet",
        ),
        (vec!["eni-missing0".parse().unwrap()], "does not exist"),
    ] {
        let e = store.set_allowed_holders(&vip.id, &ids).await.unwrap_err();
        assert_eq!(e.field.as_deref(), Some("allowed"));
        assert!(e.message.contains(message), "{}", e.message);
    }
    assert!(
        store.havip(&vip.id).unwrap().allowed.is_empty(),
        "refusals change nothing"
    );
    assert_eq!(
        store
            .set_allowed_holders(&"havip-missing0".parse().unwrap(), &[])
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );

    // restricting to the primary moves the backup, the current holder, out at once
    let updated = store
        .set_allowed_holders(&vip.id, std::slice::from_ref(&primary.eni_id))
        .await
        .unwrap();
    assert_eq!(updated.allowed, vec![primary.eni_id.clone()]);
    assert_eq!(updated.binding.status(), Status::Unbound);
    let latest = store.history(&vip.id, 0, 1).unwrap().remove(0);
    assert_eq!(latest.change, Change::Lost { mac: backup.mac });
    assert_eq!(latest.cause, "allowed holders changed");

    // an outsider's announcement is recorded and shown, but does not make it the holder
    let changes = store
        .observe(&agent, vip.ip, Observation::Announce { mac: outsider })
        .unwrap();
    assert_eq!(changes, vec![Change::Unauthorized { mac: outsider }]);
    let row = store.row(&store.havip(&vip.id).unwrap()).unwrap();
    assert_eq!(row.status, Status::Unbound);
    // the backup, moved out when the rule changed, is still a fresh claim
    assert_eq!(
        row.unauthorized,
        vec![
            "cvm-backup (02:00:00:16:16:06)".to_string(),
            outsider.to_string()
        ]
    );
    let event = store.history(&vip.id, 0, 1).unwrap().remove(0);
    assert_eq!(event.change, Change::Unauthorized { mac: outsider });
    assert_eq!(event.agent, "lab");

    // the allowed one binds; the outsider stays flagged beside it, never a conflict
    store
        .observe(&agent, vip.ip, Observation::Announce { mac: primary.mac })
        .unwrap();
    store
        .observe(&agent, vip.ip, Observation::ProbeReply { mac: outsider })
        .unwrap();
    store
        .observe(&agent, vip.ip, Observation::ProbeReply { mac: primary.mac })
        .unwrap();
    let row = store.row(&store.havip(&vip.id).unwrap()).unwrap();
    assert_eq!(row.status.label(), "Bound with CVM");
    assert_eq!(row.bound_instance, "cvm-primary (02:00:00:16:16:05)");
    assert_eq!(row.unauthorized.len(), 2);

    // the primary dies while the outsider keeps answering: its answers are no holder's answers
    for _ in 0..3 {
        store
            .observe(&agent, vip.ip, Observation::ProbeReply { mac: outsider })
            .unwrap();
    }
    let lost = store.history(&vip.id, 0, 1).unwrap().remove(0);
    assert_eq!(lost.change, Change::Lost { mac: primary.mac });
    assert_eq!(
        lost.cause,
        format!("probe answered by {outsider} (not an allowed holder)")
    );

    let refused = store
        .deregister_instance(&primary.eni_id)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Conflict);
    assert!(
        refused.message.contains("allowed holder of HAVIP vip"),
        "{}",
        refused.message
    );

    // an empty list allows any host again
    store.set_allowed_holders(&vip.id, &[]).await.unwrap();
    store.deregister_instance(&primary.eni_id).await.unwrap();
    let changes = store
        .observe(&agent, vip.ip, Observation::Announce { mac: outsider })
        .unwrap();
    assert_eq!(
        changes,
        vec![Change::Failover {
            from: primary.mac,
            to: outsider
        }]
    );
}
