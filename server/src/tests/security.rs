//! Attacks on the console, over HTTP on the real router: login floods, lockouts, the
//! redirect after login, hosts that are not the console's, forwarded addresses, audit
//! flushing, keys that would outlive a password reset, sessions without bound.

use crate::tests::fixture::{fixture, form, Fixture, PASSWORD};
use app::api::keys::{ApiKeysPage, CreateApiKey, DeleteApiKey, SetApiKeyDisabled};
use app::api::users::SetUserPassword;
use app::domain::auth::Role;
use app::store::{Store, StoreConfig};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use std::net::SocketAddr;
use tower::ServiceExt;

/// What an answer was: status, headers, body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The `name=value` of a cookie the answer sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_string())
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&bytes).into(),
    }
}

/// `POST /login` as a script from `from`, with `cookies` (a `Cookie` header value).
fn login_request(from: &str, name: &str, password: &str, cookies: &str) -> Request<Body> {
    let mut request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if !cookies.is_empty() {
        request = request.header(header::COOKIE, cookies);
    }
    let mut request = request
        .body(Body::from(form(&[("name", name), ("password", password)])))
        .unwrap();
    let peer: SocketAddr = format!("{from}:40000")
        .parse()
        .or_else(|_| format!("[{from}]:40000").parse())
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

pub(crate) async fn login(
    router: &Router,
    from: &str,
    name: &str,
    password: &str,
    cookies: &str,
) -> Answer {
    send(router, login_request(from, name, password, cookies)).await
}

fn failed_logins_audited(store: &Store) -> usize {
    let query = app::domain::audit::AuditQuery {
        action: "login.failed".into(),
        limit: Some(1000),
        ..Default::default()
    };
    store.audit(&query).unwrap().entries.len()
}

#[tokio::test]
async fn a_login_flood_gets_no_more_guesses_than_the_back_off_allows() {
    let f = fixture().await;
    let before = failed_logins_audited(&f.store);
    let flood = (0..60).map(|i| {
        let router = f.router.clone();
        async move {
            login(
                &router,
                "192.0.2.7",
                "admin-user",
                &format!("guess {i} wrong"),
                "",
            )
            .await
        }
    });
    let answers = futures::future::join_all(flood).await;
    let checked = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(checked + refused.len(), 60, "only 401 and 429");
    assert_eq!(checked, 3, "three guesses before the back-off");
    for answer in &refused {
        let wait: u64 = answer.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait >= 1, "{wait}");
        assert!(answer.body.contains("try again in"), "{}", answer.body);
    }
    // refused attempts are counted, not each written to the audit log
    assert_eq!(failed_logins_audited(&f.store) - before, checked);
    let metrics = crate::console::metrics::render(&f.store).unwrap();
    assert!(
        metrics.contains("havip_logins_refused_total{reason=\"back_off\"}"),
        "{metrics}"
    );

    // a name that cannot be a user's is refused before anything else: not hashed, not audited
    let huge = "a".repeat(900 * 1024);
    let answer = login(&f.router, "192.0.2.99", &huge, "whatever it is", "").await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert!(answer.body.len() < 1000, "the name is not echoed");
    let answer = login(
        &f.router,
        "192.0.2.99",
        "admin\nforged line",
        "whatever",
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failed_logins_audited(&f.store) - before, checked);
}

#[tokio::test]
async fn a_browser_that_logged_in_before_is_not_locked_out_by_a_flood() {
    let f = fixture().await;
    let admin = login(&f.router, "192.0.2.1", "admin-user", PASSWORD, "").await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
    let device = admin.cookie("havip_device").expect("a device cookie");
    // someone else guesses the admin's password until the name is held back
    for i in 0..10 {
        login(
            &f.router,
            "198.51.100.9",
            "admin-user",
            &format!("guess {i}"),
            "",
        )
        .await;
    }
    // an unknown browser with the right password is held back by the name's delay
    let stranger = login(&f.router, "192.0.2.50", "admin-user", PASSWORD, "").await;
    assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS);
    // the admin's own browser logs in at once
    let again = login(&f.router, "192.0.2.1", "admin-user", PASSWORD, &device).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    // its cookie names the admin only: for another user it is an unknown browser
    let other = login(
        &f.router,
        "198.51.100.9",
        "operator-user",
        PASSWORD,
        &device,
    )
    .await;
    assert_eq!(
        other.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the flooding address waits"
    );
    // the device's own failures are limited on their own
    for i in 0..3 {
        let wrong = login(
            &f.router,
            "192.0.2.1",
            "admin-user",
            &format!("typo {i}"),
            &device,
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let held = login(&f.router, "192.0.2.1", "admin-user", PASSWORD, &device).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    // a forged or foreign cookie is an unknown browser
    let forged = device.replace("admin-user", "operator-user");
    let answer = login(&f.router, "203.0.113.5", "operator-user", PASSWORD, &forged).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "a fresh address, a fresh name: checked"
    );
}

#[tokio::test]
async fn failures_from_one_network_hold_back_every_name_from_it() {
    let f = fixture().await;
    // three wrong guesses for three different names from one address
    for name in ["a-name", "b-name", "c-name"] {
        let answer = login(&f.router, "192.0.2.20", name, "wrong password", "").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    // a fourth name from that address waits (its own count is 0: the address is why)
    let held = login(&f.router, "192.0.2.20", "operator-user", PASSWORD, "").await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    // from another address the same user logs in
    let other = login(&f.router, "192.0.2.21", "operator-user", PASSWORD, "").await;
    assert_eq!(other.status, StatusCode::OK);
    // IPv6: one /64 is one network
    for (i, from) in ["2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff::3"]
        .iter()
        .enumerate()
    {
        let answer = login(&f.router, from, &format!("v6-{i}"), "wrong password", "").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let same_64 = login(
        &f.router,
        "2001:db8:0:1:abcd::9",
        "viewer-user",
        PASSWORD,
        "",
    )
    .await;
    assert_eq!(same_64.status, StatusCode::TOO_MANY_REQUESTS);
    let next_64 = login(&f.router, "2001:db8:0:2::9", "viewer-user", PASSWORD, "").await;
    assert_eq!(next_64.status, StatusCode::OK);
}

fn router_with(
    f: &Fixture,
    configure: impl FnOnce(crate::console::access::Access) -> crate::console::access::Access,
) -> Router {
    let (access, _) = crate::console::access::Access::new(f.store.clone(), false).unwrap();
    crate::console::serve::router(
        f.store.clone(),
        "127.0.0.1:0".parse().unwrap(),
        configure(access),
    )
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let f = fixture().await;
    let with_header = |from: &str, forwarded: &str, name: &str, password: &str| {
        let mut request = login_request(from, name, password, "");
        request
            .headers_mut()
            .insert("x-forwarded-for", forwarded.parse().unwrap());
        request
            .headers_mut()
            .insert("x-forwarded-proto", "https".parse().unwrap());
        request
    };
    // not trusted: every forged X-Forwarded-For is still the one peer
    for i in 0..3 {
        let request = with_header(
            "192.0.2.30",
            &format!("10.9.9.{i}"),
            &format!("n{i}"),
            "wrong one",
        );
        assert_eq!(
            send(&f.router, request).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let request = with_header("192.0.2.30", "10.9.9.99", "operator-user", PASSWORD);
    assert_eq!(
        send(&f.router, request).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // behind a trusted proxy, each client is its own, and https is believed
    let router = router_with(&f, |a| {
        a.with_trusted_proxies(vec!["192.0.2.0/24".parse().unwrap()])
    });
    for i in 0..3 {
        let request = with_header("192.0.2.31", "10.8.8.0", &format!("m{i}"), "wrong one");
        assert_eq!(
            send(&router, request).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // a client that forges a hop in front of the proxy is still the address the proxy saw
    let request = with_header(
        "192.0.2.31",
        "10.8.8.0, 10.7.7.7",
        "operator-user",
        PASSWORD,
    );
    let answer = send(&router, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let cookie = answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-havip_session="))
        .expect("the https cookie name");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(answer
        .headers
        .contains_key(header::STRICT_TRANSPORT_SECURITY));
    let request = with_header("192.0.2.31", "10.8.8.0", "operator-user", PASSWORD);
    assert_eq!(
        send(&router, request).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "10.8.8.0 failed 3 times"
    );
}

#[tokio::test]
async fn after_login_a_browser_goes_only_to_a_page_of_this_console() {
    let f = fixture().await;
    for next in [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/a/..//evil.example",
    ] {
        let body = format!(
            "name=operator-user&password={}&next={}",
            PASSWORD.replace(' ', "+"),
            crate::console::access::encode(next)
        );
        let mut request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .body(Body::from(body))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo("192.0.2.40:1".parse::<SocketAddr>().unwrap()));
        let answer = send(&f.router, request).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.headers[header::LOCATION], "/", "{next:?}");
    }
}

#[tokio::test]
async fn only_the_consoles_own_host_names_are_served() {
    let f = fixture().await;
    let router = router_with(&f, |a| {
        a.with_public_url(Some(&"https://havip.example.com/".parse().unwrap()))
    });
    let get = |path: &str, host: &str| {
        Request::get(path)
            .header(header::HOST, host)
            .header(header::COOKIE, &f.cookies[&Role::Viewer])
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap()
    };
    for host in [
        "attacker.example",
        "attacker.example:3000",
        "havip.example.com.evil.example",
    ] {
        let answer = send(&router, get("/api/v1/havips", host)).await;
        assert_eq!(answer.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(answer.body.contains("host name"), "{}", answer.body);
    }
    for host in [
        "127.0.0.1:3000",
        "[::1]:3000",
        "localhost:3000",
        "havip.example.com",
        "HAVIP.example.com:443",
    ] {
        let answer = send(&router, get("/api/v1/havips", host)).await;
        assert_eq!(answer.status, StatusCode::OK, "{host}: {}", answer.body);
    }
    // load balancers' checks answer any name, as do agents and scrapers with credentials
    assert_eq!(
        send(&router, get("/healthz", "attacker.example"))
            .await
            .status,
        StatusCode::OK
    );
    let scrape = Request::get(crate::console::metrics::PATH)
        .header(header::HOST, "havip.internal:3000")
        .header(header::AUTHORIZATION, "Bearer not-a-token-at-all")
        .body(Body::empty())
        .unwrap();
    let answer = send(&router, scrape).await;
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "checked, not misdirected"
    );
}

#[tokio::test]
async fn logged_in_answers_are_never_cached() {
    let f = fixture().await;
    for (path, accept) in [
        ("/api/v1/havips", "application/json"),
        ("/eips", "text/html"),
    ] {
        let request = Request::get(path)
            .header(header::COOKIE, &f.cookies[&Role::Viewer])
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap();
        let answer = send(&f.router, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert!(
            !answer
                .headers
                .contains_key(header::STRICT_TRANSPORT_SECURITY),
            "plain HTTP"
        );
    }
}

/// A server function call as the holder of `cookie`.
async fn call(f: &Fixture, cookie: &str, path: &str, body: String) -> Answer {
    let request = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body))
        .unwrap();
    send(&f.router, request).await
}

fn scrape_with_key(id: &str, secret: &str) -> Request<Body> {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    Request::get(crate::console::metrics::PATH)
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_password_reset_revokes_the_users_keys_and_admins_see_every_key() {
    let f = fixture().await;
    let admin = f.cookies[&Role::Admin].clone();
    let operator = f.cookies[&Role::Operator].clone();
    let made = call(&f, &operator, CreateApiKey::PATH, String::new()).await;
    assert_eq!(
        made.status,
        StatusCode::OK,
        "a fresh login needs no password: {}",
        made.body
    );
    let made: serde_json::Value = serde_json::from_str(&made.body).unwrap();
    let (id, secret) = (
        made["key"]["id"].as_str().unwrap(),
        made["secret_key"].as_str().unwrap(),
    );
    assert_eq!(
        send(&f.router, scrape_with_key(id, secret)).await.status,
        StatusCode::OK
    );

    // the admin sees the operator's key, with its owner, and may disable it
    let listed = call(&f, &admin, ApiKeysPage::PATH, String::new()).await;
    let rows: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .expect("listed for the admin");
    assert_eq!(row["user"], "operator-user");
    let off = call(
        &f,
        &admin,
        SetApiKeyDisabled::PATH,
        form(&[("id", id), ("disabled", "true")]),
    )
    .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(
        send(&f.router, scrape_with_key(id, secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // the viewer sees none of it and may touch none of it
    let viewer = f.cookies[&Role::Viewer].clone();
    let theirs = call(&f, &viewer, ApiKeysPage::PATH, String::new()).await;
    assert!(!theirs.body.contains(id), "{}", theirs.body);
    let refused = call(&f, &viewer, DeleteApiKey::PATH, form(&[("id", id)])).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let on = call(
        &f,
        &admin,
        SetApiKeyDisabled::PATH,
        form(&[("id", id), ("disabled", "false")]),
    )
    .await;
    assert_eq!(on.status, StatusCode::OK);

    // a reset that keeps the keys, then one with the default: the keys are gone
    let keep = form(&[
        ("name", "operator-user"),
        ("password", "a new long password 1"),
        ("revoke_keys", "false"),
    ]);
    assert_eq!(
        call(&f, &admin, SetUserPassword::PATH, keep).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&f.router, scrape_with_key(id, secret)).await.status,
        StatusCode::OK
    );
    let reset = form(&[
        ("name", "operator-user"),
        ("password", "a new long password 2"),
    ]);
    assert_eq!(
        call(&f, &admin, SetUserPassword::PATH, reset).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&f.router, scrape_with_key(id, secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(f.store.api_keys_of("operator-user").unwrap().is_empty());
    // and the operator's session ended with it
    let me = call(&f, &operator, ApiKeysPage::PATH, String::new()).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_key_needs_the_password_again_after_five_minutes_and_churn_is_limited() {
    let f = fixture().await;
    let (_, token) = f.store.login("viewer-user", PASSWORD, None).await.unwrap();
    f.store.backdate_session(&token, 6 * 60_000).unwrap();
    let old = format!("{}={token}", crate::console::access::SESSION_COOKIE);
    let missing = call(&f, &old, CreateApiKey::PATH, String::new()).await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    assert!(
        missing.body.contains("\"password\""),
        "a field error: {}",
        missing.body
    );
    let wrong = call(
        &f,
        &old,
        CreateApiKey::PATH,
        form(&[("password", "not the password")]),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Wrong password"), "{}", wrong.body);
    assert!(f.store.api_keys_of("viewer-user").unwrap().is_empty());
    let right = call(
        &f,
        &old,
        CreateApiKey::PATH,
        form(&[("password", PASSWORD)]),
    )
    .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);

    // create and delete in a loop: refused past the hourly limit (3 attempts made above)
    let fresh = f.cookies[&Role::Viewer].clone();
    let mut made = 3;
    let refusal = loop {
        let answer = call(&f, &fresh, CreateApiKey::PATH, String::new()).await;
        if answer.status != StatusCode::OK {
            break answer;
        }
        made += 1;
        let key: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        let id = key["key"]["id"].as_str().unwrap().to_string();
        assert_eq!(
            call(&f, &fresh, DeleteApiKey::PATH, form(&[("id", &id)]))
                .await
                .status,
            StatusCode::OK
        );
        assert!(
            made <= app::store::MAX_KEY_CREATIONS_PER_HOUR,
            "never refused"
        );
    };
    assert_eq!(made, app::store::MAX_KEY_CREATIONS_PER_HOUR);
    assert_eq!(
        refusal.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refusal.body
    );
}

#[tokio::test]
async fn trimmed_audit_records_go_to_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        audit_limit: 5,
        ..Default::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let before = store.audit_len() as usize;
    for i in 0..12 {
        store
            .create_user(&format!("user{i}"), PASSWORD, Role::Viewer)
            .await
            .unwrap();
    }
    assert_eq!(store.audit_len(), 5);
    let archive = std::fs::read_to_string(dir.path().join("audit-archive.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = archive
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let archived = before + 12 - 5;
    assert_eq!(lines.len(), archived);
    let users: Vec<&str> = lines[archived - 7..]
        .iter()
        .map(|l| l["object"].as_str().unwrap())
        .collect();
    assert_eq!(
        users,
        (0..7).map(|i| format!("user user{i}")).collect::<Vec<_>>(),
        "oldest first"
    );
    assert!(!archive.contains("argon2"), "no password hash");
    let metrics = crate::console::metrics::render(&store).unwrap();
    assert!(
        metrics.contains(&format!("havip_audit_records_archived_total {archived}")),
        "{metrics}"
    );
    assert!(
        metrics.contains("havip_audit_records_dropped_total 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_user_has_at_most_twenty_sessions() {
    let f = fixture().await;
    let mut tokens = vec![];
    for _ in 0..=app::store::MAX_SESSIONS_PER_USER {
        tokens.push(
            f.store
                .login("viewer-user", PASSWORD, None)
                .await
                .unwrap()
                .1,
        );
        // pacing, not a wait: sessions started in distinct milliseconds, so "oldest" is one
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert!(
        f.store.session(&tokens[0]).unwrap().is_none(),
        "the oldest ended"
    );
    assert!(tokens[1..]
        .iter()
        .all(|t| f.store.session(t).unwrap().is_some()));
    assert_eq!(
        f.store.sessions_of("viewer-user").unwrap(),
        app::store::MAX_SESSIONS_PER_USER
    );
}

#[test]
fn a_secret_key_others_may_read_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), StoreConfig::default()).unwrap());
    let key = dir.path().join("secret.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = Store::open(dir.path(), StoreConfig::default())
        .err()
        .expect("refused");
    let refused = refused.to_string();
    assert!(refused.contains("chmod 600"), "{refused}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Store::open(dir.path(), StoreConfig::default()).is_ok());
}

#[tokio::test]
async fn live_channels_end_with_their_session() {
    use crate::tests::hostile::{close_code, connect, listen};
    use futures::StreamExt;
    let f = fixture().await;
    let addr = listen(&f).await;
    let url = format!("ws://{addr}/api/live_events");
    let (_, token) = f
        .store
        .login("operator-user", PASSWORD, None)
        .await
        .unwrap();
    let cookie = format!("{}={token}", crate::console::access::SESSION_COOKIE);
    let mut ws = connect(url.clone(), &[("cookie", &cookie)]).await.unwrap();
    assert!(ws.next().await.is_some(), "greeted");
    // logging out ends the channel
    let logout = Request::post("/logout")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&f.router, logout).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        close_code(&mut ws).await,
        Some(crate::console::live_ws::SESSION_ENDED)
    );

    // so does a disable, for every session of the user; other users' channels stay
    let (_, token) = f
        .store
        .login("operator-user", PASSWORD, None)
        .await
        .unwrap();
    let cookie = format!("{}={token}", crate::console::access::SESSION_COOKIE);
    let mut ws = connect(url.clone(), &[("cookie", &cookie)]).await.unwrap();
    assert!(ws.next().await.is_some(), "greeted");
    let mut other = connect(url.clone(), &[("cookie", &f.cookies[&Role::Viewer])])
        .await
        .unwrap();
    assert!(other.next().await.is_some(), "greeted");
    f.store
        .set_user_disabled("operator-user", true)
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut ws).await,
        Some(crate::console::live_ws::SESSION_ENDED)
    );
    // the other channel hears of the change (the disable) instead of being closed
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), other.next()).await;
    assert!(
        matches!(
            next,
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(_))))
        ),
        "another user's channel: {next:?}"
    );
}

#[tokio::test]
async fn a_browser_post_over_http2_works_and_a_cross_site_one_fails() {
    let pki = crate::tests::tls::pki();
    let f = fixture().await;
    let (access, _) = crate::console::access::Access::new(f.store.clone(), true).unwrap();
    let router =
        crate::console::serve::router(f.store.clone(), "127.0.0.1:0".parse().unwrap(), access);
    let port = crate::tests::tls::serve_tls(router, &pki).await;
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/login");
    let body = form(&[("name", "viewer-user"), ("password", PASSWORD)]);
    let post = |origin: &str| {
        client
            .post(&url)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body.clone())
            .send()
    };
    // HTTP/2 has no Host header: the console reads the :authority
    let same = post(&format!("https://127.0.0.1:{port}")).await.unwrap();
    assert_eq!(same.version(), reqwest::Version::HTTP_2);
    assert_eq!(same.status(), 200);
    let cross = post("https://evil.example").await.unwrap();
    assert_eq!(cross.version(), reqwest::Version::HTTP_2);
    assert_eq!(cross.status(), 403);
}
