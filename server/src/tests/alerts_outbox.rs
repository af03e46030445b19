//! The alert outbox across a restart of the console: an event raised but not yet matched to
//! its rules, and a delivery still being retried when the console stops, are delivered when it
//! starts again on the same data, with the same event id, and nothing stays pending after.

use crate::alerts::spawn_with;
use crate::tests::alerts::{next, receiver};
use app::domain::alerts::{EventType, NewAlertRule, Target, WebhookDestinations};
use app::domain::ids::AlertId;
use app::store::{Store, StoreConfig};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

fn open(dir: &Path) -> Store {
    let config = StoreConfig {
        webhooks: WebhookDestinations::allowing_internal(),
        ..Default::default()
    };
    Store::open(dir, config).unwrap()
}

async fn webhook(store: &Store, url: &str) -> AlertId {
    let rule = NewAlertRule {
        name: "pager".into(),
        target: Target::Webhook { url: url.into() },
        events: vec![EventType::AgentOnline],
        scope: Default::default(),
        dedup_s: 0,
    };
    store.create_alert(rule).await.unwrap().rule.id
}

/// Stops the console as `havip serve` does; the store can then be opened again (its last
/// handles, in the dispatcher's workers, go within the 2 s `Store::open` waits for them).
async fn stop(store: Store, dispatcher: JoinHandle<()>) {
    store.begin_shutdown();
    dispatcher.await.unwrap();
    store.shut_down_cleanly().unwrap();
}

/// Waits until the rule has logged a delivery and nothing is left in the outbox.
async fn delivered_and_settled(store: &Store, rule: &AlertId) -> app::domain::alerts::Delivery {
    let t0 = Instant::now();
    loop {
        let logged = store.deliveries(rule, 10).unwrap();
        let left =
            ["alert_outbox", "alert_pending"].map(|name| store.raw_tree(name).unwrap().len());
        if logged.len() == 1 && left == [0, 0] {
            return logged[0].clone();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "delivered once and settled: {logged:?}, left in the outbox and pending: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_delivery_still_being_retried_when_the_console_stops_goes_on_after_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    // the receiver fails the first attempt and accepts the next
    let (url, mut got) = receiver(vec![503, 200]).await;
    let store = open(dir.path());
    let rule = webhook(&store, &url).await;
    // a long wait before the second attempt: the console stops during it
    let dispatcher = spawn_with(store.clone(), Duration::from_secs(60));
    store.test_alert(&rule, "admin").unwrap();
    let first = next(&mut got, Duration::from_secs(5)).await;
    stop(store, dispatcher).await;

    let store = open(dir.path());
    assert!(
        store.deliveries(&rule, 10).unwrap().is_empty(),
        "a stop is not the delivery's end"
    );
    let dispatcher = spawn_with(store.clone(), Duration::from_secs(60));
    let second = next(&mut got, Duration::from_secs(5)).await;
    assert_eq!(
        first.headers["webhook-id"], second.headers["webhook-id"],
        "the same event"
    );
    let delivery = delivered_and_settled(&store, &rule).await;
    assert_eq!(
        (delivery.delivered, delivery.outcome.as_str()),
        (true, "HTTP 200")
    );
    assert!(got.try_recv().is_err(), "delivered once after the start");
    stop(store, dispatcher).await;
}

#[tokio::test]
async fn an_event_raised_while_no_dispatcher_runs_is_delivered_when_one_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut got) = receiver(vec![200]).await;
    let store = open(dir.path());
    let rule = webhook(&store, &url).await;
    // raised, then the console dies before its dispatcher has matched it
    store.test_alert(&rule, "admin").unwrap();
    store.flush_now().unwrap();
    drop(store);

    let store = open(dir.path());
    let dispatcher = spawn_with(store.clone(), Duration::from_millis(20));
    let received = next(&mut got, Duration::from_secs(5)).await;
    let event: serde_json::Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(event["type"], "alert.test");
    assert_eq!(event["data"]["requested_by"], "admin");
    let delivery = delivered_and_settled(&store, &rule).await;
    assert!(delivery.delivered, "{delivery:?}");
    // an event raised now is delivered as before, and the earlier one not again
    store.test_alert(&rule, "admin").unwrap();
    let again = next(&mut got, Duration::from_secs(5)).await;
    assert_ne!(received.headers["webhook-id"], again.headers["webhook-id"]);
    stop(store, dispatcher).await;
    assert!(got.try_recv().is_err(), "each event delivered once");
}
