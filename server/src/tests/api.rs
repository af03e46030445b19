//! Server functions and the JSON API over HTTP, through the real router: what the browser (or a
//! script) sends, what it gets. Every refusal has one exact status, and changes nothing.

use app::api::agents::{CreateAgent, RevokeAgent};
use app::api::eips::{BindEip, ReleaseEip, UnbindHavipEip};
use app::api::havips::{CreateHavip, DeleteHavip, HavipDetail, RenameHavip, SetAllowedHolders};
use app::api::instances::{DeregisterInstance, RegisterInstance};
use app::api::network::{CreateSubnet, CreateVpc};
use app::domain::auth::Role;
use app::domain::error::{ApiError, ErrorKind};
use app::domain::model::Instance;
use axum::http::{Method, StatusCode};
use leptos::server_fn::ServerFn;

use super::fixture::*;

/// A request as the admin.
async fn request(
    f: &Fixture,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: String,
) -> (StatusCode, serde_json::Value) {
    request_as(f, Some(Role::Admin), method, path, content_type, body).await
}

/// POSTs to a server function as the admin; returns the status and the JSON body.
async fn post(f: &Fixture, path: &str, how: As, body: String) -> (StatusCode, serde_json::Value) {
    request(f, Method::POST, path, Some(content_type(how)), body).await
}

/// The refusal in a response, which must have exactly `status`.
fn refusal(status: StatusCode, body: serde_json::Value, expected: u16) -> ApiError {
    assert_eq!(status.as_u16(), expected, "{body}");
    serde_json::from_value(body).expect("refusals are ApiError JSON")
}

#[tokio::test]
async fn every_refusal_has_its_status_says_why_and_changes_nothing() {
    let f = fixture().await;
    // state the refusals run into: an EIP bound to the HAVIP, a second VPC with its own subnet
    let eip = f.store.allocate_eip().await.unwrap();
    f.store.bind_eip(&eip.id, &f.havip.id).await.unwrap();
    let other_vpc = f
        .store
        .create_vpc(&f.havip.region_id, "other", "10.1.0.0/16")
        .await
        .unwrap();
    let other_subnet = f
        .store
        .create_subnet(&other_vpc.id, "other-a", "10.1.1.0/24")
        .await
        .unwrap();
    let (vpc, subnet) = (f.vpc_id.to_string(), f.subnet_id.to_string());
    let havip = f.havip.id.to_string();
    let manual = |ip: &str| serde_json::json!({ "Manual": ip });
    let auto = serde_json::json!("Automatic");
    let long_name = "n".repeat(61);

    // (what, path, encoding, body, status, field, words in the message)
    type Case<'a> = (&'a str, &'a str, As, String, u16, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "reserved gateway",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a", manual("172.16.16.1")),
            422,
            Some("ip"),
            "reserved",
        ),
        (
            "broadcast",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a", manual("172.16.16.255")),
            422,
            Some("ip"),
            "reserved",
        ),
        (
            "address in use",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a", manual("172.16.16.12")),
            422,
            Some("ip"),
            "already in use",
        ),
        (
            "outside the subnet",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a", manual("172.16.17.5")),
            422,
            Some("ip"),
            "outside",
        ),
        (
            "IPv6 address",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a", manual("fe80::1")),
            422,
            Some("ip"),
            "IPv4",
        ),
        (
            "malformed address",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a", manual("172.16.16.300")),
            422,
            Some("ip"),
            "IPv4",
        ),
        (
            "empty name",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "  ", auto.clone()),
            422,
            Some("name"),
            "Enter a name",
        ),
        (
            "name too long",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, &long_name, auto.clone()),
            422,
            Some("name"),
            "60",
        ),
        (
            "name with a control character",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a\u{7}b", auto.clone()),
            422,
            Some("name"),
            "control",
        ),
        (
            "unknown VPC",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, "vpc-00000000", &subnet, "a", auto.clone()),
            422,
            Some("vpc"),
            "does not exist",
        ),
        (
            "subnet of another VPC",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &other_subnet.id, "a", auto.clone()),
            422,
            Some("subnet"),
            "does not belong",
        ),
        (
            "an ENI id where a VPC id goes",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, "eni-00000000", &subnet, "a", auto.clone()),
            400,
            None,
            "not a VPC ID",
        ),
        (
            "unknown IP mode",
            CreateHavip::PATH,
            As::Json,
            new_havip(&f, &vpc, &subnet, "a", serde_json::json!("Random")),
            400,
            None,
            "Malformed request",
        ),
        (
            "missing field",
            CreateHavip::PATH,
            As::Json,
            r#"{"req":{"name":"a"}}"#.into(),
            400,
            None,
            "Malformed request",
        ),
        (
            "truncated body",
            CreateHavip::PATH,
            As::Json,
            r#"{"req":{"name":"#.into(),
            400,
            None,
            "Malformed request",
        ),
        (
            "form body to a JSON function",
            CreateHavip::PATH,
            As::Form,
            form(&[("name", "a")]),
            400,
            None,
            "Malformed request",
        ),
        (
            "unknown HAVIP",
            RenameHavip::PATH,
            As::Form,
            form(&[("id", "havip-00000000"), ("name", "x")]),
            404,
            None,
            "does not exist",
        ),
        (
            "malformed HAVIP id",
            RenameHavip::PATH,
            As::Form,
            form(&[("id", "havip-<b>x</b>"), ("name", "x")]),
            400,
            None,
            "not an HAVIP ID",
        ),
        (
            "rename to an empty name",
            RenameHavip::PATH,
            As::Form,
            form(&[("id", &havip), ("name", "")]),
            422,
            Some("name"),
            "Enter a name",
        ),
        (
            "rename without a name",
            RenameHavip::PATH,
            As::Form,
            form(&[("id", &havip)]),
            400,
            None,
            "Malformed request",
        ),
        (
            "delete with an EIP bound",
            DeleteHavip::PATH,
            As::Form,
            form(&[("id", &havip)]),
            409,
            None,
            "unbind the EIP",
        ),
        (
            "release a bound EIP",
            ReleaseEip::PATH,
            As::Form,
            form(&[("id", eip.id.as_str())]),
            409,
            None,
            "unbind it",
        ),
        (
            "bind an unknown EIP",
            BindEip::PATH,
            As::Form,
            form(&[("eip_id", "eip-00000000"), ("havip_id", &havip)]),
            404,
            None,
            "does not exist",
        ),
        (
            "bind a second EIP",
            BindEip::PATH,
            As::Form,
            form(&[("eip_id", eip.id.as_str()), ("havip_id", &havip)]),
            409,
            None,
            "already bound",
        ),
        (
            "unbind the EIP of an unknown HAVIP",
            UnbindHavipEip::PATH,
            As::Form,
            form(&[("havip_id", "havip-00000000")]),
            404,
            None,
            "does not exist",
        ),
        (
            "detail of an unknown HAVIP",
            HavipDetail::PATH,
            As::Form,
            form(&[("id", "havip-00000000")]),
            404,
            None,
            "does not exist",
        ),
        (
            "allowed holder not registered",
            SetAllowedHolders::PATH,
            As::Json,
            serde_json::json!({"havip_id": havip, "eni_ids": ["eni-00000000"]}).to_string(),
            422,
            Some("allowed"),
            "does not exist",
        ),
        (
            "allowed holders as a string",
            SetAllowedHolders::PATH,
            As::Json,
            serde_json::json!({"havip_id": havip, "eni_ids": "eni-00000000"}).to_string(),
            400,
            None,
            "Malformed request",
        ),
        (
            "deregister an unknown ENI",
            DeregisterInstance::PATH,
            As::Form,
            form(&[("eni_id", "eni-00000000")]),
            404,
            None,
            "does not exist",
        ),
        (
            "register a multicast MAC",
            RegisterInstance::PATH,
            As::Form,
            form(&[
                ("name", "w"),
                ("subnet_id", &subnet),
                ("mac", "01:00:5e:00:00:01"),
                ("ip", "172.16.16.5"),
            ]),
            422,
            Some("mac"),
            "not one network interface",
        ),
        (
            "register into an unknown subnet",
            RegisterInstance::PATH,
            As::Form,
            form(&[
                ("name", "w"),
                ("subnet_id", "subnet-00000000"),
                ("mac", "52:54:00:00:00:09"),
                ("ip", "172.16.16.5"),
            ]),
            422,
            Some("subnet"),
            "does not exist",
        ),
        (
            "agent without subnets",
            CreateAgent::PATH,
            As::Json,
            serde_json::json!({"name": "a", "subnet_ids": []}).to_string(),
            422,
            Some("subnets"),
            "at least one subnet",
        ),
        (
            "agent for an unknown subnet",
            CreateAgent::PATH,
            As::Json,
            serde_json::json!({"name": "a", "subnet_ids": ["subnet-00000000"]}).to_string(),
            422,
            Some("subnets"),
            "does not exist",
        ),
        (
            "agent subnets comma-joined",
            CreateAgent::PATH,
            As::Json,
            serde_json::json!({"name": "a", "subnet_ids": format!("{subnet},{subnet}")})
                .to_string(),
            400,
            None,
            "Malformed request",
        ),
        (
            "revoke an unknown agent",
            RevokeAgent::PATH,
            As::Form,
            form(&[("id", "agent-00000000")]),
            404,
            None,
            "does not exist",
        ),
        (
            "VPC outside private ranges",
            CreateVpc::PATH,
            As::Form,
            form(&[
                ("region_id", f.havip.region_id.as_str()),
                ("name", "v"),
                ("cidr", "8.8.0.0/16"),
            ]),
            422,
            Some("cidr"),
            "private",
        ),
        (
            "overlapping subnet",
            CreateSubnet::PATH,
            As::Form,
            form(&[("vpc_id", &vpc), ("name", "s"), ("cidr", "172.16.16.0/25")]),
            422,
            Some("cidr"),
            "overlaps",
        ),
    ];
    for (what, path, how, body, status, field, words) in cases {
        let before = f.store.dump().unwrap();
        let (got, answer) = post(&f, path, how, body).await;
        assert_eq!(got.as_u16(), status, "{what}: {answer}");
        let e = refusal(got, answer, status);
        assert_eq!(e.field.as_deref(), field, "{what}: {}", e.message);
        assert!(e.message.contains(words), "{what}: {}", e.message);
        assert!(
            f.store.dump().unwrap() == before,
            "{what} changed the database"
        );
    }
}

#[tokio::test]
async fn internal_errors_answer_500_without_their_details() {
    let f = fixture().await;
    // a damaged record: the store cannot decode it
    f.store
        .raw_tree("havips")
        .unwrap()
        .insert("havip-broken00", b"{not json")
        .unwrap();
    let (status, body) = post(
        &f,
        RenameHavip::PATH,
        As::Form,
        form(&[("id", "havip-broken00"), ("name", "x")]),
    )
    .await;
    let e = refusal(status, body.clone(), 500);
    assert_eq!(e.kind, ErrorKind::Internal);
    let text = body.to_string();
    for secret in ["corrupt", "database", "key must be", "expected"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(e.message.contains("reference"), "{}", e.message);
    // the JSON API maps the same way
    let (status, _) = request(&f, Method::GET, "/api/v1/havips", None, String::new()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn the_json_api_and_the_agent_endpoint_use_the_same_statuses() {
    let f = fixture().await;
    let get = |path: String| {
        let f = &f;
        async move { request(f, Method::GET, &path, None, String::new()).await }
    };
    let (status, body) = get("/api/v1/havips/havip-00000000/history".into()).await;
    assert_eq!(refusal(status, body, 404).kind, ErrorKind::NotFound);
    let (status, body) = get("/api/v1/havips/vpc-00000000/history".into()).await;
    assert_eq!(refusal(status, body, 400).kind, ErrorKind::Malformed);
    let (status, _) = get(format!("/api/v1/havips/{}/history", f.havip.id)).await;
    assert_eq!(status, StatusCode::OK);
    // the agent endpoint without a token: 401, the same JSON shape
    let (status, body) = get("/agent/ws".into()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(refusal(status, body, 401).kind, ErrorKind::Unauthorized);
}

#[tokio::test]
async fn register_instance_over_http_validates_and_refusals_change_nothing() {
    let f = fixture().await;
    let register = |mac: &'static str, ip: &'static str| {
        let subnet = f.subnet_id.to_string();
        let f = &f;
        async move {
            let body = form(&[
                ("name", "web 1"),
                ("subnet_id", &subnet),
                ("mac", mac),
                ("ip", ip),
            ]);
            post(f, RegisterInstance::PATH, As::Form, body).await
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
        let before = f.store.dump().unwrap();
        let (status, body) = register(mac, ip).await;
        let e = refusal(status, body, 422);
        assert_eq!(e.field.as_deref(), Some(field), "{mac} {ip}: {}", e.message);
        assert!(e.message.contains(message), "{mac} {ip}: {}", e.message);
        assert!(f.store.dump().unwrap() == before, "{mac} {ip}");
    }
    // a request missing a field is refused before anything runs
    let (status, body) = post(&f, RegisterInstance::PATH, As::Form, form(&[("name", "x")])).await;
    assert_eq!(refusal(status, body, 400).kind, ErrorKind::Malformed);
    assert_eq!(f.store.instances().unwrap(), vec![web1.clone()]);

    let (status, _) = post(
        &f,
        DeregisterInstance::PATH,
        As::Form,
        form(&[("eni_id", web1.eni_id.as_str())]),
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
            post(f, SetAllowedHolders::PATH, As::Json, body).await
        }
    };
    let id = f.havip.id.to_string();
    let (status, body) = set(id.clone(), vec![web1.eni_id.to_string()]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        f.store.havip(&f.havip.id).unwrap().allowed,
        vec![web1.eni_id.clone()]
    );

    let (status, body) = set(id.clone(), vec!["eni-00000000".into()]).await;
    assert_eq!(refusal(status, body, 422).field.as_deref(), Some("allowed"));
    let (status, body) = set("havip-00000000".into(), vec![]).await;
    assert_eq!(refusal(status, body, 404).kind, ErrorKind::NotFound);
    assert_eq!(
        f.store.havip(&f.havip.id).unwrap().allowed.len(),
        1,
        "refusals change nothing"
    );

    let (status, _) = set(id, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(f.store.havip(&f.havip.id).unwrap().allowed.is_empty());
}

/// A page is rendered whole on the server, in one pass: its data inline, nothing streamed in
/// later (no `Suspense` templates), and the data the browser hydrates from written in it (see
/// `ui::first_load`).
#[tokio::test]
async fn pages_are_rendered_whole_with_their_data_for_the_browser() {
    let f = fixture().await;
    for path in ["/", &format!("/havip/{}", f.havip.id)] {
        let (status, page) =
            request_as(&f, Some(Role::Viewer), Method::GET, path, None, "".into()).await;
        let page = page.as_str().unwrap();
        assert_eq!(status, StatusCode::OK, "{path}");
        let main = &page[page.find("<main>").unwrap()..page.find("</main>").unwrap()];
        assert!(
            main.contains(&f.havip.ip.to_string()),
            "{path}: the data inline: {main}"
        );
        assert!(
            page.contains("viewer-user (viewer)"),
            "{path}: the top bar's user"
        );
        assert!(
            !page.contains("<template"),
            "{path}: nothing streamed in later"
        );
        assert!(
            page.contains("__RESOLVED_RESOURCES"),
            "{path}: the data for hydration"
        );
    }
}

#[tokio::test]
async fn a_common_password_is_refused_over_http() {
    use app::api::users::{AddUser, SetUserPassword};
    let f = fixture().await;
    let form_type = Some("application/x-www-form-urlencoded");
    let before = f.store.dump().unwrap();
    let add = |password: &str| {
        form(&[
            ("name", "carol"),
            ("role", "viewer"),
            ("password", password),
        ])
    };
    // compared without case
    let (status, answer) = request_as(
        &f,
        Some(Role::Admin),
        Method::POST,
        AddUser::PATH,
        form_type,
        add("Password1234"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["field"], "password", "{answer}");
    assert_eq!(
        answer["message"],
        "This password is among the most common ones: choose another."
    );
    assert!(
        f.store.dump().unwrap() == before,
        "the refused user was saved"
    );
    // nor may an existing user's password become one
    let set = form(&[("name", "viewer-user"), ("password", "qwertyuiopas")]);
    let (status, answer) = request_as(
        &f,
        Some(Role::Admin),
        Method::POST,
        SetUserPassword::PATH,
        form_type,
        set,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["field"], "password", "{answer}");
    // an uncommon one of the same length is fine
    let (status, answer) = request_as(
        &f,
        Some(Role::Admin),
        Method::POST,
        AddUser::PATH,
        form_type,
        add("Gravel4Tulip"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}
