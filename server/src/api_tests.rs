//! Server functions over HTTP, through the real router: what the browser sends, what it gets.

use app::api::havips::SetAllowedHolders;
use app::api::instances::{DeregisterInstance, RegisterInstance};
use app::domain::error::{ApiError, ErrorKind};
use app::domain::model::{Havip, Instance, IpChoice, NewHavip};
use app::store::{Store, StoreConfig};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    router: Router,
    subnet_id: String,
    havip: Havip,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let region = store.regions().unwrap().remove(0);
    let vpc = store.network_view(&region.id).unwrap().remove(0);
    let subnet_id = vpc.subnets[0].subnet.id.clone();
    let havip = store
        .create_havip(NewHavip {
            region_id: region.id,
            name: "vip".into(),
            vpc_id: vpc.vpc.id.clone(),
            subnet_id: subnet_id.clone(),
            ip: IpChoice::Manual("172.16.16.12".into()),
        })
        .await
        .unwrap();
    let router = crate::serve::router(store.clone(), "127.0.0.1:0".parse().unwrap());
    Fixture {
        _dir: dir,
        store,
        router,
        subnet_id,
        havip,
    }
}

/// POSTs to a server function; returns the status and the JSON body.
async fn post(
    f: &Fixture,
    path: &str,
    json: bool,
    body: String,
) -> (StatusCode, serde_json::Value) {
    let content_type = if json {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = f.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, value)
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&")
}

fn refusal(status: StatusCode, body: serde_json::Value) -> ApiError {
    assert!(
        !status.is_success(),
        "expected a refusal, got {status}: {body}"
    );
    serde_json::from_value(body).expect("refusals are ApiError JSON")
}

#[tokio::test]
async fn register_instance_over_http_validates_and_refusals_change_nothing() {
    let f = fixture().await;
    let register = |mac: &'static str, ip: &'static str| {
        let subnet = f.subnet_id.clone();
        let f = &f;
        async move {
            let body = form(&[
                ("name", "web 1"),
                ("subnet_id", &subnet),
                ("mac", mac),
                ("ip", ip),
            ]);
            post(f, RegisterInstance::PATH, false, body).await
        }
    };
    let (status, body) = register("52:54:00:00:00:01", "172.16.16.5").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let web1: Instance = serde_json::from_value(body).unwrap();
    assert_eq!(
        (web1.name.as_str(), web1.ip.to_string()),
        ("web 1", "172.16.16.5".into())
    );

    for (mac, ip, field, message) in [
        (
            "52:54:00:00:00",
            "172.16.16.6",
            "mac",
            "is not a MAC address",
        ),
        (
            "01:00:5e:00:00:01",
            "172.16.16.6",
            "mac",
            "not one network interface",
        ),
        (
            "52:54:00:00:00:01",
            "172.16.16.6",
            "mac",
            "already registered",
        ),
        (
            "52:54:00:00:00:02",
            "172.16.17.6",
            "ip",
            "outside the subnet",
        ),
        ("52:54:00:00:00:02", "172.16.16.5", "ip", "already in use"),
        ("52:54:00:00:00:02", "172.16.16.12", "ip", "already in use"),
        ("52:54:00:00:00:02", "172.16.16.255", "ip", "reserved"),
    ] {
        let (status, body) = register(mac, ip).await;
        let e = refusal(status, body);
        assert_eq!(e.field.as_deref(), Some(field), "{mac} {ip}: {}", e.message);
        assert!(e.message.contains(message), "{mac} {ip}: {}", e.message);
    }
    // a request missing a field is refused before anything runs
    let (status, _) = post(&f, RegisterInstance::PATH, false, form(&[("name", "x")])).await;
    assert!(!status.is_success());
    assert_eq!(f.store.instances().unwrap(), vec![web1.clone()]);

    let (status, body) = post(
        &f,
        DeregisterInstance::PATH,
        false,
        form(&[("eni_id", "eni-nothere")]),
    )
    .await;
    assert_eq!(refusal(status, body).kind, ErrorKind::NotFound);
    let (status, _) = post(
        &f,
        DeregisterInstance::PATH,
        false,
        form(&[("eni_id", &web1.eni_id)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(f.store.instances().unwrap().is_empty());
}

#[tokio::test]
async fn allowed_holders_over_http_take_a_json_list_including_an_empty_one() {
    let f = fixture().await;
    let web1 = f
        .store
        .register_instance(app::store::NewInstance {
            name: "web-1".into(),
            subnet_id: f.subnet_id.clone(),
            mac: "52:54:00:00:00:01".into(),
            ip: "172.16.16.5".into(),
        })
        .await
        .unwrap();
    let set = |havip_id: String, eni_ids: Vec<String>| {
        let f = &f;
        async move {
            let body = serde_json::json!({ "havip_id": havip_id, "eni_ids": eni_ids }).to_string();
            post(f, SetAllowedHolders::PATH, true, body).await
        }
    };
    let (status, body) = set(f.havip.id.clone(), vec![web1.eni_id.clone()]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        f.store.havip(&f.havip.id).unwrap().allowed,
        vec![web1.eni_id.clone()]
    );

    let (status, body) = set(f.havip.id.clone(), vec!["eni-nothere".into()]).await;
    assert_eq!(refusal(status, body).field.as_deref(), Some("allowed"));
    let (status, body) = set("havip-nothere".into(), vec![]).await;
    assert_eq!(refusal(status, body).kind, ErrorKind::NotFound);
    assert_eq!(
        f.store.havip(&f.havip.id).unwrap().allowed.len(),
        1,
        "refusals change nothing"
    );

    let (status, _) = set(f.havip.id.clone(), vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(f.store.havip(&f.havip.id).unwrap().allowed.is_empty());
}
