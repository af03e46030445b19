//! The fixture every server test starts from: a fresh store in a temporary directory, with an
//! admin, an operator and a viewer logged in, the seeded VPC and subnet, one HAVIP, and the
//! console's real router around it; and the requests tests send through it.

use app::domain::auth::Role;
use app::domain::binding::{Change, Observation};
use app::domain::ids::{SubnetId, VpcId};
use app::domain::mac::Mac;
use app::domain::model::{Agent, Havip, IpChoice, NewHavip};
use app::store::{Store, StoreConfig};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub router: Router,
    /// session cookies of an admin, an operator and a viewer
    pub cookies: std::collections::HashMap<Role, String>,
    pub vpc_id: VpcId,
    pub subnet_id: SubnetId,
    pub havip: Havip,
}

/// The fixture's console runs as with `--allow-private-webhooks`: its tests' webhook
/// receivers listen on loopback.
pub(crate) async fn fixture() -> Fixture {
    fixture_with(StoreConfig {
        webhooks: app::domain::alerts::WebhookDestinations::allowing_internal(),
        ..Default::default()
    })
    .await
}

pub(crate) async fn fixture_with(config: StoreConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), config).unwrap();
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
    let mut cookies = std::collections::HashMap::new();
    for role in [Role::Admin, Role::Operator, Role::Viewer] {
        let name = format!("{role}-user");
        store.create_user(&name, PASSWORD, role).await.unwrap();
        let (_, token) = store.login(&name, PASSWORD, None).await.unwrap();
        cookies.insert(
            role,
            format!("{}={token}", crate::console::access::SESSION_COOKIE),
        );
    }
    let (access, _) = crate::console::access::Access::new(store.clone(), false).unwrap();
    let router =
        crate::console::serve::router(store.clone(), "127.0.0.1:0".parse().unwrap(), access);
    Fixture {
        _dir: dir,
        store,
        router,
        cookies,
        vpc_id: vpc.vpc.id,
        subnet_id,
        havip,
    }
}

/// How a request body is sent.
#[derive(Clone, Copy)]
pub(crate) enum As {
    Form,
    Json,
}

pub(crate) const PASSWORD: &str = "twelve chars at least";

/// A request as `who` (None: nobody logged in).
pub(crate) async fn request_as(
    f: &Fixture,
    who: Option<Role>,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: String,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::ACCEPT, "application/json");
    if let Some(role) = who {
        request = request.header(header::COOKIE, &f.cookies[&role]);
    }
    if let Some(t) = content_type {
        request = request.header(header::CONTENT_TYPE, t);
    }
    let response = f
        .router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, value)
}

/// The newest audit records of `action`, newest first.
/// An agent of the fixture's subnet.
pub(crate) async fn lab_agent(f: &Fixture) -> Agent {
    f.store
        .create_agent("lab", std::slice::from_ref(&f.subnet_id))
        .await
        .unwrap()
        .0
}

/// `agent` hears a gratuitous ARP for the fixture's HAVIP from `mac`; the changes it made.
pub(crate) fn announce(f: &Fixture, agent: &Agent, mac: &str) -> Vec<Change> {
    let mac: Mac = mac.parse().unwrap();
    f.store
        .observe(agent, f.havip.ip, Observation::Announce { mac })
        .unwrap()
}

/// The page at `path` as the administrator's browser gets it in `lang` (its language cookie).
pub(crate) async fn page_in(f: &Fixture, path: &str, lang: &str) -> String {
    let cookie = format!("{}; havip_lang={lang}", f.cookies[&Role::Admin]);
    let request = Request::get(path)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = f.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&body).into()
}

pub(crate) fn audited(store: &Store, action: &str) -> Vec<app::domain::audit::AuditEntry> {
    let query = app::domain::audit::AuditQuery {
        action: action.into(),
        ..Default::default()
    };
    store.audit(&query).unwrap().entries
}

pub(crate) fn content_type(how: As) -> &'static str {
    match how {
        As::Json => "application/json",
        As::Form => "application/x-www-form-urlencoded",
    }
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn new_havip(
    f: &Fixture,
    vpc: &str,
    subnet: &str,
    name: &str,
    ip: serde_json::Value,
) -> String {
    serde_json::json!({ "req": {
        "region_id": f.havip.region_id, "name": name, "vpc_id": vpc, "subnet_id": subnet, "ip": ip
    }})
    .to_string()
}
