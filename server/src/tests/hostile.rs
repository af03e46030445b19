//! Hostile input on every channel: the console's HTTP endpoints, the Tencent-compatible API, the
//! agents' websocket and the browsers' live websocket. Each bad input gets a clear refusal with
//! the right status (or close code), and a dump of the database before and after is identical.
//! (The 37 refusals of the server functions' rules are in `api_tests`.)

use crate::tests::fixture::{fixture, Fixture};
use crate::tests::tcapi::{call, code, key_of, now, signed, Key};
use app::domain::auth::Role;
use app::domain::model::{IpChoice, NewHavip};
use axum::body::Body;
use axum::http::{header, Request};
use futures::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tower::ServiceExt;

/// The records, but for the API signatures accepted: a refused call's is recorded too, so that
/// it cannot be replayed once the state that refused it has changed.
fn records(f: &Fixture) -> Vec<app::store::TreeDump> {
    let mut records = f.store.dump().unwrap();
    records.retain(|(table, _)| table.as_slice() != b"signatures");
    records
}

/// Runs `attempt` and checks it wrote nothing.
async fn unchanged<T>(f: &Fixture, what: &str, attempt: impl std::future::Future<Output = T>) -> T {
    let before = records(f);
    let result = attempt.await;
    let after = records(f);
    for (name, records) in &after {
        if !before.contains(&(name.clone(), records.clone())) {
            let name = String::from_utf8_lossy(name);
            eprintln!("{what}: tree {name} differs");
        }
    }
    assert!(after == before, "{what} changed the database");
    result
}

/// A raw request through the console's router: (status, JSON answer or text).
async fn send(f: &Fixture, cookie: Option<&str>, request: Request<Body>) -> (u16, Value) {
    let mut request = request;
    request
        .headers_mut()
        .insert(header::ACCEPT, "application/json".parse().unwrap());
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
    }
    let response = f.router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, value)
}

/// A POST with its Content-Length, as clients send it.
fn post(path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Request<Body> {
    let body = body.into();
    Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap()
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn bad_http_requests_are_refused_with_their_status() {
    let f = fixture().await;
    let admin = f.cookies[&Role::Admin].clone();
    let (vpc, subnet) = (f.vpc_id.to_string(), f.subnet_id.to_string());
    let havip = |ip: Value| {
        json!({"req": {"region_id": f.havip.region_id, "name": "h", "vpc_id": vpc, "subnet_id": subnet, "ip": ip}})
            .to_string()
    };
    let manual = |ip: &str| havip(json!({ "Manual": ip }));
    let big = "x".repeat(app::api::MAX_BODY_BYTES + 1);
    let chunks = futures::stream::iter(
        (0..40).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 64 * 1024]))),
    );
    let many_ids: Vec<String> = (0..40_000).map(|i| format!("subnet-{i:08x}")).collect();
    let mut invalid_utf8 = br#"{"id":"havip-00000000","name":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);

    // (what, request, status, words in the message)
    let cases: Vec<(&str, Request<Body>, u16, &str)> = vec![
        (
            "a body over the limit, with its length",
            post("/api/create_havip", "application/json", big.clone()),
            413,
            "too large",
        ),
        (
            "a body over the limit, without a length",
            Request::post("/api/create_havip")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(chunks))
                .unwrap(),
            413,
            "too large",
        ),
        (
            "a form over the limit to the login",
            post(
                "/login",
                "application/x-www-form-urlencoded",
                format!("name=a&password={big}"),
            ),
            413,
            "too large",
        ),
        (
            "JSON nested 100,000 deep",
            post(
                "/api/create_havip",
                "application/json",
                format!(r#"{{"req":{}}}"#, nested(100_000)),
            ),
            400,
            "Malformed",
        ),
        (
            "JSON nested 100,000 deep in a list",
            post(
                "/api/create_agent",
                "application/json",
                format!(r#"{{"name":"a","subnet_ids":{}}}"#, nested(100_000)),
            ),
            400,
            "Malformed",
        ),
        (
            "40,000 unknown subnet ids",
            post(
                "/api/create_agent",
                "application/json",
                json!({"name": "a", "subnet_ids": many_ids}).to_string(),
            ),
            422,
            "does not exist",
        ),
        (
            "invalid UTF-8 in a JSON body",
            post(
                "/api/create_havip",
                "application/json",
                invalid_utf8.clone(),
            ),
            400,
            "Malformed",
        ),
        (
            "invalid UTF-8 in a form",
            post(
                "/api/rename_havip",
                "application/x-www-form-urlencoded",
                format!("id={}&name=%FF%FE", f.havip.id),
            ),
            400,
            "Malformed",
        ),
        (
            "JSON sent as text/plain",
            post("/api/create_havip", "text/plain", manual("172.16.16.20")),
            415,
            "not accepted",
        ),
        (
            "JSON sent as a form",
            post(
                "/api/create_havip",
                "application/x-www-form-urlencoded",
                manual("172.16.16.20"),
            ),
            415,
            "send it as application/json",
        ),
        (
            "a JSON number where an id goes",
            post(
                "/api/rename_havip",
                "application/json",
                r#"{"id":12,"name":"x"}"#,
            ),
            400,
            "Malformed",
        ),
        (
            "an IPv4-mapped IPv6 address",
            post(
                "/api/create_havip",
                "application/json",
                manual("::ffff:172.16.16.20"),
            ),
            422,
            "IPv4",
        ),
        (
            "an address with leading zeros",
            post(
                "/api/create_havip",
                "application/json",
                manual("172.016.016.020"),
            ),
            422,
            r#""172.016.016.020" is not a valid IPv4 address"#,
        ),
        (
            "an address with a trailing dot",
            post(
                "/api/create_havip",
                "application/json",
                manual("172.16.16.20."),
            ),
            422,
            r#""172.16.16.20." is not a valid IPv4 address"#,
        ),
        (
            "an address with five parts",
            post(
                "/api/create_havip",
                "application/json",
                manual("172.16.16.20.1"),
            ),
            422,
            r#""172.16.16.20.1" is not a valid IPv4 address"#,
        ),
        (
            "an address choice that does not exist",
            post(
                "/api/create_havip",
                "application/json",
                havip(json!({"Random": true})),
            ),
            400,
            "Malformed",
        ),
        (
            "an HAVIP id of the wrong kind",
            post(
                "/api/rename_havip",
                "application/x-www-form-urlencoded",
                format!("id={vpc}&name=x"),
            ),
            400,
            "Malformed",
        ),
        (
            "a name of 10,000 characters",
            post(
                "/api/rename_havip",
                "application/x-www-form-urlencoded",
                format!("id={}&name={}", f.havip.id, "n".repeat(10_000)),
            ),
            422,
            "at most 60",
        ),
        (
            "a NUL in a name",
            post(
                "/api/rename_havip",
                "application/x-www-form-urlencoded",
                format!("id={}&name=a%00b", f.havip.id),
            ),
            422,
            "control characters",
        ),
        (
            "a right-to-left override in a name",
            post(
                "/api/rename_havip",
                "application/x-www-form-urlencoded",
                format!("id={}&name=a%E2%80%AEb", f.havip.id),
            ),
            422,
            "control characters",
        ),
    ];
    let n = cases.len();
    for (what, request, status, words) in cases {
        assert!(
            !words.is_empty(),
            "{what}: an empty message matches anything"
        );
        let (got, answer) = unchanged(&f, what, send(&f, Some(&admin), request)).await;
        assert_eq!(got, status, "{what}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(
            message.to_lowercase().contains(&words.to_lowercase()),
            "{what}: {answer}"
        );
    }

    // a session replayed after its logout
    let (_, token) = f
        .store
        .login("admin-user", crate::tests::fixture::PASSWORD, None)
        .await
        .unwrap();
    f.store.end_session(&token).await.unwrap();
    let cookie = format!("{}={token}", crate::console::access::SESSION_COOKIE);
    let request = post(
        "/api/create_havip",
        "application/json",
        manual("172.16.16.21"),
    );
    let (got, answer) = unchanged(&f, "a replayed session", send(&f, Some(&cookie), request)).await;
    assert_eq!(got, 401, "{answer}");
    eprintln!("{} bad HTTP requests refused", n + 1);
}

#[tokio::test]
async fn bad_calls_to_the_tencent_api_are_refused_with_their_codes() {
    let f = fixture().await;
    let api = crate::tcapi::router(crate::tcapi::TcApi::new(f.store.clone(), 1000));
    let key = key_of(&f, Role::Admin).await;
    let unknown = Key {
        id: format!("AKID{}", "0".repeat(32)),
        secret: "x".repeat(32),
    };
    let vpc = f.vpc_id.to_string();
    let subnet = f.subnet_id.to_string();
    let other_vpc = f
        .store
        .create_vpc(&f.havip.region_id, "other", "10.1.0.0/16")
        .await
        .unwrap();
    let create =
        |address: &str| json!({"VpcId": vpc, "SubnetId": subnet, "HaVipName": "h", "Vip": address});
    let with_body = |body: &[u8], content_type: &str| {
        let mut request = signed(&key, "CreateHaVip", &json!({}), None, now());
        *request.body_mut() = Body::from(body.to_vec());
        request
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        request
    };

    // a key's last use is stamped on its first good call of the minute: make that call now
    let listed = call(
        &api,
        signed(&key, "DescribeHaVips", &json!({}), None, now()),
    )
    .await;
    assert_eq!(code(&listed), "", "{listed}");
    // (what, request, error code)
    let cases: Vec<(&str, Request<Body>, &str)> = vec![
        (
            "no signature",
            Request::post("/")
                .header("x-tc-action", "CreateHaVip")
                .body(Body::from("{}"))
                .unwrap(),
            "AuthFailure.SignatureFailure",
        ),
        (
            "an unknown key",
            signed(
                &unknown,
                "CreateHaVip",
                &create("172.16.16.30"),
                None,
                now(),
            ),
            "AuthFailure.SecretIdNotFound",
        ),
        (
            "a timestamp an hour old",
            signed(
                &key,
                "CreateHaVip",
                &create("172.16.16.30"),
                None,
                now() - 3600,
            ),
            "AuthFailure.SignatureExpire",
        ),
        (
            "a body changed after signing",
            with_body(
                create("172.16.16.31").to_string().as_bytes(),
                "application/json",
            ),
            "AuthFailure.SignatureFailure",
        ),
        (
            "a body over 1 MiB",
            with_body(&vec![b' '; (1 << 20) + 1], "application/json"),
            "InvalidParameter",
        ),
        (
            "an unknown action",
            signed(&key, "LaunchMissiles", &json!({}), None, now()),
            "InvalidAction",
        ),
        (
            "an IPv6 address",
            signed(&key, "CreateHaVip", &create("2001:db8::1"), None, now()),
            "InvalidParameterValue.Malformed",
        ),
        (
            "a malformed address",
            signed(&key, "CreateHaVip", &create("172.16.16.300"), None, now()),
            "InvalidParameterValue.Malformed",
        ),
        (
            "the subnet's gateway",
            signed(&key, "CreateHaVip", &create("172.16.16.1"), None, now()),
            "InvalidParameterValue.Reserved",
        ),
        (
            "an address outside the subnet",
            signed(&key, "CreateHaVip", &create("172.16.99.5"), None, now()),
            "InvalidParameterValue.Range",
        ),
        (
            "an unknown VPC",
            signed(
                &key,
                "CreateHaVip",
                &json!({"VpcId": "vpc-00000000", "SubnetId": subnet, "HaVipName": "h"}),
                None,
                now(),
            ),
            "ResourceNotFound",
        ),
        (
            "a subnet of another VPC",
            signed(
                &key,
                "CreateHaVip",
                &json!({"VpcId": other_vpc.id, "SubnetId": subnet, "HaVipName": "h"}),
                None,
                now(),
            ),
            "InvalidParameterValue",
        ),
        (
            "a name of 61 characters",
            signed(
                &key,
                "CreateHaVip",
                &json!({"VpcId": vpc, "SubnetId": subnet, "HaVipName": "n".repeat(61)}),
                None,
                now(),
            ),
            "InvalidParameterValue.TooLong",
        ),
        (
            "a missing name",
            signed(
                &key,
                "CreateHaVip",
                &json!({"VpcId": vpc, "SubnetId": subnet}),
                None,
                now(),
            ),
            "MissingParameter",
        ),
        (
            "a number where a name goes",
            signed(
                &key,
                "CreateHaVip",
                &json!({"VpcId": vpc, "SubnetId": subnet, "HaVipName": 7}),
                None,
                now(),
            ),
            "InvalidParameter",
        ),
        (
            "an unknown HAVIP to delete",
            signed(
                &key,
                "DeleteHaVip",
                &json!({"HaVipId": "havip-00000000"}),
                None,
                now(),
            ),
            "ResourceNotFound",
        ),
    ];
    let n = cases.len();
    for (what, request, expected) in cases {
        let answer = unchanged(&f, what, call(&api, request)).await;
        assert_eq!(code(&answer), expected, "{what}: {answer}");
        assert!(
            answer["Error"]["Message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: {answer}"
        );
    }
    eprintln!("{n} bad Tencent API calls refused");
}

/// The console's router on a loopback port, for websockets.
pub(crate) async fn listen(f: &Fixture) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = f.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    addr
}

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(url: String, headers: &[(&str, &str)]) -> Result<Ws, WsError> {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    tokio_tungstenite::connect_async_with_config(request, None, false)
        .await
        .map(|(ws, _)| ws)
}

/// How the server ended a websocket (after any other messages).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// with a close frame, and its code if it had one
    Closed(Option<u16>),
    /// the connection ended without a close frame
    Dropped,
}

/// Reads until the server ends the websocket; fails the test if it is still open after 10 s.
pub(crate) async fn ending(ws: &mut Ws) -> Ending {
    let wait = async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(frame)) => {
                    return Ending::Closed(frame.map(|f| u16::from(f.code)))
                }
                Ok(_) => continue,
                Err(_) => return Ending::Dropped,
            }
        }
        Ending::Dropped
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the server ended the connection within 10 s")
}

/// The close code the server ends with (after any other messages); `None` without one.
pub(crate) async fn close_code(ws: &mut Ws) -> Option<u16> {
    match ending(ws).await {
        Ending::Closed(code) => code,
        Ending::Dropped => None,
    }
}

fn refused_with(result: Result<Ws, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("not an HTTP refusal: {e}"),
        Ok(_) => panic!("the handshake succeeded"),
    }
}

const HELLO: &str = r#"{"type":"hello","version":1,"interface":"eth0","mac":"02:00:00:16:16:fe"}"#;

#[tokio::test]
async fn bad_agent_frames_close_with_a_reason_and_change_nothing() {
    let f = fixture().await;
    let addr = listen(&f).await;
    let url = format!("ws://{addr}/agent/ws");
    let (_, token) = f
        .store
        .create_agent("scoped", std::slice::from_ref(&f.subnet_id))
        .await
        .unwrap();
    let bearer = format!("Bearer {token}");
    // an HAVIP in a subnet the agent does not watch
    let other_vpc = f
        .store
        .create_vpc(&f.havip.region_id, "o", "10.2.0.0/16")
        .await
        .unwrap();
    let other_subnet = f
        .store
        .create_subnet(&other_vpc.id, "o", "10.2.0.0/24")
        .await
        .unwrap();
    let foreign = f
        .store
        .create_havip(NewHavip {
            region_id: f.havip.region_id.clone(),
            name: "foreign".into(),
            vpc_id: other_vpc.id,
            subnet_id: other_subnet.id,
            ip: IpChoice::Manual("10.2.0.10".into()),
        })
        .await
        .unwrap();

    let wrong_token = unchanged(
        &f,
        "a wrong token",
        connect(url.clone(), &[("authorization", "Bearer nope")]),
    )
    .await;
    assert_eq!(refused_with(wrong_token), 401);
    let no_token = unchanged(&f, "no token", connect(url.clone(), &[])).await;
    assert_eq!(refused_with(no_token), 401);

    let frame_limit = crate::agent::protocol::MAX_FRAME_BYTES;
    // (what, frames after the hello (None: no hello first), close code)
    let cases: Vec<(&str, Option<Vec<Message>>, u16)> = vec![
        (
            "a frame over the limit",
            Some(vec![Message::text(format!(
                r#"{{"type":"snapshot","holders":[],"x":"{}"}}"#,
                "x".repeat(frame_limit)
            ))]),
            1009,
        ),
        (
            "a frame far over the limit",
            Some(vec![Message::text("x".repeat(frame_limit * 3))]),
            1009,
        ),
        (
            "malformed JSON",
            Some(vec![Message::text("{\"type\":")]),
            1007,
        ),
        (
            "JSON nested 100,000 deep",
            Some(vec![Message::text(nested(100_000))]),
            1007,
        ),
        (
            "an unknown message type",
            Some(vec![Message::text(r#"{"type":"launch","at":"everyone"}"#)]),
            1007,
        ),
        (
            "an IPv6 address",
            Some(vec![Message::text(
                r#"{"type":"observe","ip":"2001:db8::1","observation":{"kind":"probe_miss"}}"#,
            )]),
            1007,
        ),
        (
            "a malformed MAC",
            Some(vec![Message::text(
                r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"announce","mac":"zz:zz"}}"#,
            )]),
            1007,
        ),
        (
            "an unknown field",
            Some(vec![Message::text(
                r#"{"type":"station","ip":"172.16.16.40","mac":"52:54:00:00:00:40","admin":true}"#,
            )]),
            1007,
        ),
        (
            "a VRRP advert naming 256 addresses",
            Some(vec![Message::text(format!(
                r#"{{"type":"advert","advert":{{"version":2,"vrid":51,"priority":100,"router":"172.16.16.5","mac":"52:54:00:00:00:05","interval_ms":1000,"addresses":[{}]}}}}"#,
                vec!["\"172.16.16.12\""; 256].join(",")
            ))]),
            1007,
        ),
        (
            "a binary frame",
            Some(vec![Message::binary(vec![0u8, 1, 2])]),
            1003,
        ),
        ("hello twice", Some(vec![Message::text(HELLO)]), 1002),
        ("an observation before hello", None, 1002),
        ("a newer protocol version", Some(vec![]), 1002),
    ];
    let n = cases.len();
    for (what, frames, code) in cases {
        let result = unchanged(&f, what, async {
            let mut ws = connect(url.clone(), &[("authorization", &bearer)]).await.unwrap();
            match (&frames, what) {
                (_, "a newer protocol version") => {
                    ws.send(Message::text(HELLO.replace("\"version\":1", "\"version\":2"))).await.unwrap();
                }
                (None, _) => {
                    let observe = r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"announce","mac":"52:54:00:00:00:41"}}"#;
                    ws.send(Message::text(observe)).await.unwrap();
                }
                (Some(frames), _) => {
                    ws.send(Message::text(HELLO)).await.unwrap();
                    for frame in frames {
                        // the server may close before the whole frame is written
                        let _ = ws.send(frame.clone()).await;
                    }
                }
            }
            close_code(&mut ws).await
        })
        .await;
        assert_eq!(result, Some(code), "{what}");
    }

    // a frame past what the websocket library reads at all (`protocol::LIBRARY_LIMIT_BYTES`):
    // the library stops reading it, and the console ends the connection without a close frame
    // (there is no frame boundary left to write one after); nothing changes
    let ended = unchanged(&f, "a frame of 2 MiB", async {
        let mut ws = connect(url.clone(), &[("authorization", &bearer)])
            .await
            .unwrap();
        ws.send(Message::text(HELLO)).await.unwrap();
        let _ = ws
            .send(Message::text(
                "x".repeat(crate::agent::protocol::LIBRARY_LIMIT_BYTES * 2),
            ))
            .await;
        ending(&mut ws).await
    })
    .await;
    assert_eq!(ended, Ending::Dropped, "a frame of 2 MiB");

    // a claim on an address outside the agent's subnets is ignored, and the agent stays
    let mut ws = connect(url.clone(), &[("authorization", &bearer)])
        .await
        .unwrap();
    ws.send(Message::text(HELLO)).await.unwrap();
    let _welcome = ws.next().await;
    let claim = format!(
        r#"{{"type":"observe","ip":"{}","observation":{{"kind":"announce","mac":"52:54:00:00:00:42"}}}}"#,
        foreign.ip
    );
    let before = f.store.havip(&foreign.id).unwrap();
    ws.send(Message::text(claim)).await.unwrap();
    ws.send(Message::Ping(Default::default())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Pong(_))) => return true,
                Some(Ok(_)) => continue,
                _ => return false,
            }
        }
    })
    .await;
    assert_eq!(pong, Ok(true), "the agent was disconnected");
    assert_eq!(
        f.store.havip(&foreign.id).unwrap(),
        before,
        "an out-of-scope claim counted"
    );
    eprintln!("{} bad agent inputs refused", n + 4);
}

#[tokio::test]
async fn bad_live_channel_connections_are_refused_and_limited() {
    let f = fixture().await;
    let addr = listen(&f).await;
    let url = format!("ws://{addr}/api/live_events");
    let viewer = f.cookies[&Role::Viewer].clone();

    let anonymous = unchanged(&f, "no session", connect(url.clone(), &[])).await;
    assert_eq!(refused_with(anonymous), 401);
    let (_, token) = f
        .store
        .login("viewer-user", crate::tests::fixture::PASSWORD, None)
        .await
        .unwrap();
    f.store.end_session(&token).await.unwrap();
    let replayed = format!("{}={token}", crate::console::access::SESSION_COOKIE);
    let after_logout = unchanged(
        &f,
        "a session after logout",
        connect(url.clone(), &[("cookie", &replayed)]),
    )
    .await;
    assert_eq!(refused_with(after_logout), 401);
    let foreign_origin = [
        ("cookie", viewer.as_str()),
        ("origin", "http://evil.example"),
    ];
    let cross_site = unchanged(
        &f,
        "another site's page",
        connect(url.clone(), &foreign_origin),
    )
    .await;
    assert_eq!(refused_with(cross_site), 403);

    // one session holds at most MAX_LIVE_PER_SESSION channels; others are not affected
    let mut open = vec![];
    for _ in 0..app::store::MAX_LIVE_PER_SESSION {
        let mut ws = connect(url.clone(), &[("cookie", &viewer)]).await.unwrap();
        assert!(ws.next().await.is_some(), "greeted");
        open.push(ws);
    }
    let over = unchanged(
        &f,
        "a channel over the limit",
        connect(url.clone(), &[("cookie", &viewer)]),
    )
    .await;
    assert_eq!(refused_with(over), 429);
    let operator = f.cookies[&Role::Operator].clone();
    let mut other = connect(url.clone(), &[("cookie", &operator)])
        .await
        .unwrap();
    assert!(other.next().await.is_some(), "another session is served");

    // the channel takes no input: a message, however large, ends it (`live_ws`: the channel
    // just stops, without a close frame; the page reconnects)
    let mut ws = open.pop().unwrap();
    let ended = unchanged(&f, "a 1 MiB message on the live channel", async {
        let _ = ws.send(Message::binary(vec![b'x'; 1 << 20])).await;
        ending(&mut ws).await
    })
    .await;
    assert_eq!(
        ended,
        Ending::Dropped,
        "a 1 MiB message on the live channel"
    );
    // its place is free again, once the server has let go of the channel: retry until a
    // connection is taken (429 until then), for at most 10 s
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let _again = loop {
        match connect(url.clone(), &[("cookie", &viewer)]).await {
            Ok(ws) => break ws,
            Err(WsError::Http(response)) if response.status() == 429 => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "a closed channel still counted after 10 s"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("reconnecting after a channel ended: {e}"),
        }
    };
    eprintln!("5 bad live-channel connections refused");
}
