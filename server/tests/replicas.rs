//! Three `havip serve` replicas on a three-member etcd cluster, all on loopback, act as one
//! console: a session made on one works on the others; creates through all three give each
//! address once and stop at the quota; a create answered by one is listed by the next at once
//! and reaches a browser's live channel on the third; and a replica killed with SIGKILL, then
//! the etcd leader killed, during a storm of creates lose no acknowledged create.

use app::store::TestEtcd;
use futures::StreamExt;
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::*;

/// `havip ARGS` on the cluster at `store`, with the shared sealing key.
fn havip_on(store: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .args(["--data-dir", path(&dir.join("cli"))])
        .args(["--secret-key-file", path(&dir.join("secret.key"))])
        .env("HAVIP_STORE", store)
        .env("HAVIP_PASSWORD", PASSWORD)
        .output()
        .unwrap()
}

/// Replica `n` on the cluster at `store` (its own data directory, the shared sealing key), a
/// quota of 40 HAVIPs per VPC; its port, once it answers.
fn replica(store: &str, dir: &Path, n: usize) -> (Console, u16) {
    let data = dir.join(format!("replica-{n}"));
    let key = dir.join("secret.key");
    serve_with(&[
        "--quota",
        "40",
        "--data-dir",
        path(&data),
        "--secret-key-file",
        path(&key),
        "--store",
        store,
    ])
}

/// A create through the replica on `port`: the HAVIP's (id, ip), or the refusal's status and
/// message.
fn create(
    port: u16,
    cookie: &str,
    at: &(String, String, String),
    name: &str,
) -> Result<(String, String), (u16, String)> {
    let (region, vpc, subnet) = at;
    let body = format!(
        r#"{{"req":{{"region_id":"{region}","name":"{name}","vpc_id":"{vpc}","subnet_id":"{subnet}","ip":"Automatic"}}}}"#
    );
    let (status, _, answer) = http(port, "POST", "/api/create_havip", cookie, &body);
    if status != 200 {
        return Err((status, answer));
    }
    let havip = json(&answer);
    Ok((
        havip["id"].as_str().unwrap().into(),
        havip["ip"].as_str().unwrap().into(),
    ))
}

/// The ids of the HAVIPs the replica on `port` lists.
fn listed(port: u16, cookie: &str) -> HashSet<String> {
    let (status, _, body) = http(port, "GET", "/api/v1/havips", cookie, "");
    assert_eq!(status, 200, "{body}");
    (json(&body).as_array().unwrap().iter())
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_three_etcd_members_act_as_one_console() {
    let dir = tempfile::tempdir().unwrap();
    let mut members = TestEtcd::cluster(dir.path(), 3);
    let store = TestEtcd::cluster_url(&members);
    let out = havip_on(
        &store,
        dir.path(),
        &["user", "add", "admin", "--role", "admin"],
    );
    assert!(out.status.success(), "{out:?}");
    // provisioning run again: the user is there, nothing changes
    let args = ["user", "add", "admin", "--role", "viewer", "--if-absent"];
    let out = havip_on(&store, dir.path(), &args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("left as it is"),
        "{out:?}"
    );
    let mut replicas: Vec<(Console, u16)> =
        (0..3).map(|n| replica(&store, dir.path(), n)).collect();
    let ports: Vec<u16> = replicas.iter().map(|(_, port)| *port).collect();

    // one login, valid on every replica
    let cookie = login(ports[0]);
    for port in &ports {
        assert_eq!(http(*port, "GET", "/api/v1/havips", &cookie, "").0, 200);
    }
    // each replica's metrics say which replica they are from
    let (status, _, metrics) = http(ports[2], "GET", "/metrics", &cookie, "");
    assert_eq!(status, 200, "{metrics}");
    assert!(metrics.contains("replica=\""), "{metrics}");
    // a /27: 29 addresses for 40 creates
    let at = network(ports[1], &cookie, "10.70.0.0/16", "10.70.0.0/27");

    // a browser's live channel on the third replica
    let mut browser = live_channel(ports[2], &cookie).await;
    let hello = browser.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("Hello"), "{hello:?}");

    // read-your-writes: a create answered by one replica is listed by the next at once
    let (first, _) = create(ports[0], &cookie, &at, "first").unwrap();
    assert!(listed(ports[1], &cookie).contains(&first));
    // ... and reaches the browser on the third
    let frame = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match browser.next().await {
                Some(Ok(Message::Text(text))) if text.contains(&first) => return text,
                Some(Ok(_)) => continue,
                other => panic!("the live channel ended: {other:?}"),
            }
        }
    })
    .await
    .expect("the create reaches the browser on another replica");
    assert!(frame.contains("Created"), "{frame}");

    // 39 more creates, 13 through each replica at once: each address once, then "full"
    let storm: Vec<_> = (0..39)
        .map(|i| {
            let (port, cookie, at) = (ports[i % 3], cookie.clone(), at.clone());
            std::thread::spawn(move || create(port, &cookie, &at, &format!("vip-{i}")))
        })
        .collect();
    let mut ips = HashSet::new();
    let mut full = 0;
    for create in storm {
        match create.join().unwrap() {
            Ok((_, ip)) => assert!(ips.insert(ip.clone()), "{ip} given twice"),
            Err((status, message)) => {
                assert_eq!(status, 422, "{message}");
                assert!(message.contains("is full"), "{message}");
                full += 1;
            }
        }
    }
    assert_eq!((ips.len(), full), (28, 11), "29 addresses, each given once");

    // a second subnet for a storm during failures: one replica killed with SIGKILL, then
    // the etcd leader
    let at = network(ports[0], &cookie, "10.71.0.0/16", "10.71.0.0/24");
    let storm: Vec<_> = (0..30)
        .map(|i| {
            let (port, cookie, at) = (ports[i % 3], cookie.clone(), at.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20 * i as u64));
                create(port, &cookie, &at, &format!("storm-{i}"))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let (mut killed, _) = replicas.remove(2);
    killed.0.kill().unwrap();
    killed.0.wait().unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let leader = (members.iter().position(TestEtcd::is_leader)).expect("the cluster has a leader");
    members[leader].stop();
    let acknowledged: Vec<String> = storm
        .into_iter()
        // (a create to the killed replica has no answer: its thread's panic is not one)
        .filter_map(|create| create.join().ok()?.ok().map(|(id, _)| id))
        .collect();
    assert!(
        acknowledged.len() >= 10,
        "the surviving replicas kept answering: {acknowledged:?}"
    );

    // every acknowledged create is there, on both surviving replicas, and the records agree
    for (_, port) in &replicas {
        let listed = listed(*port, &cookie);
        for id in &acknowledged {
            assert!(listed.contains(id), "{id} acknowledged, then lost");
        }
    }
    let out = havip_on(&store, dir.path(), &["check"]);
    assert!(out.status.success(), "{out:?}");
}
