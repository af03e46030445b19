//! The events the store raises for alerts, at their sources: holder changes (one per history
//! event), agents connecting and disconnecting (not when the console stops), hosts discovered,
//! and a subnet passing its fill threshold (once per crossing).

use app::domain::alerts::{Event, EventType};
use app::domain::binding::Observation;
use app::domain::mac::Mac;
use app::store::{Store, StoreConfig};
use tokio::sync::broadcast::Receiver;

mod common;
use common::{auto_havip, seeded};

fn raised(rx: &mut Receiver<Event>) -> Vec<Event> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn types(events: &[Event]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

#[tokio::test]
async fn every_history_event_and_presence_change_raises_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let (_, vpc, subnet) = seeded(&store);
    let havip = auto_havip(&store, &vpc, &subnet, "vip").await;
    let (agent, _) = store
        .create_agent("lab", std::slice::from_ref(&subnet))
        .await
        .unwrap();
    let (_, mut rx) = store.alert_events().unwrap();
    let mac = |last: u8| Mac([2, 0, 0, 0, 0, last]);
    let announce = |m| {
        store
            .observe(&agent, havip.ip, Observation::Announce { mac: m })
            .unwrap()
    };
    announce(mac(1));
    announce(mac(2));
    announce(mac(2)); // nothing changed: nothing raised
                      // a third host answers beside the holder (the one taken over may still answer an
                      // in-flight probe: see `BindingRules::handover_grace_ms`)
    store
        .observe(&agent, havip.ip, Observation::ProbeReply { mac: mac(3) })
        .unwrap();
    let events = raised(&mut rx);
    assert_eq!(
        types(&events),
        [
            EventType::HolderChanged,
            EventType::HolderChanged,
            EventType::ConflictDetected
        ]
    );
    assert_eq!(events.len() as u64, store.history_len(&havip.id).unwrap());
    assert!(events.iter().all(|e| e.subject == havip.id.as_str()
        && e.scope.havip_id.as_ref() == Some(&havip.id)
        && e.scope.subnet_id.as_ref() == Some(&subnet)));

    let connected = store.agent_connected(&agent);
    let second = store.agent_connected(&agent); // an overlapping reconnection
    drop(connected);
    assert_eq!(
        types(&raised(&mut rx)),
        [EventType::AgentOnline],
        "still connected once"
    );
    drop(second);
    let offline = raised(&mut rx);
    assert_eq!(types(&offline), [EventType::AgentOffline]);
    assert_eq!(offline[0].data["name"], "lab");

    // a host nobody registered, seen for the first time (and not again the second time)
    let ip = "172.16.16.77".parse().unwrap();
    store.record_station(&agent, ip, mac(9)).unwrap();
    store.record_station(&agent, ip, mac(9)).unwrap();
    let found = raised(&mut rx);
    assert_eq!(types(&found), [EventType::HostDiscovered]);
    assert_eq!(found[0].data["ip"], "172.16.16.77");

    // the console stopping drops every agent: no outage to report
    let again = store.agent_connected(&agent);
    raised(&mut rx);
    store.begin_shutdown();
    drop(again);
    assert_eq!(raised(&mut rx), vec![]);
}

#[tokio::test]
async fn a_subnet_passing_its_threshold_is_raised_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path(),
        StoreConfig {
            subnet_full_percent: 50,
            havip_quota_per_vpc: 100,
            ..Default::default()
        },
    )
    .unwrap();
    let (_, vpc, _) = seeded(&store);
    let small = store
        .create_subnet(&vpc, "small", "172.16.99.0/28")
        .await
        .unwrap();
    let usable = u64::from(store.free_count(&small.id));
    let (_, mut rx) = store.alert_events().unwrap();
    let mut raised_at = vec![];
    for n in 1..=usable {
        auto_havip(&store, &vpc, &small.id, &format!("v{n}")).await;
        for e in raised(&mut rx) {
            assert_eq!(e.event_type, EventType::SubnetNearlyFull);
            assert_eq!(e.data["used"], n);
            assert_eq!(e.data["usable"], usable);
            raised_at.push(n);
        }
    }
    assert_eq!(
        raised_at,
        [usable.div_ceil(2)],
        "once, when half was in use"
    );
}
