//! Alerts end to end on loopback: rules added over HTTP as an admin, events raised by real
//! observations, the dispatcher delivering to a real HTTP receiver (or a hook program), and
//! the delivery log read back over HTTP.

use crate::alerts::webhook::sign;
use crate::tests::fixture::{
    announce, fixture, fixture_with, form, lab_agent, page_in, request_as, Fixture,
};
use app::api::alerts::{AlertsPage, CreateAlert, TestAlert};
use app::domain::alerts::{AlertRow, EventType, NewAlertRule, Target};
use app::domain::auth::Role;
use app::domain::binding::{Change, Observation};
use app::domain::mac::Mac;
use axum::http::{HeaderMap, Method, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the receiver got: headers, body, and when.
pub(crate) struct Received {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) at: Instant,
}

/// An HTTP receiver on loopback answering each request (of any method) with the next of
/// `statuses` (the last one repeats).
pub(crate) async fn receiver(statuses: Vec<u16>) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let statuses = Arc::new(Mutex::new(statuses));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::any(move |headers: HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            let statuses = statuses.clone();
            async move {
                let _ = tx.send(Received {
                    headers,
                    body: body.to_vec(),
                    at: Instant::now(),
                });
                let mut s = statuses.lock().unwrap();
                let code = if s.len() > 1 { s.remove(0) } else { s[0] };
                StatusCode::from_u16(code).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// Asks, over HTTP as the admin, for a rule to be added.
async fn post_rule(f: &Fixture, rule: Value) -> (StatusCode, Value) {
    request_as(
        f,
        Some(Role::Admin),
        Method::POST,
        CreateAlert::PATH,
        Some("application/json"),
        json!({ "rule": rule }).to_string(),
    )
    .await
}

/// Adds a rule over HTTP as the admin; returns its id and secret.
pub(crate) async fn add_rule(f: &Fixture, rule: Value) -> (String, Option<String>) {
    let (status, answer) = post_rule(f, rule).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (
        answer["rule"]["id"].as_str().unwrap().to_string(),
        answer["secret"].as_str().map(String::from),
    )
}

pub(crate) fn webhook_rule(url: &str, events: &[&str], dedup_s: u32) -> Value {
    json!({"name": "pager", "target": {"kind": "webhook", "url": url}, "events": events,
           "scope": {}, "dedup_s": dedup_s})
}

pub(crate) async fn next(rx: &mut mpsc::UnboundedReceiver<Received>, within: Duration) -> Received {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("a delivery in time")
        .unwrap()
}

/// The CloudEvent in a delivery, after checking its signature with `secret`.
fn verified(r: &Received, secret: &str) -> Value {
    let header = |name: &str| r.headers[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "application/cloudevents+json");
    let id = header("webhook-id");
    let timestamp: u64 = header("webhook-timestamp").parse().unwrap();
    let now = app::support::now_ms() / 1000;
    assert!(
        now.abs_diff(timestamp) < 10,
        "timestamp {timestamp} vs {now}"
    );
    assert_eq!(
        sign(secret, &id, timestamp, &r.body),
        Some(header("webhook-signature")),
        "the signature verifies"
    );
    assert_ne!(
        sign("whsec_AAAA", &id, timestamp, &r.body),
        Some(header("webhook-signature"))
    );
    let event: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["datacontenttype"], "application/json");
    assert!(event["source"].as_str().unwrap().starts_with("/havip/"));
    event
}

async fn rows(f: &Fixture) -> (Vec<AlertRow>, String) {
    let (status, answer) = request_as(
        f,
        Some(Role::Admin),
        Method::POST,
        AlertsPage::PATH,
        Some("application/x-www-form-urlencoded"),
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (
        serde_json::from_value(answer["rows"].clone()).unwrap(),
        answer.to_string(),
    )
}

/// Waits until the rule's log has `n` deliveries.
pub(crate) async fn logged(f: &Fixture, n: usize) -> Vec<app::domain::alerts::Delivery> {
    let t0 = Instant::now();
    loop {
        let (rows, _) = rows(f).await;
        if rows[0].recent.len() >= n {
            return rows[0].recent.clone();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{n} deliveries logged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn failover_and_split_brain_reach_a_webhook_signed_as_cloudevents() {
    let f = fixture().await;
    crate::alerts::spawn_with(f.store.clone(), Duration::from_millis(20));
    let (url, mut got) = receiver(vec![200]).await;
    let mut rule = webhook_rule(
        &url,
        &["havip.holder.changed", "havip.conflict.detected"],
        0,
    );
    rule["scope"] = json!({"havip_id": f.havip.id});
    let (_, secret) = add_rule(&f, rule).await;
    let secret = secret.expect("a webhook rule comes with its secret");
    assert!(secret.starts_with("whsec_"));
    let a = lab_agent(&f).await;

    let t0 = Instant::now();
    assert_eq!(announce(&f, &a, "52:54:00:00:00:01").len(), 1);
    let bound = verified(&next(&mut got, Duration::from_secs(5)).await, &secret);
    assert_eq!(bound["type"], "havip.holder.changed");
    assert_eq!(bound["subject"], f.havip.id.as_str());
    assert_eq!(bound["data"]["vip"], "172.16.16.12");
    assert_eq!(bound["data"]["from"], Value::Null);
    assert_eq!(bound["data"]["to"]["mac"], "52:54:00:00:00:01");

    let changes = announce(&f, &a, "52:54:00:00:00:02");
    assert!(
        matches!(changes[..], [Change::Failover { .. }]),
        "{changes:?}"
    );
    let failover = next(&mut got, Duration::from_secs(5)).await;
    println!(
        "failover raised to webhook received: {} ms",
        failover.at.duration_since(t0).as_millis()
    );
    let failover = verified(&failover, &secret);
    assert_eq!(failover["data"]["from"]["mac"], "52:54:00:00:00:01");
    assert_eq!(failover["data"]["to"]["mac"], "52:54:00:00:00:02");
    assert_eq!(
        failover["data"]["change"],
        "Failover 52:54:00:00:00:01 → 52:54:00:00:00:02"
    );

    // the old holder answers a probe while the new one holds, after the handover's in-flight
    // answers: two fresh claims, split brain
    let grace = app::domain::binding::BindingRules::default().handover_grace_ms;
    tokio::time::sleep(Duration::from_millis(grace + 50)).await;
    let mac1: Mac = "52:54:00:00:00:01".parse().unwrap();
    let changes = f
        .store
        .observe(&a, f.havip.ip, Observation::ProbeReply { mac: mac1 })
        .unwrap();
    assert!(
        matches!(changes[..], [Change::Conflict { .. }]),
        "{changes:?}"
    );
    let conflict = verified(&next(&mut got, Duration::from_secs(5)).await, &secret);
    assert_eq!(conflict["type"], "havip.conflict.detected");
    assert_eq!(conflict["data"]["claimants"].as_array().unwrap().len(), 2);

    // every delivery is logged with its outcome; the secret is never shown again
    let log = logged(&f, 3).await;
    assert!(log
        .iter()
        .all(|d| d.delivered && d.outcome == "HTTP 200" && d.attempts == 1));
    assert_eq!(log[0].event_type, EventType::ConflictDetected);
    let (_, page) = rows(&f).await;
    assert!(
        !page.contains(&secret[6..]),
        "the secret is not on the page"
    );
    let audit = serde_json::to_string(&f.store.dump().unwrap()).unwrap();
    assert!(
        !audit.contains(&secret[6..]),
        "the secret is stored sealed only"
    );
    // nothing else was sent (scope and types filter the rest)
    assert!(got.try_recv().is_err());
}

#[tokio::test]
async fn deliveries_retry_with_back_off_and_stop_at_a_refusal() {
    let f = fixture().await;
    crate::alerts::spawn_with(f.store.clone(), Duration::from_millis(20));
    // two 503s, then the receiver recovers
    let (url, mut got) = receiver(vec![503, 503, 200]).await;
    let (id, _) = add_rule(&f, webhook_rule(&url, &["agent.online"], 0)).await;
    let a = lab_agent(&f).await;
    let _connected = f.store.agent_connected(&a);
    let attempts: Vec<Received> = vec![
        next(&mut got, Duration::from_secs(5)).await,
        next(&mut got, Duration::from_secs(5)).await,
        next(&mut got, Duration::from_secs(5)).await,
    ];
    let ids: Vec<_> = attempts
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "retries carry the same id"
    );
    // three attempts (503, 503, 200) and none after the 200; the waits between them are
    // `retry_wait`'s, tested on their own below (measured gaps would test the machine's speed)
    let log = logged(&f, 1).await;
    assert_eq!((log[0].delivered, log[0].attempts), (true, 3), "{log:?}");
    assert!(got.try_recv().is_err(), "no attempt after the delivery");

    // a 410 is the receiver's answer, not trouble: one attempt, logged as not delivered
    let (gone, mut got_gone) = receiver(vec![410]).await;
    add_rule(&f, webhook_rule(&gone, &["havip.lost"], 0)).await;
    f.store.delete_alert(&id.parse().unwrap()).await.unwrap();
    let second = f.store.alert_rules().unwrap().remove(0);
    let (status, answer) = request_as(
        &f,
        Some(Role::Admin),
        Method::POST,
        TestAlert::PATH,
        Some("application/x-www-form-urlencoded"),
        form(&[("id", second.id.as_str())]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    next(&mut got_gone, Duration::from_secs(5)).await;
    let log = logged(&f, 1).await;
    assert_eq!(
        (log[0].delivered, log[0].attempts, log[0].outcome.as_str()),
        (false, 1, "HTTP 410")
    );
}

#[test]
fn the_wait_between_attempts_doubles_within_its_jitter() {
    use crate::alerts::{retry_wait, MAX_ATTEMPTS};
    let first = Duration::from_secs(1);
    let schedule = |random: f64| -> Vec<Duration> {
        (1..MAX_ATTEMPTS)
            .map(|failed| retry_wait(first, failed, random))
            .collect()
    };
    // without jitter: 1, 2, 4, 8 and 16 s between the six attempts
    let secs = |s: &[u64]| {
        s.iter()
            .map(|&s| Duration::from_secs(s))
            .collect::<Vec<_>>()
    };
    assert_eq!(schedule(0.5), secs(&[1, 2, 4, 8, 16]));
    // the jitter stays within ±20%
    let ms = |s: &[u64]| {
        s.iter()
            .map(|&s| Duration::from_millis(s))
            .collect::<Vec<_>>()
    };
    assert_eq!(schedule(0.0), ms(&[800, 1600, 3200, 6400, 12800]));
    assert_eq!(schedule(1.0), ms(&[1200, 2400, 4800, 9600, 19200]));
    // so each wait is longer than the one before, whatever the jitter of either
    for failed in 1..MAX_ATTEMPTS - 1 {
        assert!(
            retry_wait(first, failed + 1, 0.0) > retry_wait(first, failed, 1.0),
            "after attempt {failed}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_webhook_is_given_up_after_the_last_attempt() {
    let f = fixture().await;
    crate::alerts::spawn_with(f.store.clone(), Duration::from_millis(5));
    // a port nothing listens on (bound, then closed)
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (id, _) = add_rule(
        &f,
        webhook_rule(&format!("http://127.0.0.1:{port}/x"), &["agent.online"], 0),
    )
    .await;
    f.store.test_alert(&id.parse().unwrap(), "admin").unwrap();
    let log = logged(&f, 1).await;
    assert!(!log[0].delivered);
    assert_eq!(log[0].attempts, crate::alerts::MAX_ATTEMPTS);
    assert_eq!(log[0].outcome, "cannot connect (gave up)");
    // by its code too, for the Alerts page to say in the reader's language
    let coded = log[0].outcome_text.as_ref().expect("the outcome's code");
    assert_eq!(
        (coded.code.as_str(), log[0].gave_up),
        ("outcomes.cannot_connect", true)
    );
    let english = page_in(&f, "/alerts", "en").await;
    assert!(english.contains("✗ cannot connect (gave up) · alert.test"));
    let chinese = page_in(&f, "/alerts", "zh-CN").await;
    assert!(
        chinese.contains("✗ 无法连接（已放弃） · alert.test"),
        "in Chinese"
    );
}

#[tokio::test]
async fn a_flapping_vip_sends_the_first_change_and_then_the_last() {
    let f = fixture().await;
    crate::alerts::spawn_with(f.store.clone(), Duration::from_millis(20));
    let (url, mut got) = receiver(vec![200]).await;
    let (_, secret) = add_rule(&f, webhook_rule(&url, &["havip.holder.changed"], 1)).await;
    let secret = secret.unwrap();
    let a = lab_agent(&f).await;
    let macs = ["52:54:00:00:00:01", "52:54:00:00:00:02"];
    for i in 0..10 {
        announce(&f, &a, macs[i % 2]);
    }
    let first = verified(&next(&mut got, Duration::from_secs(5)).await, &secret);
    assert_eq!(first["data"]["to"]["mac"], macs[0]);
    let last = next(&mut got, Duration::from_secs(5)).await;
    let last_at = last.at;
    let last = verified(&last, &secret);
    assert_eq!(
        last["data"]["to"]["mac"], macs[1],
        "the last word: where it ended up"
    );
    assert_eq!(last["data"]["suppressed"], 8);
    // two messages for ten flaps: nothing follows once the window that began with the last
    // message has ended with nothing held back. Deliveries to one rule keep the events' order,
    // so a test alert raised after that end is the next thing the receiver gets. The wait is
    // the rule's window (behaviour), not a guess at the machine's speed.
    let window_over = last_at + Duration::from_secs(1) + 2 * crate::alerts::TICK;
    tokio::time::sleep_until(window_over.into()).await;
    let rule = f.store.alert_rules().unwrap().remove(0);
    f.store.test_alert(&rule.id, "admin").unwrap();
    let after = verified(&next(&mut got, Duration::from_secs(5)).await, &secret);
    assert_eq!(after["type"], "alert.test", "two messages for ten flaps");
}

#[tokio::test]
async fn rules_are_checked_on_the_server_and_refusals_change_nothing() {
    let f = fixture().await;
    let before = f.store.dump().unwrap();
    // each refusal names its field, and its message's code (said in the reader's language)
    let bad = [
        (
            webhook_rule("file:///etc/passwd", &["havip.lost"], 0),
            "url",
            "errors_alerts.url_scheme",
        ),
        (
            webhook_rule("http://u:p@h/", &["havip.lost"], 0),
            "url",
            "errors_alerts.url_credentials",
        ),
        (
            webhook_rule("http://h/", &[], 0),
            "events",
            "errors_alerts.no_events",
        ),
        (
            webhook_rule("http://h/", &["alert.test"], 0),
            "events",
            "errors_alerts.test_not_chosen",
        ),
        (
            webhook_rule("http://h/", &["havip.lost"], 86_401),
            "dedup_s",
            "errors_alerts.dedup_max",
        ),
        (
            json!({"name": "x", "target": {"kind": "exec", "program": "../../bin/sh"}, "events": ["havip.lost"]}),
            "program",
            "errors_alerts.program_name",
        ),
        // hooks are off unless the console has a hook directory
        (
            json!({"name": "x", "target": {"kind": "exec", "program": "notify"}, "events": ["havip.lost"]}),
            "program",
            "errors_store.hooks_off",
        ),
        (
            json!({"name": "x", "target": {"kind": "webhook", "url": "http://h/"}, "events": ["havip.lost"],
                "scope": {"havip_id": "havip-zzzzzzzz"}}),
            "scope",
            "errors.not_found",
        ),
        (
            json!({"name": "x", "target": {"kind": "webhook", "url": "http://h/"}, "events": ["havip.lost"],
                "scope": {"havip_id": f.havip.id, "subnet_id": "subnet-zzzzzzzz"}}),
            "scope",
            "errors_store.alert_scope_clash",
        ),
    ];
    for (rule, field, code) in bad {
        let (status, answer) = post_rule(&f, rule.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{rule}: {answer}");
        assert_eq!(answer["field"], field, "{rule}: {answer}");
        assert_eq!(answer["code"], code, "{rule}: {answer}");
    }
    // an unknown event type is not a rule at all
    let (status, _) = post_rule(&f, webhook_rule("http://h/", &["havip.nope"], 0)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        f.store.dump().unwrap() == before,
        "refusals changed nothing"
    );
}

#[tokio::test]
async fn a_hook_program_gets_the_event_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let script = hooks.join("record.sh");
    let out = dir.path().join("out");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n{{ echo \"$HAVIP_EVENT_TYPE $HAVIP_EVENT_SUBJECT\"; cat; }} > {}.tmp && mv {0}.tmp {0}\n", out.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(hooks.join("not-executable"), "#!/bin/sh\n").unwrap();
    let store = app::store::Store::open(
        dir.path().join("data"),
        app::store::StoreConfig {
            hook_dir: Some(hooks.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let exec = |program: &str| NewAlertRule {
        name: "hook".into(),
        target: Target::Exec {
            program: program.into(),
        },
        events: vec![EventType::AgentOffline],
        scope: Default::default(),
        dedup_s: 0,
    };
    for refused in ["not-executable", "missing"] {
        let e = store.create_alert(exec(refused)).await.unwrap_err();
        assert_eq!(e.field.as_deref(), Some("program"), "{refused}: {e:?}");
    }
    let created = store.create_alert(exec("record.sh")).await.unwrap();
    assert_eq!(created.secret, None, "hooks have no secret");
    crate::alerts::spawn_with(store.clone(), Duration::from_millis(20));
    store.test_alert(&created.rule.id, "admin").unwrap();
    let t0 = Instant::now();
    while !out.exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "the hook ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let (first, event) = text.split_once('\n').unwrap();
    assert_eq!(first, format!("alert.test {}", created.rule.id));
    let event: Value = serde_json::from_str(event).unwrap();
    assert_eq!(event["type"], "alert.test");
    assert_eq!(event["data"]["requested_by"], "admin");
    let t0 = Instant::now();
    while store.deliveries(&created.rule.id, 1).unwrap().is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let d = &store.deliveries(&created.rule.id, 1).unwrap()[0];
    assert_eq!((d.delivered, d.outcome.as_str()), (true, "exit status 0"));
}

/// The latest delivery of rule `id`, as the Alerts page shows it (over HTTP).
pub(crate) async fn last_delivery(f: &Fixture, id: &str) -> app::domain::alerts::Delivery {
    let t0 = Instant::now();
    loop {
        let (rows, _) = rows(f).await;
        let row = rows.iter().find(|r| r.rule.id == *id).unwrap();
        if let Some(d) = row.recent.first() {
            return d.clone();
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "a delivery logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Without `--allow-private-webhooks`, a webhook to loopback is refused: when the rule names
/// the address, at creation; when it names a host (`localhost`), when the delivery connects,
/// whatever the name resolved to before. With the flag, the same receiver gets it.
#[tokio::test]
async fn webhooks_to_loopback_are_refused_unless_allowed() {
    let f = fixture_with(app::store::StoreConfig::default()).await;
    crate::alerts::spawn_with(f.store.clone(), Duration::from_millis(5));
    let (url, mut got) = receiver(vec![200]).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let before = f.store.dump().unwrap();
    let (status, answer) = post_rule(&f, webhook_rule(&url, &["agent.online"], 0)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["field"], "url", "{answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("loopback") && message.contains("--allow-private-webhooks"),
        "{answer}"
    );
    assert_eq!(answer["code"], "errors_alerts.url_refused", "{answer}");
    assert_eq!(answer["words"]["what"], "errors_words.loopback_address");
    assert!(
        f.store.dump().unwrap() == before,
        "a refused rule was saved"
    );

    let by_name = url.replace("127.0.0.1", "localhost");
    let (id, _) = add_rule(&f, webhook_rule(&by_name, &["agent.online"], 0)).await;
    f.store.test_alert(&id.parse().unwrap(), "admin").unwrap();
    let refused = last_delivery(&f, &id).await;
    assert!(!refused.delivered);
    assert_eq!(refused.attempts, 1, "a refusal is not retried");
    assert!(
        refused
            .outcome
            .starts_with("refused: localhost resolves to")
            && refused.outcome.contains("loopback"),
        "{}",
        refused.outcome
    );
    assert!(got.try_recv().is_err(), "nothing reached the receiver");

    // the same, on a console allowing them
    let allowing = fixture().await;
    crate::alerts::spawn_with(allowing.store.clone(), Duration::from_millis(5));
    for target in [&url, &by_name] {
        let (id, _) = add_rule(&allowing, webhook_rule(target, &["agent.online"], 0)).await;
        allowing
            .store
            .test_alert(&id.parse().unwrap(), "admin")
            .unwrap();
        next(&mut got, Duration::from_secs(10)).await;
        let delivered = last_delivery(&allowing, &id).await;
        assert_eq!(
            (delivered.delivered, delivered.outcome.as_str()),
            (true, "HTTP 200"),
            "{target}"
        );
    }
}
