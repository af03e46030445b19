//! Alerts with two replicas on one etcd prefix: one of them leads and delivers every event,
//! whichever replica raised it, each once; when the leader stops, the other takes over.

use crate::console::work_done_once;
use crate::tests::alerts::{next, receiver};
use app::domain::alerts::{EventType, NewAlertRule, Target, WebhookDestinations};
use app::store::{Store, StoreConfig, StorePlace, TestEtcd};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

fn replica(etcd: &TestEtcd, dir: &Path, key: &Path) -> Store {
    let config = StoreConfig {
        webhooks: WebhookDestinations::allowing_internal(),
        place: StorePlace::parse(&etcd.store_url(), "/havip/").unwrap(),
        secret_key_file: Some(key.to_path_buf()),
        ..Default::default()
    };
    Store::open(dir, config).unwrap()
}

/// Waits until exactly one of `replicas` leads (at most 15 s); its index.
async fn the_leader(replicas: &[&Store]) -> usize {
    let t0 = Instant::now();
    loop {
        let leading: Vec<usize> = (0..replicas.len())
            .filter(|i| *replicas[*i].leading().borrow())
            .collect();
        if let [one] = leading[..] {
            return one;
        }
        assert!(leading.len() < 2, "two replicas lead at once");
        assert!(t0.elapsed() < Duration::from_secs(15), "no replica leads");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_delivers_each_event_once_and_the_other_takes_over_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = TestEtcd::start(dir.path());
    let key = dir.path().join("secret.key");
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    let replicas = [replica(&etcd, &dir_a, &key), replica(&etcd, &dir_b, &key)];
    for store in &replicas {
        tokio::spawn(work_done_once::run(store.clone()));
    }
    let (url, mut got) = receiver(vec![200]).await;
    let rule = NewAlertRule {
        name: "pager".into(),
        target: Target::Webhook { url },
        events: vec![EventType::AgentOnline],
        scope: Default::default(),
        dedup_s: 0,
    };
    let rule = replicas[0].create_alert(rule).await.unwrap().rule.id;
    let leader = the_leader(&[&replicas[0], &replicas[1]]).await;

    // three events raised on each replica: six deliveries, none twice
    for store in &replicas {
        for _ in 0..3 {
            store.test_alert(&rule, "admin").unwrap();
        }
    }
    let mut ids = HashSet::new();
    for _ in 0..6 {
        let delivery = next(&mut got, Duration::from_secs(10)).await;
        let id = delivery.headers["webhook-id"].to_str().unwrap().to_string();
        assert!(ids.insert(id.clone()), "{id} delivered twice");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        got.try_recv().is_err(),
        "each event once, not once per replica"
    );

    // the leader stops: the other leads (once the leader's lease ends) and delivers
    let [a, b] = replicas;
    let (stopped, survivor) = if leader == 0 { (a, b) } else { (b, a) };
    stopped.begin_shutdown();
    drop(stopped);
    let t0 = Instant::now();
    while !*survivor.leading().borrow() {
        assert!(t0.elapsed() < Duration::from_secs(15), "no takeover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    survivor.test_alert(&rule, "admin").unwrap();
    let delivery = next(&mut got, Duration::from_secs(10)).await;
    assert!(!ids.contains(delivery.headers["webhook-id"].to_str().unwrap()));
    survivor.begin_shutdown();
}
