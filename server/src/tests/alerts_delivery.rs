//! What a webhook or hook delivery does with a receiver that redirects, asks to be tried
//! later, never answers, or a hook that never ends: the limits the README promises, with the
//! console's own values pinned and shorter ones injected so the tests do not wait for them.

use crate::alerts::{spawn_limited, Limits, MAX_ATTEMPTS};
use crate::tests::alerts::{
    add_rule, last_delivery, logged, next, receiver, webhook_rule, Received,
};
use crate::tests::fixture::fixture;
use app::domain::alerts::{EventType, NewAlertRule, Target};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// Limits short enough for tests: 5 ms between attempts, 300 ms per attempt or hook run.
const SHORT: Limits = Limits {
    first_retry: Duration::from_millis(5),
    attempt_timeout: Duration::from_millis(300),
    hook_timeout: Duration::from_millis(300),
};

#[test]
fn the_console_gives_a_webhook_5_s_and_a_hook_10_s() {
    let console = Limits::default();
    assert_eq!(console.attempt_timeout, Duration::from_secs(5));
    assert_eq!(console.hook_timeout, Duration::from_secs(10));
    assert_eq!(console.first_retry, Duration::from_secs(1));
    assert_eq!(MAX_ATTEMPTS, 6, "the first attempt and 5 retries");
}

/// A receiver on loopback answering every request with `status` and `Location: location`.
async fn redirector(status: u16, location: &str) -> (String, UnboundedReceiver<Received>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let location = location.to_string();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let (tx, location) = (tx.clone(), location.clone());
        async move {
            let _ = tx.send(Received {
                headers,
                body: vec![],
                at: Instant::now(),
            });
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            (status, [(axum::http::header::LOCATION, location)])
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

#[tokio::test]
async fn a_webhook_is_never_redirected() {
    let f = fixture().await;
    spawn_limited(f.store.clone(), SHORT);
    let (elsewhere, mut got_elsewhere) = receiver(vec![200]).await;
    // 302 (a client may follow it with a GET) and 307 (with the same POST)
    for status in [302, 307] {
        let (url, mut got) = redirector(status, &elsewhere).await;
        let (id, _) = add_rule(&f, webhook_rule(&url, &["agent.online"], 0)).await;
        f.store.test_alert(&id.parse().unwrap(), "admin").unwrap();
        let delivery = last_delivery(&f, &id).await;
        assert_eq!(
            (
                delivery.delivered,
                delivery.attempts,
                delivery.outcome.as_str()
            ),
            (false, 1, format!("HTTP {status}").as_str()),
            "a redirect is the receiver's answer, not followed and not retried"
        );
        next(&mut got, Duration::from_secs(5)).await;
        // the attempt, redirect included, is over once it is logged
        assert!(
            got_elsewhere.try_recv().is_err(),
            "the {status} was followed to the other receiver"
        );
    }
}

#[tokio::test]
async fn a_webhook_answered_408_or_429_is_tried_again() {
    let f = fixture().await;
    spawn_limited(f.store.clone(), SHORT);
    let (url, mut got) = receiver(vec![408, 429, 200]).await;
    add_rule(&f, webhook_rule(&url, &["agent.online"], 0)).await;
    let rule = f.store.alert_rules().unwrap().remove(0);
    f.store.test_alert(&rule.id, "admin").unwrap();
    let log = logged(&f, 1).await;
    assert_eq!(
        (log[0].delivered, log[0].attempts, log[0].outcome.as_str()),
        (true, 3, "HTTP 200"),
        "{log:?}"
    );
    // the receiver got the three attempts, and none after the delivery
    let mut hits = 0;
    while got.try_recv().is_ok() {
        hits += 1;
    }
    assert_eq!(hits, 3);
}

#[tokio::test]
async fn a_webhook_that_never_answers_times_out_and_is_tried_again() {
    let f = fixture().await;
    spawn_limited(f.store.clone(), SHORT);
    // accepts connections, reads nothing, answers nothing; counts the attempts
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, mut connections) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let _ = tx.send(socket); // kept open, unread
        }
    });
    add_rule(&f, webhook_rule(&url, &["agent.online"], 0)).await;
    let rule = f.store.alert_rules().unwrap().remove(0);
    f.store.test_alert(&rule.id, "admin").unwrap();
    let log = logged(&f, 1).await;
    assert_eq!(
        (log[0].delivered, log[0].attempts, log[0].outcome.as_str()),
        (false, MAX_ATTEMPTS, "no answer within 0.3 s (gave up)"),
        "{log:?}"
    );
    let mut attempts = 0;
    while connections.try_recv().is_ok() {
        attempts += 1;
    }
    assert_eq!(
        attempts, MAX_ATTEMPTS,
        "each attempt on a connection of its own"
    );
}

/// Whether process `pid` still runs (a zombie waiting to be reaped does not).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .unwrap()
            .1
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_hook_that_runs_too_long_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let pids = dir.path().join("pids");
    let script = hooks.join("stuck.sh");
    // the shell becomes `sleep` (same process id), after noting that id
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho $$ >> {}\nexec sleep 60\n", pids.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = app::store::Store::open(
        dir.path().join("data"),
        app::store::StoreConfig {
            hook_dir: Some(hooks),
            ..Default::default()
        },
    )
    .unwrap();
    let rule = NewAlertRule {
        name: "stuck".into(),
        target: Target::Exec {
            program: "stuck.sh".into(),
        },
        events: vec![EventType::AgentOffline],
        scope: Default::default(),
        dedup_s: 0,
    };
    let created = store.create_alert(rule).await.unwrap();
    spawn_limited(store.clone(), SHORT);
    store.test_alert(&created.rule.id, "admin").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.deliveries(&created.rule.id, 1).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no delivery logged within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let d = &store.deliveries(&created.rule.id, 1).unwrap()[0];
    assert_eq!(
        (d.delivered, d.attempts, d.outcome.as_str()),
        (
            false,
            MAX_ATTEMPTS,
            "still running after 0.3 s (killed) (gave up)"
        )
    );
    let pids: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), MAX_ATTEMPTS as usize, "{pids:?}");
    // each run ends (killed) before the next starts; the last one is reaped shortly after
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(pid) = pids.iter().find(|&&p| running(p)) {
        assert!(Instant::now() < deadline, "hook {pid} still runs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
