//! The audit log over HTTP: changes made through the console are recorded with who, from
//! where, what, before and after; logins and failed logins too; no secret is ever in it; the
//! log pages and filters; only administrators read it.

use crate::tests::fixture::{fixture, form, new_havip, Fixture, PASSWORD};
use app::api::agents::CreateAgent;
use app::api::havips::{CreateHavip, DeleteHavip, RenameHavip};
use app::api::users::{AddUser, SetUserPassword};
use app::domain::audit::{AuditEntry, AuditPage};
use app::domain::auth::Role;
use app::store::{Store, StoreConfig};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use std::net::SocketAddr;
use tower::ServiceExt;

const CLIENT: &str = "192.0.2.7:50123";

/// A request from `CLIENT` as `role`, with a body of `content_type`.
async fn call(
    f: &Fixture,
    role: Role,
    path: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, String) {
    let mut request = Request::post(path)
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, &f.cookies[&role])
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    send(f, &mut request).await
}

async fn send(f: &Fixture, request: &mut Request<Body>) -> (StatusCode, String) {
    let client: SocketAddr = CLIENT.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(client));
    let request = std::mem::replace(request, Request::new(Body::empty()));
    let response = f.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into())
}

async fn audit(f: &Fixture, query: &str) -> AuditPage {
    let mut request = Request::get(format!("/api/v1/audit?{query}"))
        .header(header::COOKIE, &f.cookies[&Role::Admin])
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(f, &mut request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn changes_are_recorded_with_who_where_what_before_and_after() {
    let f = fixture().await;
    let (vpc, subnet) = (f.vpc_id.to_string(), f.subnet_id.to_string());
    let body = new_havip(&f, &vpc, &subnet, "web-vip", serde_json::json!("Automatic"));
    let (status, created) = call(
        &f,
        Role::Operator,
        CreateHavip::PATH,
        "application/json",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = json(&created)["id"].as_str().unwrap().to_string();
    let rename = form(&[("id", &id), ("name", "web-vip-2")]);
    let form_type = "application/x-www-form-urlencoded";
    let (status, _) = call(&f, Role::Operator, RenameHavip::PATH, form_type, rename).await;
    assert_eq!(status, StatusCode::OK);
    // a refused change leaves no record
    let bad = form(&[("id", &id), ("name", "")]);
    let (status, _) = call(&f, Role::Operator, RenameHavip::PATH, form_type, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(
        &f,
        Role::Operator,
        DeleteHavip::PATH,
        form_type,
        form(&[("id", &id)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let page = audit(&f, &format!("object={id}")).await;
    let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["havip.delete", "havip.rename", "havip.create"]);
    for e in &page.entries {
        assert_eq!(e.user, "operator-user");
        assert_eq!(e.client, "192.0.2.7");
        assert_eq!(e.object, id);
        assert!(e.at > 0);
    }
    let [delete, rename, create] = &page.entries[..] else {
        unreachable!()
    };
    assert!(
        delete.id > rename.id && rename.id > create.id,
        "newest first"
    );
    assert_eq!(create.before, None);
    assert_eq!(create.after.as_ref().unwrap()["name"], "web-vip");
    assert_eq!(rename.before.as_ref().unwrap()["name"], "web-vip");
    assert_eq!(rename.after.as_ref().unwrap()["name"], "web-vip-2");
    assert_eq!(
        app::domain::audit::changes(&rename.before, &rename.after, "(none)"),
        vec!["name: web-vip → web-vip-2"]
    );
    assert_eq!(delete.before.as_ref().unwrap()["name"], "web-vip-2");
    assert_eq!(delete.after, None);
}

#[tokio::test]
async fn logins_failed_logins_and_logouts_are_recorded_and_no_secret_ever_is() {
    let f = fixture().await;
    let login = |name: &str, password: &str| {
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(form(&[("name", name), ("password", password)])))
            .unwrap()
    };
    let (status, _) = send(&f, &mut login("viewer-user", "not the password")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&f, &mut login("viewer-user", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    let page = audit(&f, "object=user+viewer-user&limit=2").await;
    let got: Vec<(&str, &str, &str)> = page
        .entries
        .iter()
        .map(|e| (e.action.as_str(), e.user.as_str(), e.client.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("login", "viewer-user", "192.0.2.7"),
            ("login.failed", "viewer-user", "192.0.2.7")
        ]
    );

    // an admin adds a user, sets a password, mints an agent token: none of the secrets, nor
    // their hashes or digests, is in the log
    let form_type = "application/x-www-form-urlencoded";
    let add = form(&[
        ("name", "carol"),
        ("role", "operator"),
        ("password", "carol's first password"),
    ]);
    let (status, body) = call(&f, Role::Admin, AddUser::PATH, form_type, add).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set = form(&[("name", "carol"), ("password", "carol's second password")]);
    let (status, _) = call(&f, Role::Admin, SetUserPassword::PATH, form_type, set).await;
    assert_eq!(status, StatusCode::OK);
    let agent = serde_json::json!({"name": "edge", "subnet_ids": [f.subnet_id]}).to_string();
    let (status, created) = call(
        &f,
        Role::Admin,
        CreateAgent::PATH,
        "application/json",
        agent,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let token = json(&created)["token"].as_str().unwrap().to_string();

    let page = audit(&f, "limit=200").await;
    let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        &actions[..3],
        ["agent.create", "user.password", "user.create"]
    );
    assert_eq!(page.entries[2].after.as_ref().unwrap()["role"], "operator");
    let everything = format!(
        "{:?}",
        f.store
            .raw_tree("audit")
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
    ) + &serde_json::to_string(&page).unwrap();
    for secret in [
        "carol's first password",
        "carol's second password",
        "not the password",
        PASSWORD,
        "$argon2",
        "hvs_",
        token.as_str(),
        &app::support::sha256_hex(&token),
    ] {
        assert!(!everything.contains(secret), "{secret} is in the audit log");
    }
}

#[tokio::test]
async fn the_log_pages_newest_first_and_filters() {
    let f = fixture().await;
    for i in 0..7 {
        f.store
            .acting(app::domain::audit::Actor::user("pager", None))
            .rename_havip(&f.havip.id, &format!("name-{i}"))
            .await
            .unwrap();
    }
    let mut seen: Vec<AuditEntry> = vec![];
    let mut cursor = String::new();
    loop {
        let page = audit(&f, &format!("user=PAGER&action=rename&limit=3{cursor}")).await;
        assert!(page.entries.len() <= 3);
        seen.extend(page.entries);
        match page.next {
            Some(next) => cursor = format!("&before={next}"),
            None => break,
        }
    }
    let names: Vec<String> = seen
        .iter()
        .map(|e| {
            e.after.as_ref().unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected: Vec<String> = (0..7).rev().map(|i| format!("name-{i}")).collect();
    assert_eq!(names, expected);
    assert!(audit(&f, "user=nobody-at-all").await.entries.is_empty());
    // a cursor or limit that is no number is the caller's mistake, said in JSON
    for bad in ["before=soon", "limit=-1"] {
        let mut request = Request::get(format!("/api/v1/audit?{bad}"))
            .header(header::COOKIE, &f.cookies[&Role::Admin])
            .body(Body::empty())
            .unwrap();
        let (status, body) = send(&f, &mut request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(json(&body)["kind"], "Malformed", "{body}");
    }
}

#[tokio::test]
async fn only_the_newest_records_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        audit_limit: 5,
        ..Default::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    for i in 0..12 {
        store.create_region(&format!("region-{i}")).await.unwrap();
    }
    assert_eq!(store.audit_len(), 5);
    let page = store.audit(&Default::default()).unwrap();
    let objects: Vec<String> = page
        .entries
        .iter()
        .map(|e| {
            e.after.as_ref().unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        objects,
        ["region-11", "region-10", "region-9", "region-8", "region-7"]
    );
    assert_eq!(store.raw_tree("audit").unwrap().len(), 5);
}
