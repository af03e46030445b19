//! Single sign-on and local-login limits, as an outsider meets them over HTTP (the whole flow
//! against a real OpenID provider is in `end2end/tests/sso.spec.ts`).

use super::fixture::{audited, fixture, form, Fixture};
use crate::console::access::Access;
use crate::console::sso::OidcArgs;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use clap::Parser;
use http_body_util::BodyExt;
use tower::ServiceExt;

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    logins: OidcArgs,
}

/// The fixture's console with `flags` (the single sign-on and local-login ones).
fn console_with(f: &Fixture, flags: &[&str]) -> axum::Router {
    let flags = Flags::try_parse_from(std::iter::once("havip").chain(flags.iter().copied()))
        .unwrap()
        .logins;
    let sso = flags.sso(None, [9; 32]).unwrap();
    let (access, _) = Access::new(f.store.clone(), false).unwrap();
    let access = access.with_logins(sso, flags.local_login);
    crate::console::serve::router(f.store.clone(), "127.0.0.1:0".parse().unwrap(), access)
}

/// A provider nobody answers for: port 9 (discard) on loopback.
const DEAD_PROVIDER: &[&str] = &[
    "--oidc-issuer",
    "http://127.0.0.1:9",
    "--oidc-client-id",
    "havip",
    "--oidc-redirect-url",
    "http://127.0.0.1:3000/login/sso/callback",
    "--oidc-name",
    "Corp SSO",
];

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, location, String::from_utf8_lossy(&body).into())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap()
}

fn local_login(name: &str) -> Request<Body> {
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(form(&[
            ("name", name),
            ("password", super::fixture::PASSWORD),
        ])))
        .unwrap()
}

fn message(location: &str) -> String {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_login_page_is_told_what_it_offers_before_anyone_logs_in() {
    let f = fixture().await;
    for (flags, wanted) in [
        (&[][..], r#"{"sso":null,"local":"all"}"#),
        (DEAD_PROVIDER, r#"{"sso":"Corp SSO","local":"all"}"#),
    ] {
        let console = console_with(&f, flags);
        let ask = Request::post("/api/login_options")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(&console, ask).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, wanted));
    }
}

#[tokio::test]
async fn an_unreachable_provider_sends_back_to_the_login_page_with_the_reason() {
    let f = fixture().await;
    let console = console_with(&f, DEAD_PROVIDER);
    let (status, location, _) = send(&console, get("/login/sso?next=/eips")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/login?error="), "{location}");
    assert!(location.ends_with("&next=/eips"), "{location}");
    assert_eq!(
        message(&location),
        "Corp SSO cannot be reached, so single sign-on is unavailable: try again shortly, or ask an administrator."
    );
    // without single sign-on configured, the same routes say so
    let plain = console_with(&f, &[]);
    let (status, location, _) = send(&plain, get("/login/sso")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(message(&location), "Single sign-on is not configured.");
}

#[tokio::test]
async fn a_callback_this_browser_did_not_start_is_refused_and_changes_nothing() {
    let f = fixture().await;
    let console = console_with(&f, DEAD_PROVIDER);
    let forged_state = {
        // a login state signed with another key (another console's, or made up)
        let key = crate::console::sso::state::StateKey::new([1; 32]);
        key.seal(&crate::console::sso::state::LoginState {
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "v".repeat(43),
            next: "/".into(),
            until: u64::MAX,
        })
    };
    for cookie in [None, Some(forged_state.as_str()), Some("junk")] {
        let users = f.store.users().unwrap();
        let mut request =
            Request::get("/login/sso/callback?code=c&state=s").header(header::ACCEPT, "text/html");
        if let Some(value) = cookie {
            request = request.header(header::COOKIE, format!("havip_sso={value}"));
        }
        let (status, location, _) = send(&console, request.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{cookie:?}");
        assert_eq!(
            message(&location),
            "This login was not started in this browser, or took over 10 minutes: log in again."
        );
        assert_eq!(f.store.users().unwrap(), users, "nothing changed");
    }
    // counted, and not written to the audit log: strangers could fill it
    let log = audited(&f.store, "login.sso");
    assert!(log.is_empty(), "{log:?}");
    let metrics = crate::console::metrics::render(&f.store).unwrap();
    let refused = metrics
        .lines()
        .find(|l| l.starts_with("havip_sso_refused_total{reason=\"state\"}"))
        .unwrap_or_else(|| panic!("{metrics}"));
    let count: f64 = refused.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{refused}");
}

#[tokio::test]
async fn local_logins_as_configured() {
    let f = fixture().await;
    // admins only: a viewer's right password is refused as a wrong one, and the log says why
    let console = console_with(
        &f,
        &[DEAD_PROVIDER, &["--local-login", "admins-only"]].concat(),
    );
    let (status, _, body) = send(&console, local_login("viewer-user")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("Wrong user name or password."), "{body}");
    let (status, _, body) = send(&console, local_login("admin-user")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let log = audited(&f.store, "login.local_refused");
    assert_eq!(log[0].object, "user viewer-user");

    // off: nobody, with the reason
    let console = console_with(&f, &[DEAD_PROVIDER, &["--local-login", "off"]].concat());
    let (status, _, body) = send(&console, local_login("admin-user")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("Local logins are off: log in with Corp SSO."),
        "{body}"
    );

    // off without single sign-on would lock everyone out: refused at start
    let flags = Flags::try_parse_from(["havip", "--local-login", "off"]).unwrap();
    let refused = flags.logins.sso(None, [0; 32]).err().unwrap();
    assert!(
        refused.to_string().contains("leaves no way to log in"),
        "{refused}"
    );
}

#[tokio::test]
async fn the_provider_must_be_https_and_the_callback_this_consoles() {
    for (flags, refusal) in [
        (
            &[
                "--oidc-issuer",
                "http://sso.example.com",
                "--oidc-client-id",
                "h",
            ][..],
            "must be an https:// URL",
        ),
        (
            &[
                "--oidc-issuer",
                "https://sso.example.com",
                "--oidc-client-id",
                "h",
            ][..],
            "needs --oidc-redirect-url",
        ),
        (
            &["--oidc-issuer", "sso.example.com", "--oidc-client-id", "h"][..],
            "is not a URL",
        ),
        (
            &[
                "--oidc-issuer",
                "https://sso.example.com",
                "--oidc-client-id",
                "h",
                "--oidc-redirect-url",
                "https://havip.example.com/elsewhere",
            ][..],
            "must end with the path /login/sso/callback",
        ),
    ] {
        let flags =
            Flags::try_parse_from(std::iter::once("havip").chain(flags.iter().copied())).unwrap();
        let error = flags.logins.sso(None, [0; 32]).err().unwrap().to_string();
        assert!(error.contains(refusal), "{error}");
    }
    // an issuer without its client is refused by the flags themselves
    assert!(Flags::try_parse_from(["havip", "--oidc-issuer", "https://sso.example.com"]).is_err());
}
