//! The agent endpoint over real loopback websockets.

use crate::agent::protocol::{Liveness, MAX_FRAME_BYTES};
use app::domain::binding::Status;
use app::domain::model::{IpChoice, NewHavip};
use app::store::{Store, StoreConfig};
use axum::extract::ws::WebSocketUpgrade;
use futures::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error, Message};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    url: String,
    token: String,
    havip_id: app::domain::ids::HavipId,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let region = store.regions().unwrap().remove(0);
    let vpc = store.network_view(&region.id).unwrap().remove(0);
    let subnet = vpc.subnets[0].subnet.clone();
    let havip = store
        .create_havip(NewHavip {
            region_id: region.id,
            name: "vip".into(),
            vpc_id: vpc.vpc.id.clone(),
            subnet_id: subnet.id.clone(),
            ip: IpChoice::Manual("172.16.16.12".into()),
        })
        .await
        .unwrap();
    let (_, token) = store
        .create_agent("test-agent", &[subnet.id])
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (access, _) = crate::console::access::Access::new(store.clone(), false).unwrap();
    let app = crate::console::serve::router(store.clone(), addr, access);
    tokio::spawn(async move { axum::serve(listener, app.into_make_service()).await });
    Fixture {
        _dir: dir,
        store,
        url: format!("ws://{addr}/agent/ws"),
        token,
        havip_id: havip.id,
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, token: Option<&str>) -> Result<Ws, Error> {
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = token {
        req.headers_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

async fn text(ws: &mut Ws, body: &str) {
    ws.send(Message::Text(body.to_string().into()))
        .await
        .unwrap();
}

/// Reads until the server closes; returns the close code and reason.
async fn closed(ws: &mut Ws) -> (CloseCode, String) {
    while let Some(msg) = ws.next().await {
        if let Ok(Message::Close(Some(frame))) = msg {
            return (frame.code, frame.reason.to_string());
        }
        if msg.is_err() {
            break;
        }
    }
    panic!("connection ended without a close frame");
}

const HELLO: &str = r#"{"type":"hello","version":1,"interface":"eth0","mac":"02:00:00:16:16:fe"}"#;

fn status(f: &Fixture) -> Status {
    f.store.havip(&f.havip_id).unwrap().binding.status()
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_refused_before_upgrade() {
    let f = fixture().await;
    for token in [None, Some("hvt_wrong"), Some("")] {
        match connect(&f.url, token).await {
            Err(Error::Http(resp)) => assert_eq!(resp.status(), 401),
            other => panic!("expected 401, got {other:?}"),
        }
    }
}

/// Waits for `ready`, failing the test after 10 s (a deadline for a hung test, not a speed).
async fn eventually(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "not within 10 s: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn hello_watch_and_observations_bind_the_havip() {
    let f = fixture().await;
    // an HAVIP in the VPC's other subnet, which the agent is not scoped to
    let region = f.store.regions().unwrap().remove(0);
    let vpc = f.store.network_view(&region.id).unwrap().remove(0);
    let other = vpc
        .subnets
        .iter()
        .map(|s| s.subnet.clone())
        .find(|s| s.cidr.to_string() == "172.16.17.0/24")
        .expect("the seeded second subnet");
    let agent = f.store.agent_by_token(&f.token).unwrap().unwrap();
    assert!(!agent.subnet_ids.contains(&other.id));
    let outside = f
        .store
        .create_havip(NewHavip {
            region_id: region.id,
            name: "outside".into(),
            vpc_id: vpc.vpc.id.clone(),
            subnet_id: other.id,
            ip: IpChoice::Manual("172.16.17.12".into()),
        })
        .await
        .unwrap();
    let outside_before = f.store.havip(&outside.id).unwrap();
    let mut ws = connect(&f.url, Some(&f.token)).await.unwrap();
    text(&mut ws, HELLO).await;
    let welcome = ws.next().await.unwrap().unwrap().into_text().unwrap();
    assert!(
        welcome.contains(r#""type":"welcome""#) && welcome.contains("test-agent"),
        "{welcome}"
    );
    let watch = ws.next().await.unwrap().unwrap().into_text().unwrap();
    assert_eq!(watch.as_str(), r#"{"type":"watch","ips":["172.16.16.12"]}"#);
    // a claim on an HAVIP outside the agent's subnets, and one on an address that is no HAVIP,
    // change nothing; the console handles an agent's messages in order, so once the claim
    // sent after them has bound its HAVIP, these two have been handled too
    text(&mut ws, r#"{"type":"observe","ip":"172.16.17.12","observation":{"kind":"announce","mac":"02:00:00:16:16:07"}}"#).await;
    text(&mut ws, r#"{"type":"observe","ip":"172.16.16.13","observation":{"kind":"announce","mac":"02:00:00:16:16:07"}}"#).await;
    text(&mut ws, r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"announce","mac":"02:00:00:16:16:05"}}"#).await;
    eventually("the in-scope claim binds its HAVIP", || {
        matches!(status(&f), Status::Bound { .. })
    })
    .await;
    assert!(
        matches!(status(&f), Status::Bound { mac, .. } if mac.to_string() == "02:00:00:16:16:05")
    );
    assert_eq!(f.store.history(&f.havip_id, 0, 10).unwrap().len(), 1);
    assert_eq!(
        f.store.havip(&outside.id).unwrap(),
        outside_before,
        "a claim outside the agent's subnets changed that HAVIP"
    );
    assert!(f.store.history(&outside.id, 0, 10).unwrap().is_empty());

    // the watch list follows HAVIP deletions live
    f.store.delete_havip(&f.havip_id).await.unwrap();
    let watch = ws.next().await.unwrap().unwrap().into_text().unwrap();
    assert_eq!(watch.as_str(), r#"{"type":"watch","ips":[]}"#);
}

/// A VRRP advert for the HAVIP's address from `router` (1 s interval).
fn advert(router: &str, mac: &str, priority: u8) -> String {
    format!(
        r#"{{"type":"advert","advert":{{"version":2,"vrid":51,"priority":{priority},"router":"{router}","mac":"{mac}","interval_ms":1000,"addresses":["172.16.16.12"]}}}}"#
    )
}

#[tokio::test]
async fn two_routers_advertising_as_master_are_a_conflict_until_one_stops() {
    let f = fixture().await;
    let mut ws = connect(&f.url, Some(&f.token)).await.unwrap();
    text(&mut ws, HELLO).await;
    ws.next().await.unwrap().unwrap(); // welcome
    ws.next().await.unwrap().unwrap(); // watch
    text(&mut ws, r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"announce","mac":"02:00:00:16:16:05"}}"#).await;
    // both routers advertise three times in a row; only the first answers ARP
    let (a, b) = (
        advert("172.16.16.5", "02:00:00:16:16:05", 100),
        advert("172.16.16.6", "02:00:00:16:16:06", 90),
    );
    for _ in 0..3 {
        text(&mut ws, &a).await;
        text(&mut ws, &b).await;
    }
    eventually("two masters are a conflict", || {
        matches!(status(&f), Status::Conflict { .. })
    })
    .await;
    let history = f.store.history(&f.havip_id, 0, 10).unwrap();
    let conflict = &history[0];
    assert_eq!(
        conflict.change.describe(),
        "Conflict: 02:00:00:16:16:05, 02:00:00:16:16:06"
    );
    assert_eq!(
        conflict.cause,
        "VRID 51: 2 routers advertise as master (172.16.16.5 priority 100, 172.16.16.6 priority 90)"
    );
    // more adverts from both change nothing more
    text(&mut ws, &a).await;
    text(&mut ws, &b).await;
    // the second stops advertising; the first goes on: resolved, once
    let deadline = Instant::now() + Duration::from_secs(10);
    while matches!(status(&f), Status::Conflict { .. }) {
        assert!(Instant::now() < deadline, "the conflict did not resolve");
        text(&mut ws, &a).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let history = f.store.history(&f.havip_id, 0, 10).unwrap();
    let kinds: Vec<String> = history.iter().map(|e| e.change.describe()).collect();
    assert_eq!(
        kinds,
        [
            "Conflict resolved to 02:00:00:16:16:05",
            "Conflict: 02:00:00:16:16:05, 02:00:00:16:16:06",
            "Bound to 02:00:00:16:16:05"
        ]
    );
    assert_eq!(
        history[0].cause,
        "VRID 51: 172.16.16.5 priority 100 alone advertises as master"
    );
}

#[tokio::test]
async fn protocol_violations_close_with_a_reason_and_change_nothing() {
    let f = fixture().await;
    let cases: Vec<(Vec<String>, CloseCode, &str)> = vec![
        (vec![HELLO.replace("\"version\":1", "\"version\":7")], CloseCode::Protocol, "unsupported protocol version 7"),
        (vec![r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"probe_miss"}}"#.into()], CloseCode::Protocol, "the first message must be hello"),
        (vec![HELLO.into(), "{not json".into()], CloseCode::Invalid, "malformed message"),
        (vec![HELLO.into(), r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"announce","mac":"nope"}}"#.into()], CloseCode::Invalid, "malformed message"),
        (vec![HELLO.into(), format!(r#"{{"type":"snapshot","holders":[],"x":"{}"}}"#, "a".repeat(MAX_FRAME_BYTES))], CloseCode::Size, "exceeds the limit"),
    ];
    for (frames, code, reason) in cases {
        let mut ws = connect(&f.url, Some(&f.token)).await.unwrap();
        for frame in &frames {
            text(&mut ws, frame).await;
        }
        let (got_code, got_reason) = closed(&mut ws).await;
        assert_eq!(got_code, code, "{reason}");
        assert!(got_reason.contains(reason), "{got_reason}");
        assert_eq!(status(&f), Status::Unbound);
    }
    let mut ws = connect(&f.url, Some(&f.token)).await.unwrap();
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(closed(&mut ws).await.0, CloseCode::Unsupported);
    assert!(f.store.history(&f.havip_id, 0, 10).unwrap().is_empty());
}

#[tokio::test]
async fn a_revoked_token_is_disconnected_and_refused() {
    let f = fixture().await;
    let mut ws = connect(&f.url, Some(&f.token)).await.unwrap();
    text(&mut ws, HELLO).await;
    let agent = f.store.agents().unwrap().remove(0);
    f.store.revoke_agent(&agent.id).await.unwrap();
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(
        (code, reason.as_str()),
        (CloseCode::Policy, "agent token revoked")
    );
    assert!(
        matches!(connect(&f.url, Some(&f.token)).await, Err(Error::Http(r)) if r.status() == 401)
    );
}

#[tokio::test]
async fn an_agent_is_connected_from_its_hello_until_its_connection_ends() {
    let f = fixture().await;
    let agent = f.store.agent_by_token(&f.token).unwrap().unwrap();
    let watched = |f: &Fixture| {
        f.store
            .row(&f.store.havip(&f.havip_id).unwrap())
            .unwrap()
            .watched
    };
    assert_eq!(f.store.presence(&agent.id), None);
    assert!(!watched(&f), "no agent reports for the subnet yet");

    let mut ws = connect(&f.url, Some(&f.token)).await.unwrap();
    text(&mut ws, HELLO).await;
    ws.next().await.unwrap().unwrap(); // welcome: the hello has been handled
    let presence = f.store.presence(&agent.id).unwrap();
    assert_eq!(presence.connections, 1);
    assert!(watched(&f));

    ws.close(None).await.unwrap();
    eventually("the closed connection stops counting", || {
        f.store.presence(&agent.id).unwrap().connections == 0
    })
    .await;
    let after = f.store.presence(&agent.id).unwrap();
    assert_eq!(after.connections, 0);
    assert!(after.since >= presence.since);
    assert!(
        !watched(&f),
        "its HAVIPs show their last reported status as such"
    );
}

/// Keep-alive timing short enough for tests.
const SHORT: Liveness = Liveness {
    ping: Duration::from_millis(50),
    idle: Duration::from_millis(300),
};

/// Serves the fixture's agent sessions with `liveness` (authentication is tested above).
async fn serve_with(f: &Fixture, liveness: Liveness) -> String {
    let agent = f.store.agent_by_token(&f.token).unwrap().unwrap();
    let store = f.store.clone();
    let app = axum::Router::new().route(
        "/agent/ws",
        axum::routing::get(move |ws: WebSocketUpgrade| {
            let (store, agent) = (store.clone(), agent.clone());
            async move {
                ws.on_upgrade(move |socket| {
                    crate::console::agent_ws::session(socket, store, agent, liveness)
                })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("ws://{addr}/agent/ws")
}

fn connections(f: &Fixture) -> u32 {
    let agent = f.store.agent_by_token(&f.token).unwrap().unwrap();
    f.store.presence(&agent.id).map_or(0, |p| p.connections)
}

#[tokio::test]
async fn an_agent_that_goes_silent_is_dropped_after_the_idle_timeout() {
    let f = fixture().await;
    let url = serve_with(&f, SHORT).await;
    let mut ws = connect(&url, None).await.unwrap();
    text(&mut ws, HELLO).await;
    ws.next().await.unwrap().unwrap(); // welcome: the hello has been handled
    assert_eq!(connections(&f), 1);
    // from now on the agent neither reads (so it answers no ping) nor writes, like a host that
    // vanished behind a half-open connection; how soon it is dropped is a matter for
    // benchmarks, the deadline only stops a hung test
    eventually("the silent agent is dropped", || connections(&f) == 0).await;
    let havip = f.store.havip(&f.havip_id).unwrap();
    assert!(!f.store.row(&havip).unwrap().watched);
    drop(ws);
}

#[tokio::test]
async fn an_agent_that_answers_pings_stays_connected_while_quiet() {
    let f = fixture().await;
    let url = serve_with(&f, SHORT).await;
    let mut ws = connect(&url, None).await.unwrap();
    text(&mut ws, HELLO).await;
    ws.next().await.unwrap().unwrap(); // welcome: the hello has been handled
                                       // read (tungstenite answers each ping) but send nothing, until several pings have been
                                       // answered and the agent has been quiet for three idle timeouts: however slowly the
                                       // machine runs, the silence outlasts the timeout. The deadline only stops a hung test.
    let quiet_since = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut pings = 0;
    while pings < 3 || quiet_since.elapsed() < SHORT.idle * 3 {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(msg))) => pings += usize::from(msg.is_ping()),
            Ok(other) => panic!("the server hung up after {pings} pings: {other:?}"),
            Err(_) => panic!("no ping within 10 s ({pings} so far)"),
        }
    }
    assert_eq!(connections(&f), 1);
}
