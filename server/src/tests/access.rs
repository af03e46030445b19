//! Access control over HTTP: every server function and endpoint called as nobody, viewer,
//! operator and admin; cross-site requests; login, logout, sessions and the first start.

use crate::tests::fixture::{content_type, fixture, form, request_as, As, Fixture, PASSWORD};
use app::api::agents::{AgentsPage, CreateAgent, RevokeAgent};
use app::api::alerts::{AlertsPage, CreateAlert, DeleteAlert, SetAlertEnabled, TestAlert};
use app::api::audit::AuditLog;
use app::api::eips::UnbindHavipEip;
use app::api::eips::{AllocateEip, BindEip, BindNewEip, EipsPage, ReleaseEip, UnbindEip};
use app::api::havips::{CreateHavip, DeleteHavip, HavipDetail, HavipHistory, HavipPage};
use app::api::havips::{RenameHavip, SetAllowedHolders};
use app::api::instances::{DeregisterInstance, InstancesPage, RegisterInstance};
use app::api::keys::{ApiKeysPage, CreateApiKey, DeleteApiKey, SetApiKeyDisabled};
use app::api::network::{CreateRegion, CreateSubnet, CreateVpc, NetworkPage};
use app::api::users::{AddUser, DeleteUser, EndUserSessions, SetUserDisabled};
use app::api::users::{SetUserPassword, SetUserRole, UsersPage};
use app::api::Whoami;
use app::domain::auth::Role;
use app::domain::model::IpChoice;
use app::store::{Store, StoreConfig};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use tower::ServiceExt;

/// (what, method, path, encoding, body, the status it answers a role that may, on a fresh
/// console); the least role that may is the role table's (`app::api::roles`)
type Endpoint = (&'static str, Method, String, As, String, u16);

async fn endpoints(f: &Fixture) -> Vec<Endpoint> {
    let s = &f.store;
    let havip = f.havip.id.to_string();
    let doomed = s
        .create_havip(app::domain::model::NewHavip {
            region_id: f.havip.region_id.clone(),
            name: "doomed".into(),
            vpc_id: f.vpc_id.clone(),
            subnet_id: f.subnet_id.clone(),
            ip: IpChoice::Automatic,
        })
        .await
        .unwrap()
        .id
        .to_string();
    let eip = s.allocate_eip().await.unwrap().id.to_string();
    let instance = s
        .register_instance(app::store::NewInstance {
            name: "web".into(),
            subnet_id: f.subnet_id.clone(),
            mac: "52:54:00:00:00:01".into(),
            ip: "172.16.16.5".into(),
        })
        .await
        .unwrap()
        .eni_id
        .to_string();
    let (agent, _) = s
        .create_agent("lab", std::slice::from_ref(&f.subnet_id))
        .await
        .unwrap();
    let alert = s
        .create_alert(app::domain::alerts::NewAlertRule {
            name: "pager".into(),
            target: app::domain::alerts::Target::Webhook {
                url: "http://127.0.0.1:9/hook".into(),
            },
            events: vec![app::domain::alerts::EventType::HolderChanged],
            scope: Default::default(),
            dedup_s: 60,
        })
        .await
        .unwrap()
        .rule
        .id
        .to_string();
    for name in ["spare", "doomed-user"] {
        s.create_user(name, PASSWORD, Role::Viewer).await.unwrap();
    }
    let (region, vpc, subnet) = (
        f.havip.region_id.to_string(),
        f.vpc_id.to_string(),
        f.subnet_id.to_string(),
    );
    let json = |v: serde_json::Value| v.to_string();
    let post = Method::POST;
    let get = Method::GET;
    let list_query =
        "query[q]=&query[vpc]=&query[subnet]=&query[status]=&query[sort]=&query[page]=0";
    vec![
        (
            "set my time zone",
            post.clone(),
            "/api/set_time_zone".into(),
            As::Form,
            form(&[("zone", "Asia/Shanghai")]),
            200,
        ),
        (
            "time zones",
            post.clone(),
            "/api/time_zones".into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "list page",
            post.clone(),
            HavipPage::PATH.into(),
            As::Form,
            list_query.into(),
            200,
        ),
        (
            "detail",
            post.clone(),
            HavipDetail::PATH.into(),
            As::Form,
            form(&[("id", &havip)]),
            200,
        ),
        (
            "API keys page",
            post.clone(),
            ApiKeysPage::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "create an API key",
            post.clone(),
            CreateApiKey::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        // a key that does not exist: the function's own 404, past the role check
        (
            "disable an API key",
            post.clone(),
            SetApiKeyDisabled::PATH.into(),
            As::Form,
            form(&[
                ("id", "AKIDnotonesnotonesnotonesnotones0000"),
                ("disabled", "true"),
            ]),
            404,
        ),
        // a key that does not exist: the function's own 404, past the role check
        (
            "delete an API key",
            post.clone(),
            DeleteApiKey::PATH.into(),
            As::Form,
            form(&[("id", "AKIDnotonesnotonesnotonesnotones0000")]),
            404,
        ),
        (
            "audit log",
            post.clone(),
            AuditLog::PATH.into(),
            As::Json,
            json(serde_json::json!({"query": {"action": "havip"}})),
            200,
        ),
        (
            "audit log (JSON API)",
            get.clone(),
            "/api/v1/audit?user=admin-user&limit=5".into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "history",
            post.clone(),
            HavipHistory::PATH.into(),
            As::Form,
            form(&[("id", &havip), ("page", "0")]),
            200,
        ),
        (
            "networks page",
            post.clone(),
            NetworkPage::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "instances page",
            post.clone(),
            InstancesPage::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "EIPs page",
            post.clone(),
            EipsPage::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "agents page",
            post.clone(),
            AgentsPage::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "who am I",
            post.clone(),
            Whoami::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "JSON list",
            get.clone(),
            "/api/v1/havips".into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "JSON history",
            get.clone(),
            format!("/api/v1/havips/{havip}/history"),
            As::Form,
            String::new(),
            200,
        ),
        (
            "apply",
            post.clone(),
            CreateHavip::PATH.into(),
            As::Json,
            json(
                serde_json::json!({"req": {"region_id": region, "name": "new", "vpc_id": vpc, "subnet_id": subnet, "ip": "Automatic"}}),
            ),
            200,
        ),
        (
            "rename",
            post.clone(),
            RenameHavip::PATH.into(),
            As::Form,
            form(&[("id", &havip), ("name", "renamed")]),
            200,
        ),
        (
            "allowed holders",
            post.clone(),
            SetAllowedHolders::PATH.into(),
            As::Json,
            json(serde_json::json!({"havip_id": havip, "eni_ids": []})),
            200,
        ),
        (
            "delete",
            post.clone(),
            DeleteHavip::PATH.into(),
            As::Form,
            form(&[("id", &doomed)]),
            200,
        ),
        (
            "allocate EIP",
            post.clone(),
            AllocateEip::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "bind EIP",
            post.clone(),
            BindEip::PATH.into(),
            As::Form,
            form(&[("eip_id", &eip), ("havip_id", &havip)]),
            200,
        ),
        (
            "unbind EIP",
            post.clone(),
            UnbindEip::PATH.into(),
            As::Form,
            form(&[("eip_id", &eip)]),
            200,
        ),
        (
            "bind a new EIP",
            post.clone(),
            BindNewEip::PATH.into(),
            As::Form,
            form(&[("havip_id", &havip)]),
            200,
        ),
        (
            "unbind the HAVIP's EIP",
            post.clone(),
            UnbindHavipEip::PATH.into(),
            As::Form,
            form(&[("havip_id", &havip)]),
            200,
        ),
        (
            "release EIP",
            post.clone(),
            ReleaseEip::PATH.into(),
            As::Form,
            form(&[("id", &eip)]),
            200,
        ),
        (
            "register instance",
            post.clone(),
            RegisterInstance::PATH.into(),
            As::Form,
            form(&[
                ("name", "db"),
                ("subnet_id", &subnet),
                ("mac", "52:54:00:00:00:02"),
                ("ip", "172.16.16.6"),
            ]),
            200,
        ),
        (
            "deregister instance",
            post.clone(),
            DeregisterInstance::PATH.into(),
            As::Form,
            form(&[("eni_id", &instance)]),
            200,
        ),
        (
            "create region",
            post.clone(),
            CreateRegion::PATH.into(),
            As::Form,
            form(&[("name", "Elsewhere")]),
            200,
        ),
        (
            "create VPC",
            post.clone(),
            CreateVpc::PATH.into(),
            As::Form,
            form(&[
                ("region_id", &region),
                ("name", "v"),
                ("cidr", "10.9.0.0/16"),
            ]),
            200,
        ),
        (
            "create subnet",
            post.clone(),
            CreateSubnet::PATH.into(),
            As::Form,
            form(&[("vpc_id", &vpc), ("name", "s"), ("cidr", "172.16.30.0/24")]),
            200,
        ),
        (
            "create agent",
            post.clone(),
            CreateAgent::PATH.into(),
            As::Json,
            json(serde_json::json!({"name": "a2", "subnet_ids": [subnet]})),
            200,
        ),
        (
            "revoke agent",
            post.clone(),
            RevokeAgent::PATH.into(),
            As::Form,
            form(&[("id", &agent.id)]),
            200,
        ),
        (
            "users page",
            post.clone(),
            UsersPage::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "add user",
            post.clone(),
            AddUser::PATH.into(),
            As::Form,
            form(&[
                ("name", "newcomer"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ]),
            200,
        ),
        (
            "change a role",
            post.clone(),
            SetUserRole::PATH.into(),
            As::Form,
            form(&[("name", "spare"), ("role", "operator")]),
            200,
        ),
        (
            "disable a user",
            post.clone(),
            SetUserDisabled::PATH.into(),
            As::Form,
            form(&[("name", "spare"), ("disabled", "true")]),
            200,
        ),
        (
            "set a password",
            post.clone(),
            SetUserPassword::PATH.into(),
            As::Form,
            form(&[("name", "spare"), ("password", "a brand new password")]),
            200,
        ),
        (
            "end sessions",
            post.clone(),
            EndUserSessions::PATH.into(),
            As::Form,
            form(&[("name", "spare")]),
            200,
        ),
        (
            "alerts page",
            post.clone(),
            AlertsPage::PATH.into(),
            As::Form,
            String::new(),
            200,
        ),
        (
            "add an alert rule",
            post.clone(),
            CreateAlert::PATH.into(),
            As::Json,
            json(serde_json::json!({"rule": {
                "name": "mail", "target": {"kind": "webhook", "url": "https://hooks.example/x"},
                "events": ["havip.lost"], "scope": {}, "dedup_s": 0,
            }})),
            200,
        ),
        (
            "disable an alert rule",
            post.clone(),
            SetAlertEnabled::PATH.into(),
            As::Form,
            form(&[("id", &alert), ("enabled", "false")]),
            200,
        ),
        (
            "send a test alert",
            post.clone(),
            TestAlert::PATH.into(),
            As::Form,
            form(&[("id", &alert)]),
            200,
        ),
        (
            "delete an alert rule",
            post.clone(),
            DeleteAlert::PATH.into(),
            As::Form,
            form(&[("id", &alert)]),
            200,
        ),
        (
            "delete a user",
            post,
            DeleteUser::PATH.into(),
            As::Form,
            form(&[("name", "doomed-user")]),
            200,
        ),
    ]
}

#[tokio::test]
async fn every_endpoint_checks_the_role_on_the_server() {
    let mut checked = 0;
    let mut tried = std::collections::HashSet::new();
    for who in [
        None,
        Some(Role::Viewer),
        Some(Role::Operator),
        Some(Role::Admin),
    ] {
        // a fresh console for each caller, so that every role that may gets the same answer
        // (a delete finds what it deletes, a bind a free EIP)
        let f = fixture().await;
        let table = endpoints(&f).await;
        for (what, method, path, how, body, allowed) in &table {
            let operation = operation_of(path);
            let least = &app::api::roles::role_for(&operation);
            tried.insert(operation);
            let before = f.store.dump().unwrap();
            let (status, answer) = request_as(
                &f,
                who,
                method.clone(),
                path,
                Some(content_type(*how)),
                body.clone(),
            )
            .await;
            match who {
                None => assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{what} as {who:?}: {answer}"
                ),
                Some(role) if role < *least => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what} as {who:?}: {answer}")
                }
                Some(_) => {
                    // allowed: the request reached the function, which gave its one answer
                    assert_eq!(status.as_u16(), *allowed, "{what} as {who:?}: {answer}");
                    checked += 1;
                    continue;
                }
            }
            assert!(
                f.store.dump().unwrap() == before,
                "{what} as {who:?} changed data"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * 47);
    // every operation of the role table is tried, with every role
    for (operation, _) in app::api::roles::ROLES {
        assert!(tried.contains(*operation), "{operation} is not tried");
    }
}

/// The operation a request is, as `app::api::roles` names it: a server function by its
/// endpoint, a route of the JSON API by its pattern.
fn operation_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    match path.strip_prefix("/api/v1/havips/") {
        Some(rest) if rest.ends_with("/history") => "/api/v1/havips/{id}/history".into(),
        _ if path.starts_with("/api/v1/") => path.into(),
        _ => path.trim_start_matches("/api/").into(),
    }
}

#[tokio::test]
async fn cross_site_changes_and_websockets_are_refused() {
    let f = fixture().await;
    let before = f.store.dump().unwrap();
    for origin in ["http://evil.example", "null", "http://127.0.0.1:9999"] {
        let request = Request::post(CreateAgent::PATH)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &f.cookies[&Role::Admin])
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"name": "evil", "subnet_ids": [f.subnet_id]}).to_string(),
            ))
            .unwrap();
        let response = f.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
        let live = Request::get("/api/live_events")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &f.cookies[&Role::Admin])
            .header(header::UPGRADE, "websocket")
            .header(header::CONNECTION, "upgrade")
            .body(Body::empty())
            .unwrap();
        let response = f.router.clone().oneshot(live).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    assert!(f.store.dump().unwrap() == before);
    // the console's own page is fine
    let request = Request::post(CreateAgent::PATH)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header(header::COOKIE, &f.cookies[&Role::Admin])
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"name": "own", "subnet_ids": [f.subnet_id]}).to_string(),
        ))
        .unwrap();
    let response = f.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn send(
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into(),
    )
}

fn login_request(name: &str, password: &str, browser: bool) -> Request<Body> {
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(
            header::ACCEPT,
            if browser {
                "text/html"
            } else {
                "application/json"
            },
        )
        .body(Body::from(form(&[
            ("name", name),
            ("password", password),
            ("next", "/havip/havip-00000000"),
        ])))
        .unwrap()
}

#[tokio::test]
async fn login_logout_and_sessions() {
    let f = fixture().await;
    // pages send the anonymous to the login page, keeping where they wanted to go
    let page = Request::get("/eips?x=1")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&f.router, page).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login?next=/eips%3Fx%3D1");

    // wrong password and unknown user: the same answer
    let (s1, _, wrong) = send(
        &f.router,
        login_request("admin-user", "not the password", false),
    )
    .await;
    let (s2, _, unknown) = send(
        &f.router,
        login_request("nobody", "not the password", false),
    )
    .await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    let message =
        |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap()["message"].clone();
    assert_eq!(message(&wrong), message(&unknown));

    // a browser logs in: cookie and redirect to where it wanted to go
    let (status, headers, _) =
        send(&f.router, login_request("operator-user", PASSWORD, true)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/havip/havip-00000000");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_string();
    for part in ["havip_session=hvs_", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_string();
    let me = |session: String| {
        Request::post(Whoami::PATH)
            .header(header::COOKIE, session)
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = send(&f.router, me(session.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"operator\""), "{body}");

    // logout ends the session on the server, whatever the browser keeps
    let logout = Request::post("/logout")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&f.router, logout).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let (status, _, _) = send(&f.router, me(session)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a replayed session after logout"
    );
    // logging out again with the dead session still clears the cookie
    let again = Request::post("/logout")
        .header(header::COOKIE, "havip_session=hvs_expired")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&f.router, again).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login");
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
}

/// How failed logins are slowed down is in `security_tests` (per name, per network, per
/// device, over HTTP); this is how long sessions last.
#[tokio::test]
async fn sessions_expire_when_idle_or_old_and_with_a_new_password() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    store
        .create_user("ops", PASSWORD, Role::Operator)
        .await
        .unwrap();
    let e = store
        .login("ops", "guessing wrong", None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), 401);
    let (principal, token) = store.login("ops", PASSWORD, None).await.unwrap();
    assert_eq!(principal.role, Role::Operator);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // used every 11 h it stays (never idle 12 h), until 7 days after login
    let (hour, day) = (3600 * 1000, 24 * 3600 * 1000);
    let mut t = now;
    while store.session_at(&token, t).unwrap().is_some() {
        t += 11 * hour;
    }
    assert!(
        t > now + 7 * day && t <= now + 7 * day + 11 * hour,
        "{}",
        (t - now) / hour
    );
    let (_, token) = store.login("ops", PASSWORD, None).await.unwrap();
    assert!(
        store
            .session_at(&token, now + 13 * 3600 * 1000)
            .unwrap()
            .is_none(),
        "idle 13 h"
    );

    // a new password ends every session
    let (_, token) = store.login("ops", PASSWORD, None).await.unwrap();
    store
        .set_password("ops", "another long password", true)
        .await
        .unwrap();
    assert!(store.session(&token).unwrap().is_none());
}

#[tokio::test]
async fn the_first_start_needs_the_setup_code() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let (access, code) = crate::console::access::Access::new(store.clone(), false).unwrap();
    let code = code.expect("no user yet: a set-up code");
    let router =
        crate::console::serve::router(store.clone(), "127.0.0.1:0".parse().unwrap(), access);
    let page = Request::get("/")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&router, page).await;
    assert_eq!(
        (status, &headers[header::LOCATION]),
        (StatusCode::SEE_OTHER, &"/setup".parse().unwrap())
    );
    let api = Request::post(Whoami::PATH).body(Body::empty()).unwrap();
    assert_eq!(send(&router, api).await.0, StatusCode::UNAUTHORIZED);

    let setup = |code: &str| {
        Request::post("/setup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(&[
                ("code", code),
                ("name", "root"),
                ("password", PASSWORD),
            ])))
            .unwrap()
    };
    let (status, _, body) = send(&router, setup("000000-000000")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(store.user_count().unwrap(), 0);
    let (status, headers, body) = send(&router, setup(&code)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("havip_session=hvs_"));
    assert_eq!(store.user("root").unwrap().unwrap().role, Role::Admin);
    // once is enough
    let (status, _, _) = send(&router, setup(&code)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(store.user_count().unwrap(), 1);
}

#[tokio::test]
async fn the_last_administrator_stays() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    store
        .create_user("root", PASSWORD, Role::Admin)
        .await
        .unwrap();
    store
        .create_user("ops", PASSWORD, Role::Operator)
        .await
        .unwrap();
    for refused in [
        store
            .set_user_role("root", Role::Operator)
            .await
            .map(|_| ()),
        store.set_user_disabled("root", true).await.map(|_| ()),
        store.delete_user("root").await,
    ] {
        let e = refused.unwrap_err();
        assert_eq!(e.status(), 409, "{}", e.message);
        assert!(e.message.contains("last administrator"), "{}", e.message);
    }
    // with a second admin, the first may go; disabling ends its sessions
    store.set_user_role("ops", Role::Admin).await.unwrap();
    let (_, token) = store.login("root", PASSWORD, None).await.unwrap();
    store.set_user_disabled("root", true).await.unwrap();
    assert!(store.session(&token).unwrap().is_none());
    assert_eq!(
        store
            .login("root", PASSWORD, None)
            .await
            .unwrap_err()
            .status(),
        401
    );
    store.delete_user("root").await.unwrap();
    assert!(store.user("root").unwrap().is_none());
    assert!(store
        .users()
        .unwrap()
        .iter()
        .all(|u| u.password_hash.is_empty()));
}
