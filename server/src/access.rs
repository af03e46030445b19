//! Who may reach what, decided once per request in front of every route.
//!
//! - A browser's state change (any method but GET/HEAD) and the browser's live websocket must
//!   come from the console's own pages: a cross-site `Origin` or `Sec-Fetch-Site` gets 403.
//! - Until the first administrator exists, only the set-up page (guarded by a one-time code
//!   printed to the log at start) and the site's assets are served.
//! - Then every page, server function, websocket and JSON endpoint needs a session: pages
//!   redirect to the login page (keeping the wanted URL), everything else answers 401. The
//!   caller's `Principal` goes into the request, where server functions ask for the role they
//!   need (`app::api::require`). Agents authenticate with their tokens at `/agent/ws` only.

use crate::rest::Refusal;
use app::domain::audit::Actor;
use app::domain::auth::{Principal, Role, SessionKey};
use app::domain::error::ApiError;
use app::store::Store;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const SESSION_COOKIE: &str = "havip_session";

fn code(m: &Mutex<Option<String>>) -> std::sync::MutexGuard<'_, Option<String>> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Clone)]
pub struct Access {
    store: Store,
    /// the one-time code that lets the first administrator be created; None once one exists
    setup_code: Arc<Mutex<Option<String>>>,
    /// the cookie is marked `Secure` when the console is served over TLS
    secure: bool,
    /// `--metrics-token`: a bearer token that may read `/metrics` (and nothing else)
    metrics_token: Option<Arc<str>>,
}

impl Access {
    /// Access to `store`; when it has no user yet, a fresh set-up code is made (and returned,
    /// for the log).
    pub fn new(store: Store, secure: bool) -> Result<(Access, Option<String>), ApiError> {
        let code = (store.user_count()? == 0).then(|| {
            let n = rand::random::<u64>() % 10u64.pow(12);
            format!("{:06}-{:06}", n / 1_000_000, n % 1_000_000)
        });
        let access = Access {
            store,
            setup_code: Arc::new(Mutex::new(code.clone())),
            secure,
            metrics_token: None,
        };
        Ok((access, code))
    }

    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.map(Arc::from);
        self
    }

    /// Whether a request to `/metrics` carries the scrape token, or an API key as basic auth
    /// (user SecretId, password SecretKey; the key acts with its user's role, any role may
    /// read metrics). A session is checked as for every other path.
    fn may_scrape(&self, headers: &HeaderMap) -> bool {
        use base64::Engine;
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        if let Some(token) = given.strip_prefix("Bearer ") {
            return (self.metrics_token.as_deref())
                .is_some_and(|t| app::store::same_secret(t, token.trim()));
        }
        let Some(pair) = given
            .strip_prefix("Basic ")
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return false;
        };
        let Some((id, secret)) = pair.split_once(':') else {
            return false;
        };
        matches!(self.store.api_key_secret(id), Ok(Some((_, key))) if app::store::same_secret(&key, secret))
    }

    /// No user yet. Asked on every request, so it reads the set-up code in memory, not the
    /// database: the code exists exactly until the first administrator does (users can only
    /// be added with the console stopped, and the last administrator can never be removed).
    fn needs_setup(&self) -> bool {
        code(&self.setup_code).is_some()
    }
}

/// The routes that change who is logged in: `POST /login`, `/logout`, `/setup`.
pub fn routes(access: Access) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/setup", post(setup))
        .with_state(access)
}

fn is_public_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || crate::health::PATHS.contains(&path)
}

fn wants_page(req: &Request) -> bool {
    req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether a browser sent this from another site's page (a script or a form there). The
/// console's own origin is the `Host` it was asked for, with its scheme (`https` over TLS).
pub fn cross_site(headers: &HeaderMap, tls: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site == "cross-site" || site == "same-site" {
            return true;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false; // not a browser's cross-origin request (scripts, curl)
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let scheme = if tls { "https" } else { "http" };
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .filter(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    origin_host.is_none() || origin_host != host
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Where to go after logging in: a path of this console, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The client's address, when the listener knows it (TCP), for slowing password guessing.
#[derive(Clone, Copy)]
pub struct Client(pub Option<std::net::IpAddr>);

/// Refuses a body over `MAX_BODY_BYTES` by its declared length, before reading any of it (the
/// body limit layer catches one sent without a length as it is read), and a form or query whose
/// escapes are not UTF-8 (the form decoders would turn them into U+FFFD and carry on).
pub async fn limit_body(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app::api::MAX_BODY_BYTES as u64) {
        let message = format!("Request body too large: {}", app::api::TOO_LARGE);
        return Refusal(ApiError::too_large(message)).into_response();
    }
    let not_utf8 = || {
        Refusal(ApiError::malformed(
            "Malformed request: the form is not valid UTF-8.",
        ))
        .into_response()
    };
    if !req.uri().query().is_none_or(|q| form_is_utf8(q.as_bytes())) {
        return not_utf8();
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let has_body = declared != Some(0)
        && (declared.is_some() || req.headers().contains_key(header::TRANSFER_ENCODING));
    // text/plain in particular: the one body type another site's form may send unasked
    if has_body && !form && !content_type.starts_with("application/json") {
        return Refusal(ApiError::unsupported_type(format!(
            "Content-Type {:?} is not accepted: send application/json or a form (application/x-www-form-urlencoded).",
            content_type
        )))
        .into_response();
    }
    if !form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, app::api::MAX_BODY_BYTES).await else {
        let message = format!("Request body too large: {}", app::api::TOO_LARGE);
        return Refusal(ApiError::too_large(message)).into_response();
    };
    if !form_is_utf8(&bytes) {
        return not_utf8();
    }
    // JSON dressed as a form (what another site's form can send): our forms' names are plain
    // words, so a form body never starts with a brace
    if bytes.trim_ascii_start().starts_with(b"{") {
        return Refusal(ApiError::unsupported_type(
            "A JSON body was sent as a form: send it as application/json.",
        ))
        .into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Whether every name and value of an urlencoded form is UTF-8 once its %-escapes are decoded.
fn form_is_utf8(form: &[u8]) -> bool {
    form.split(|b| *b == b'&' || *b == b'=').all(|part| {
        let mut decoded = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            let hex = part
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match (part[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'%', Some(byte)) => {
                    decoded.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    decoded.push(byte);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&decoded).is_ok()
    })
}

/// Headers every answer carries (pages add their Content-Security-Policy as they render).
pub async fn hardening(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
    response
}

/// The access layer (see the module's comment).
pub async fn guard(State(access): State<Access>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    req.extensions_mut().insert(Client(client));
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let agent = path == "/agent/ws";
    if (changes || is_websocket(req.headers()))
        && !agent
        && cross_site(req.headers(), access.secure)
    {
        return Refusal(ApiError::forbidden(
            "Cross-site request refused: use the console's own pages.",
        ))
        .into_response();
    }
    if agent || is_public_asset(&path) {
        return next.run(req).await;
    }
    if path == crate::metrics::PATH && access.may_scrape(req.headers()) {
        return next.run(req).await;
    }
    if access.needs_setup() {
        return match path.as_str() {
            "/setup" => next.run(req).await,
            _ if wants_page(&req) => Redirect::to("/setup").into_response(),
            _ => Refusal(ApiError::unauthorized(
                "The console is not set up yet: open it in a browser and create the first administrator.",
            ))
            .into_response(),
        };
    }
    let token = session_token(req.headers());
    let principal = (token.as_ref()).and_then(|token| access.store.session(token).ok().flatten());
    if let (Some(token), Some(_)) = (&token, &principal) {
        let key = SessionKey(app::store::sha256_hex(token));
        req.extensions_mut().insert(key);
    }
    match (path.as_str(), principal) {
        ("/login" | "/setup", Some(_)) if wants_page(&req) => Redirect::to("/").into_response(),
        // logging out needs no valid session: an expired one is cleared all the same
        ("/login" | "/setup" | "/logout", _) => next.run(req).await,
        (_, Some(principal)) => {
            req.extensions_mut()
                .insert(Actor::user(&principal.user, client));
            req.extensions_mut().insert(principal.clone());
            let mut response = next.run(req).await;
            // for the request log
            response.extensions_mut().insert(principal);
            response
        }
        (_, None) if wants_page(&req) => {
            let wanted = req
                .uri()
                .path_and_query()
                .map_or("/".to_string(), |p| p.to_string());
            Redirect::to(&format!("/login?next={}", encode(&wanted))).into_response()
        }
        (_, None) => Refusal(ApiError::unauthorized("Log in first.")).into_response(),
    }
}

fn session_cookie(access: &Access, token: &str, max_age_s: u64) -> String {
    let secure = if access.secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}")
}

/// A browser's form gets a redirect (back to the form with the message on failure); a script
/// gets JSON and the status.
fn answer(
    browser: bool,
    result: Result<(Principal, String), ApiError>,
    access: &Access,
    back_to: &str,
    next: String,
) -> Response {
    match result {
        Ok((principal, token)) => {
            let cookie = session_cookie(access, &token, 7 * 24 * 3600);
            let mut response = if browser {
                Redirect::to(&next).into_response()
            } else {
                axum::Json(principal).into_response()
            };
            if let Ok(value) = cookie.parse() {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) if browser => Redirect::to(&format!(
            "{back_to}?error={}&next={}",
            encode(&e.message),
            encode(&next)
        ))
        .into_response(),
        Err(e) => Refusal(e).into_response(),
    }
}

fn from_browser(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(access): State<Access>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let result = access
        .store
        .login(&form.name, &form.password, client.0)
        .await;
    match &result {
        Ok((p, _)) => tracing::info!(user = %p.user, "login"),
        Err(e) => tracing::info!(user = %form.name.trim(), "login refused: {}", e.message),
    }
    let next = safe_next(form.next.as_deref());
    answer(from_browser(&headers), result, &access, "/login", next)
}

async fn logout(
    State(access): State<Access>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = session_token(&headers) {
        // recorded for the session's user, from this address
        let store = access.store.acting(Actor::user("", client.0));
        if let Err(e) = store.end_session(&token).await {
            return Refusal(e).into_response();
        }
    }
    let mut response = if from_browser(&headers) {
        Redirect::to("/login").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    if let Ok(value) = session_cookie(&access, "", 0).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct SetupForm {
    code: String,
    name: String,
    password: String,
}

/// Creates the first administrator, given the set-up code from the console's log.
async fn setup(
    State(access): State<Access>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    let result = async {
        // the right code is taken (used up) at once, so two requests cannot both use it; it is
        // put back if the administrator cannot be created (a refused name or password)
        let taken = {
            let mut slot = code(&access.setup_code);
            let right = slot
                .as_deref()
                .is_some_and(|c| app::store::same_secret(c, form.code.trim()));
            if slot.is_none() {
                return Err(ApiError::conflict("The console is set up already: log in."));
            }
            if !right {
                return Err(ApiError::unauthorized(
                    "Wrong set-up code: it is in the console's log, printed at start.",
                ));
            }
            slot.take()
        };
        if let Err(e) = access
            .store
            .acting(Actor::user(form.name.trim(), client.0))
            .create_user(&form.name, &form.password, Role::Admin)
            .await
        {
            *code(&access.setup_code) = taken;
            return Err(e);
        }
        tracing::info!(user = %form.name.trim(), "first administrator created");
        access
            .store
            .login(&form.name, &form.password, client.0)
            .await
    }
    .await;
    answer(
        from_browser(&headers),
        result,
        &access,
        "/setup",
        "/".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(form_is_utf8(b"name=caf%C3%A9+bar&id=havip-1"));
        assert!(form_is_utf8(b"name=100%&x=%zz"));
        assert!(!form_is_utf8(b"name=%FF%FE"));
        assert!(!form_is_utf8(b"%C3=x"));
    }

    #[test]
    fn cross_site_requests_are_told_apart() {
        let host = ("host", "127.0.0.1:3000");
        assert!(
            !cross_site(&headers(&[host]), false),
            "no Origin: not a browser's cross-site request"
        );
        assert!(!cross_site(
            &headers(&[host, ("origin", "http://127.0.0.1:3000")]),
            false
        ));
        assert!(!cross_site(
            &headers(&[host, ("sec-fetch-site", "same-origin")]),
            false
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "http://evil.example")]),
            false
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "http://127.0.0.1:3001")]),
            false
        ));
        assert!(cross_site(&headers(&[host, ("origin", "null")]), false));
        // over TLS the console's origin is https: a plain-http page of the same host is another
        assert!(!cross_site(
            &headers(&[host, ("origin", "https://127.0.0.1:3000")]),
            true
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "http://127.0.0.1:3000")]),
            true
        ));
        assert!(cross_site(
            &headers(&[host, ("sec-fetch-site", "cross-site")]),
            false
        ));
        assert!(cross_site(
            &headers(&[host, ("sec-fetch-site", "same-site")]),
            false
        ));
    }

    #[test]
    fn after_login_only_paths_of_this_console() {
        assert_eq!(
            safe_next(Some("/havip/havip-00000000?page=2")),
            "/havip/havip-00000000?page=2"
        );
        for bad in [
            None,
            Some("https://evil.example/"),
            Some("//evil.example"),
            Some("/\\evil"),
        ] {
            assert_eq!(safe_next(bad), "/");
        }
    }
}
