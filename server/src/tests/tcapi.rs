//! The Tencent-compatible endpoint over HTTP, signed as the clients sign (the signature itself
//! is pinned against the official SDK in `tcapi::sign`; the SDK and tccli drive the real
//! binary in `end2end/tcapi`).

use crate::tcapi::{router, TcApi};
use crate::tests::fixture::{fixture, Fixture};
use app::domain::auth::Role;
use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub(crate) struct Key {
    pub id: String,
    pub secret: String,
}

pub(crate) async fn key_of(f: &Fixture, role: Role) -> Key {
    let (row, secret) = f
        .store
        .create_api_key(&format!("{role}-user"))
        .await
        .unwrap();
    Key { id: row.id, secret }
}

/// A signed POST (or GET with `query`) as the official SDK sends it, at `timestamp`.
pub(crate) fn signed(
    key: &Key,
    action: &str,
    params: &Value,
    query: Option<&str>,
    timestamp: i64,
) -> Request<Body> {
    signed_headers(
        key,
        action,
        params,
        query,
        timestamp,
        &["content-type", "host"],
    )
}

/// A signed request whose signature covers `signed_headers` (of content-type, host and
/// x-tc-action).
pub(crate) fn signed_headers(
    key: &Key,
    action: &str,
    params: &Value,
    query: Option<&str>,
    timestamp: i64,
    signed_headers: &[&str],
) -> Request<Body> {
    let host = "127.0.0.1:3001";
    let (method, content_type, body, uri) = match query {
        None => (
            "POST",
            "application/json",
            params.to_string(),
            "/".to_string(),
        ),
        Some(q) => (
            "GET",
            "application/x-www-form-urlencoded",
            String::new(),
            format!("/?{q}"),
        ),
    };
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("content-type", content_type.parse().unwrap());
    headers.insert("host", host.parse().unwrap());
    headers.insert("x-tc-action", action.parse().unwrap());
    let date = &app::domain::model::format_time(timestamp as u64 * 1000)[..10];
    let mut auth = crate::tcapi::sign::Authorization {
        secret_id: key.id.clone(),
        date: date.into(),
        service: "vpc".into(),
        signed_headers: signed_headers.iter().map(|h| h.to_string()).collect(),
        signature: String::new(),
    };
    let ts = timestamp.to_string();
    auth.signature = crate::tcapi::sign::expected_signature(
        &auth,
        &key.secret,
        &crate::tcapi::sign::Signed {
            method,
            query: query.unwrap_or(""),
            headers: &headers,
            body: body.as_bytes(),
            timestamp: &ts,
        },
    );
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .header("host", host)
        .header("x-tc-action", action)
        .header("x-tc-timestamp", ts)
        .header("x-tc-version", "2017-03-12")
        .header("x-tc-region", "ap-default")
        .header(
            "authorization",
            format!(
                "TC3-HMAC-SHA256 Credential={}/{date}/vpc/tc3_request, SignedHeaders={}, Signature={}",
                key.id,
                signed_headers.join(";"),
                auth.signature
            ),
        )
        .body(Body::from(body))
        .unwrap()
}

pub(crate) fn now() -> i64 {
    app::support::now_ms() as i64 / 1000
}

/// Sends a request; checks the envelope every answer has; returns `Response`.
pub(crate) async fn call(api: &axum::Router, request: Request<Body>) -> Value {
    let response = api.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let inner = body["Response"].clone();
    assert!(
        inner["RequestId"].as_str().is_some_and(|r| r.len() == 36),
        "{body}"
    );
    inner
}

pub(crate) fn code(answer: &Value) -> &str {
    answer["Error"]["Code"].as_str().unwrap_or("")
}

async fn act(api: &axum::Router, key: &Key, action: &str, params: Value) -> Value {
    call(api, signed(key, action, &params, None, now())).await
}

#[tokio::test]
async fn signatures_timestamps_keys_and_roles_are_checked() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 1000));
    let viewer = key_of(&f, Role::Viewer).await;
    let before = f.store.dump().unwrap();

    let unsigned = Request::post("/")
        .header("x-tc-action", "DescribeHaVips")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        code(&call(&api, unsigned).await),
        "AuthFailure.SignatureFailure"
    );
    let wrong = Key {
        id: viewer.id.clone(),
        secret: "not the secret".into(),
    };
    assert_eq!(
        code(&act(&api, &wrong, "DescribeHaVips", json!({})).await),
        "AuthFailure.SignatureFailure"
    );
    let unknown = Key {
        id: "AKIDunknownunknownunknownunknown0000".into(),
        secret: viewer.secret.clone(),
    };
    assert_eq!(
        code(&act(&api, &unknown, "DescribeHaVips", json!({})).await),
        "AuthFailure.SecretIdNotFound"
    );
    let old = signed(&viewer, "DescribeHaVips", &json!({}), None, now() - 301);
    assert_eq!(code(&call(&api, old).await), "AuthFailure.SignatureExpire");
    // the body changed after signing
    let mut tampered = signed(&viewer, "DescribeHaVips", &json!({"Limit": 1}), None, now());
    *tampered.body_mut() = Body::from(json!({"Limit": 2}).to_string());
    assert_eq!(
        code(&call(&api, tampered).await),
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(
        code(&act(&api, &viewer, "RunInstances", json!({})).await),
        "InvalidAction"
    );
    // a viewer reads, and may change nothing
    let read = act(&api, &viewer, "DescribeHaVips", json!({})).await;
    assert_eq!(read["TotalCount"], 1, "{read}");
    let refused = act(
        &api,
        &viewer,
        "CreateHaVip",
        json!({"VpcId": f.vpc_id, "SubnetId": f.subnet_id, "HaVipName": "x"}),
    )
    .await;
    assert_eq!(code(&refused), "UnauthorizedOperation");
    // a disabled key, then a disabled user's key
    f.store
        .set_api_key_disabled("viewer-user", &viewer.id, true)
        .await
        .unwrap();
    assert_eq!(
        code(&act(&api, &viewer, "DescribeHaVips", json!({})).await),
        "AuthFailure.SecretIdNotFound"
    );
    f.store
        .set_api_key_disabled("viewer-user", &viewer.id, false)
        .await
        .unwrap();
    f.store
        .set_user_disabled("viewer-user", true)
        .await
        .unwrap();
    assert_eq!(
        code(&act(&api, &viewer, "DescribeHaVips", json!({})).await),
        "AuthFailure.SecretIdNotFound"
    );
    f.store
        .set_user_disabled("viewer-user", false)
        .await
        .unwrap();
    // refusals changed nothing but the key's and the user's own state, set and put back here
    // (a user's change moves the users' fence, see the store's `fences`), and the signatures
    // of the requests accepted in between
    let after = f.store.dump().unwrap();
    let changed: Vec<String> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, _)| String::from_utf8_lossy(&b.0).into_owned())
        .collect();
    assert!(
        changed.iter().all(|t| [
            "api_keys",
            "audit",
            "users",
            "sessions",
            "fences",
            "signatures"
        ]
        .contains(&t.as_str())),
        "{changed:?}"
    );
    // a wrong signature for a real SecretId writes nothing (not even the key's last use)
    let fresh = key_of(&f, Role::Viewer).await;
    let before = f.store.dump().unwrap();
    let wrong = Key {
        id: fresh.id.clone(),
        secret: "guess".into(),
    };
    let answer = act(&api, &wrong, "DescribeHaVips", json!({})).await;
    assert_eq!(code(&answer), "AuthFailure.SignatureFailure");
    assert!(
        f.store.dump().unwrap() == before,
        "a failed signature wrote something"
    );
}

#[tokio::test]
async fn havips_over_the_api_the_get_form_associations_and_the_audit_log() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 1000));
    let operator = key_of(&f, Role::Operator).await;
    let made = act(&api, &operator, "CreateHaVip", json!({"VpcId": f.vpc_id, "SubnetId": f.subnet_id, "HaVipName": "api-vip", "Vip": "172.16.16.40"})).await;
    let havip = made["HaVip"].clone();
    assert_eq!(havip["Vip"], "172.16.16.40", "{made}");
    for field in [
        "HaVipId",
        "HaVipName",
        "Vip",
        "VpcId",
        "SubnetId",
        "NetworkInterfaceId",
        "InstanceId",
        "AddressIp",
        "State",
        "CreatedTime",
        "Business",
        "HaVipAssociationSet",
        "CheckAssociate",
        "CdcId",
        "FlushedTime",
        "TagSet",
    ] {
        assert!(havip.get(field).is_some(), "{field} missing: {havip}");
    }
    assert_eq!(havip["State"], "UNBIND");
    assert_eq!(havip["FlushedTime"], "0000-00-00 00:00:00");
    let id = havip["HaVipId"].as_str().unwrap().to_string();

    // the GET form, dot-flattened
    let query = format!("HaVipIds.0={id}");
    let got = call(
        &api,
        signed(&operator, "DescribeHaVips", &json!({}), Some(&query), now()),
    )
    .await;
    assert_eq!(got["TotalCount"], 1, "{got}");
    assert_eq!(got["HaVipSet"][0]["HaVipName"], "api-vip");

    // allowed holders through the association actions
    let instance = f
        .store
        .register_instance(app::store::NewInstance {
            name: "web-1".into(),
            subnet_id: f.subnet_id.clone(),
            mac: "52:54:00:00:00:07".into(),
            ip: "172.16.16.7".into(),
        })
        .await
        .unwrap();
    let set = json!({"HaVipAssociationSet": [{"HaVipId": id, "InstanceId": instance.id, "InstanceType": "CVM"}]});
    let answer = act(&api, &operator, "AssociateHaVipInstance", set.clone()).await;
    assert!(answer["TaskId"].is_string(), "{answer}");
    let task = act(
        &api,
        &operator,
        "DescribeVpcTaskResult",
        json!({"TaskId": answer["TaskId"]}),
    )
    .await;
    assert_eq!(task["Status"], "SUCCESS");
    let got = act(&api, &operator, "DescribeHaVips", json!({"HaVipIds": [id]})).await;
    assert_eq!(got["HaVipSet"][0]["CheckAssociate"], true);
    assert_eq!(
        got["HaVipSet"][0]["HaVipAssociationSet"][0]["InstanceId"],
        instance.id.to_string()
    );
    assert_eq!(
        f.store.havip(&id.parse().unwrap()).unwrap().allowed,
        vec![instance.eni_id.clone()]
    );
    // the same body signed in the same second would be the same signature (the action is
    // not signed), refused as a replay: signed a second later, as a client's next call is
    let undone = call(
        &api,
        signed(
            &operator,
            "DisassociateHaVipInstance",
            &set,
            None,
            now() + 1,
        ),
    )
    .await;
    assert_eq!(code(&undone), "", "{undone}");
    assert!(f
        .store
        .havip(&id.parse().unwrap())
        .unwrap()
        .allowed
        .is_empty());

    // the audit log names the user and the key
    let log = f
        .store
        .audit(&app::domain::audit::AuditQuery {
            object: id.clone(),
            ..Default::default()
        })
        .unwrap();
    let actions: Vec<&str> = log.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "havip.allowed_holders",
            "havip.allowed_holders",
            "havip.create"
        ]
    );
    assert!(log
        .entries
        .iter()
        .all(|e| e.user == format!("operator-user (key {})", operator.id)));
}

#[tokio::test]
async fn each_key_and_action_is_rate_limited() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 2));
    let viewer = key_of(&f, Role::Viewer).await;
    let codes: Vec<String> = {
        let mut codes = vec![];
        // distinct requests: identical ones signed in the same second are one signature,
        // accepted once
        for limit in 1..=3 {
            let answer = act(&api, &viewer, "DescribeHaVips", json!({ "Limit": limit })).await;
            codes.push(code(&answer).to_string());
        }
        codes
    };
    assert_eq!(codes, ["", "", "RequestLimitExceeded"]);
    // another action has its own budget
    assert_eq!(
        code(&act(&api, &viewer, "DescribeVpcs", json!({})).await),
        ""
    );
}

#[tokio::test]
async fn secret_keys_are_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = app::store::Store::open(dir.path(), Default::default()).unwrap();
    store
        .create_user("alice", "twelve chars at least", Role::Viewer)
        .await
        .unwrap();
    let (row, secret) = store.create_api_key("alice").await.unwrap();
    let raw = format!("{:?}", store.dump().unwrap());
    assert!(!raw.contains(&secret), "the SecretKey is stored in clear");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (again, unsealed) = store.api_key_secret(&row.id).unwrap().unwrap();
    assert_eq!((again.id, unsealed), (row.id, secret));
}

#[tokio::test]
async fn each_api_request_gets_a_log_line_with_the_signing_keys_user() {
    use app::domain::auth::Principal;
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 100));
    let key = key_of(&f, Role::Viewer).await;
    let request = signed(&key, "DescribeHaVips", &json!({}), None, now());
    let response = api.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers()["x-request-id"].len(), 16);
    let user = response
        .extensions()
        .get::<Principal>()
        .map(|p| p.user.clone());
    assert_eq!(user.as_deref(), Some("viewer-user"));
    // a request no signature proves is logged as nobody's
    let unsigned = Request::post("/").body(Body::empty()).unwrap();
    let response = api.oneshot(unsigned).await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    assert!(response.extensions().get::<Principal>().is_none());
}

/// The official SDK signs only content-type and host, so the action is not covered by the
/// signature: a captured request must not be usable again, with its action or another.
#[tokio::test]
async fn a_signed_request_is_accepted_once() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 1000));
    let viewer = key_of(&f, Role::Viewer).await;
    let now_at = now();
    let captured = || {
        signed(
            &viewer,
            "DescribeHaVips",
            &json!({"Limit": 5}),
            None,
            now_at,
        )
    };
    let first = call(&api, captured()).await;
    assert_eq!(code(&first), "", "{first}");
    assert_eq!(first["TotalCount"], 1, "{first}");

    let again = call(&api, captured()).await;
    assert_eq!(code(&again), "AuthFailure.SignatureFailure", "{again}");
    assert_eq!(
        again["Error"]["Message"],
        "The request's signature was already used: sign each request anew (replayed requests are refused)."
    );
    // another console on the same store (another replica, or this one restarted, with an
    // empty memory) refuses it too
    let other_replica = router(TcApi::new(f.store.clone(), 1000));
    let replayed = call(&other_replica, captured()).await;
    assert_eq!(
        code(&replayed),
        "AuthFailure.SignatureFailure",
        "{replayed}"
    );
    let mut other_action = captured();
    other_action
        .headers_mut()
        .insert("x-tc-action", "DescribeVpcs".parse().unwrap());
    let answer = call(&api, other_action).await;
    assert_eq!(code(&answer), "AuthFailure.SignatureFailure", "{answer}");
    assert!(answer.get("VpcSet").is_none(), "{answer}");

    // the same request signed a second later is another signature: accepted
    let next = signed(
        &viewer,
        "DescribeHaVips",
        &json!({"Limit": 5}),
        None,
        now_at + 1,
    );
    assert_eq!(code(&call(&api, next).await), "");
}

#[tokio::test]
async fn a_forged_signature_does_not_spoil_the_real_one() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 1000));
    let viewer = key_of(&f, Role::Viewer).await;
    let at = now();
    let real = signed(&viewer, "DescribeHaVips", &json!({}), None, at);
    // someone who saw the signature (not the key) sends it first with another body
    let mut forged = signed(&viewer, "DescribeHaVips", &json!({}), None, at);
    *forged.body_mut() = Body::from(json!({"Limit": 1}).to_string());
    assert_eq!(
        code(&call(&api, forged).await),
        "AuthFailure.SignatureFailure"
    );
    let answer = call(&api, real).await;
    assert_eq!(code(&answer), "", "{answer}");
}

#[tokio::test]
async fn a_signed_action_cannot_be_changed() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 1000));
    let viewer = key_of(&f, Role::Viewer).await;
    let with_action = ["content-type", "host", "x-tc-action"];
    let signing =
        |action: &str| signed_headers(&viewer, action, &json!({}), None, now(), &with_action);
    let mut changed = signing("DescribeHaVips");
    changed
        .headers_mut()
        .insert("x-tc-action", "DescribeVpcs".parse().unwrap());
    let answer = call(&api, changed).await;
    assert_eq!(code(&answer), "AuthFailure.SignatureFailure", "{answer}");
    assert!(
        answer["Error"]["Message"]
            .as_str()
            .is_some_and(|m| m.contains("does not match")),
        "{answer}"
    );
    // DescribeVpcs signed as such is accepted
    let answer = call(&api, signing("DescribeVpcs")).await;
    assert_eq!(code(&answer), "", "{answer}");
    assert!(answer["VpcSet"].is_array(), "{answer}");
}

/// What each action needs is `Action::role`, the one table of actions: every action is refused
/// to a key whose user has less, and is not refused for its role to one who has enough.
#[tokio::test]
async fn each_action_needs_exactly_the_role_its_table_gives() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 1000));
    let mut at = now();
    for role in [Role::Viewer, Role::Operator, Role::Admin] {
        let key = key_of(&f, role).await;
        for action in crate::tcapi::actions::Action::ALL {
            // each request signed at its own second: a signature is accepted once
            at -= 1;
            let answer = call(&api, signed(&key, action.name(), &json!({}), None, at)).await;
            let refused = code(&answer) == "UnauthorizedOperation";
            assert_eq!(
                refused,
                role < action.role(),
                "{} as {role}: {answer}",
                action.name()
            );
        }
    }
}

/// `X-TC-Language: zh-CN` (the SDKs send `zh-CN` or `en-US`) answers the same code with a
/// Chinese message; `en-US` and no header, the English one.
#[tokio::test]
async fn x_tc_language_zh_cn_answers_the_same_code_in_chinese() {
    let f = fixture().await;
    let api = router(TcApi::new(f.store.clone(), 1000));
    let operator = key_of(&f, Role::Operator).await;
    // an unsigned request, an unknown action and a create refused by the rules, each asked
    // twice (signed a second apart: a signature is accepted once)
    let refused_create = json!({"VpcId": f.vpc_id, "SubnetId": f.subnet_id,
        "HaVipName": "x", "Vip": "10.99.0.1"});
    let requests = |at: i64| {
        vec![
            Request::post("/")
                .header("x-tc-action", "DescribeHaVips")
                .body(Body::from("{}"))
                .unwrap(),
            signed(&operator, "RunInstances", &json!({}), None, at),
            signed(&operator, "CreateHaVip", &refused_create, None, at),
        ]
    };
    let t = now();
    for (plain, mut asked) in requests(t - 1).into_iter().zip(requests(t)) {
        asked
            .headers_mut()
            .insert("x-tc-language", "zh-CN".parse().unwrap());
        let plain = call(&api, plain).await;
        let asked = call(&api, asked).await;
        assert_ne!(code(&plain), "", "{plain}");
        assert_eq!(code(&asked), code(&plain), "X-TC-Language: zh-CN");
        let english = plain["Error"]["Message"].as_str().unwrap();
        assert!(english.is_ascii() && english.contains(' '), "{english}");
        let chinese = asked["Error"]["Message"].as_str().unwrap();
        assert!(
            chinese
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{chinese}"
        );
    }
}
