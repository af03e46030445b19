//! Logins on two replicas on one etcd prefix act as one console's: password guesses spread
//! over the replicas meet one back-off, and a right password clears it on both.

use crate::tests::fixture::PASSWORD;
use crate::tests::security::login;
use app::domain::auth::Role;
use app::store::{Store, StoreConfig, StorePlace, TestEtcd};
use axum::http::StatusCode;
use axum::Router;
use std::path::Path;

fn replica(etcd: &TestEtcd, dir: &Path, key: &Path) -> (Store, Router) {
    let config = StoreConfig {
        place: StorePlace::parse(&etcd.store_url(), "/havip/").unwrap(),
        secret_key_file: Some(key.to_path_buf()),
        ..Default::default()
    };
    let store = Store::open(dir, config).unwrap();
    let (access, _) = crate::console::access::Access::new(store.clone(), false).unwrap();
    let router =
        crate::console::serve::router(store.clone(), "127.0.0.1:0".parse().unwrap(), access);
    (store, router)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_spread_over_two_replicas_meet_one_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let etcd = TestEtcd::start(dir.path());
    let key = dir.path().join("secret.key");
    let (a, router_a) = replica(&etcd, &dir.path().join("a"), &key);
    let (_b, router_b) = replica(&etcd, &dir.path().join("b"), &key);
    a.create_user("ops", PASSWORD, Role::Operator)
        .await
        .unwrap();

    // 12 wrong guesses at once, 6 through each replica: three are checked
    let guesses = (0..12).map(|i| {
        let router = if i % 2 == 0 { &router_a } else { &router_b };
        async move { login(router, "192.0.2.7", "ops", &format!("guess {i}"), "").await }
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|answer| answer.status)
        .collect();
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (3, 9),
        "{statuses:?}"
    );
    // the right password from another network is held back by the name, on either replica
    let answer = login(&router_b, "198.51.100.9", "ops", PASSWORD, "").await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.body
    );

    // once the back-off has passed, the right password on B clears the name for A as well:
    // a mistyped password there is checked again, not held back
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let answer = login(&router_b, "192.0.2.7", "ops", PASSWORD, "").await;
    assert!(
        answer.status.is_success() || answer.status.is_redirection(),
        "{}",
        answer.body
    );
    let answer = login(&router_a, "192.0.2.7", "ops", "mistyped", "").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
}
