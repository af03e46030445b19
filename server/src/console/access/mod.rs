//! Who may reach what, decided once per request in front of every route.
//!
//! - Only requests for this console's own host names are served: the `Host` (or HTTP/2's
//!   `:authority`) must be an IP address, `localhost`, or the host of `--public-url`. Any other
//!   name is refused with 421, so a page on an attacker's domain that rebinds its DNS to the
//!   console cannot use a browser's cookies there. Agents (`/agent/ws`), requests with an
//!   `Authorization` header (scrapers, scripts) and `/healthz`, `/readyz` may use any name.
//! - A browser's state change (any method but GET/HEAD) and the browser's live websocket must
//!   come from the console's own pages: a cross-site `Origin` or `Sec-Fetch-Site` gets 403.
//! - Until the first administrator exists, only the set-up page (guarded by a one-time code
//!   printed to the log at start) and the site's assets are served.
//! - Then every page, server function, websocket and JSON endpoint needs a session (but the
//!   login and single sign-on routes, and what the login page offers): pages
//!   redirect to the login page (keeping the wanted URL), everything else answers 401. The
//!   caller's `Principal` goes into the request, where server functions ask for the role they
//!   need (`app::api::require`). Agents authenticate with their tokens at `/agent/ws` only.
//! - Behind a reverse proxy (`--trusted-proxy`), the client's address and scheme come from
//!   `X-Forwarded-For` / `X-Forwarded-Proto`, read only from those peers.
//! - Answers other than the site's files are never cached (`Cache-Control: no-store`); over
//!   HTTPS they carry HSTS.

use crate::console::login::device::DeviceKey;
use crate::console::login::throttle::Throttle;
use crate::console::refusal::Refusal;
use app::domain::audit::Actor;
use app::domain::auth::{SessionKey, SessionStarted};
use app::domain::error::ApiError;
use app::i18n::m;
use app::store::Store;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

mod body;
mod cookies;
mod request;

pub use body::limit_body;
pub use cookies::{
    add_cookie, cookie, session_cookie, session_cookie_name, set_cookie, SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
};
pub use request::{cross_site, encode, request_host, Client, Https};
use request::{is_public_asset, is_websocket, wants_page};

#[derive(Clone)]
pub struct Access {
    pub(crate) store: Store,
    /// the one-time code that lets the first administrator be created; None once one exists
    pub(crate) setup_code: Arc<Mutex<Option<String>>>,
    /// served over TLS: cookies are `Secure`, the origin is `https://`
    tls: bool,
    /// `--metrics-token`: a bearer token that may read `/metrics` (and nothing else)
    metrics_token: Option<Arc<str>>,
    /// the host name of `--public-url`, lower case
    public_host: Option<Arc<str>>,
    /// `--trusted-proxy`: peers whose `X-Forwarded-For` / `-Proto` are believed
    trusted_proxies: Arc<[ipnet::IpNet]>,
    pub(crate) throttle: Throttle,
    pub(crate) device_key: DeviceKey,
    /// single sign-on, when configured
    pub(crate) sso: Option<Arc<crate::console::sso::Sso>>,
    /// `--local-login`
    pub(crate) local_login: app::domain::sso::LocalLogin,
}

impl Access {
    /// Access to `store`; when it has no user yet, a fresh set-up code is made (and returned,
    /// for the log).
    pub fn new(store: Store, tls: bool) -> Result<(Access, Option<String>), ApiError> {
        let code = (store.user_count()? == 0).then(|| {
            let n = rand::random::<u64>() % 10u64.pow(12);
            format!("{:06}-{:06}", n / 1_000_000, n % 1_000_000)
        });
        let access = Access {
            device_key: DeviceKey::new(store.derived_key("device cookies")),
            throttle: Throttle::per_core(&store),
            store,
            setup_code: Arc::new(Mutex::new(code.clone())),
            tls,
            metrics_token: None,
            public_host: None,
            trusted_proxies: Arc::new([]),
            sso: None,
            local_login: Default::default(),
        };
        Ok((access, code))
    }

    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.map(Arc::from);
        self
    }

    /// `--public-url`: the name browsers reach the console by (besides its IP addresses and
    /// `localhost`).
    pub fn with_public_url(mut self, url: Option<&url::Url>) -> Self {
        self.public_host = url
            .and_then(|u| u.host_str())
            .map(|h| Arc::from(h.to_ascii_lowercase()));
        self
    }

    /// Single sign-on (if configured) and who may log in with a local password.
    pub fn with_logins(
        mut self,
        sso: Option<crate::console::sso::Sso>,
        local_login: app::domain::sso::LocalLogin,
    ) -> Self {
        self.sso = sso.map(Arc::new);
        self.local_login = local_login;
        self
    }

    /// What the login page offers.
    pub fn login_options(&self) -> app::domain::sso::LoginOptions {
        app::domain::sso::LoginOptions {
            sso: self.sso.as_ref().map(|sso| sso.name.clone()),
            local: self.local_login,
        }
    }

    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }

    /// Whether a request for `host` (a `Host` value, perhaps with a port) is for this console.
    fn serves_host(&self, host: &str) -> bool {
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || self.public_host.as_deref() == Some(name.as_str())
    }

    /// The client's address and whether it reached us over HTTPS: the peer's own, or what a
    /// trusted proxy says (the right-most `X-Forwarded-For` address that is not a trusted
    /// proxy itself; `X-Forwarded-Proto`'s last value).
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> (Option<IpAddr>, bool) {
        let trusted = |ip: &IpAddr| {
            let ip = ip.to_canonical();
            self.trusted_proxies.iter().any(|net| net.contains(&ip))
        };
        let Some(peer) = peer.filter(trusted) else {
            return (peer, self.tls);
        };
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if trusted(&client) => client = ip,
                _ => break,
            }
        }
        let https = headers
            .get_all("x-forwarded-proto")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .map_or(self.tls, |p| p.trim().eq_ignore_ascii_case("https"));
        (Some(client), https)
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
                .is_some_and(|t| app::support::same_secret(t, token.trim()));
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
        matches!(self.store.api_key_secret(id), Ok(Some((_, key))) if app::support::same_secret(&key, secret))
    }

    /// No user yet. Asked on every request, so it reads the set-up code in memory: the code
    /// exists until the first administrator does (the last administrator can never be
    /// removed). While it exists, the users are counted too: on etcd, another replica (or
    /// `havip user add`) may have made the first administrator.
    fn needs_setup(&self) -> bool {
        let mut code = app::support::lock(&self.setup_code);
        if code.is_some() && self.store.user_count().is_ok_and(|n| n > 0) {
            *code = None;
        }
        code.is_some()
    }
}

/// The server function the login page asks what it offers (`app::api::login`).
const LOGIN_OPTIONS: &str = "/api/login_options";

/// The access layer (see the module's comment).
pub async fn guard(State(access): State<Access>, req: Request, next: Next) -> Response {
    let (client, https) = {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        access.client(peer, req.headers())
    };
    let asset = is_public_asset(req.uri().path());
    let mut response = decide(access, client, https, req, next).await;
    let headers = response.headers_mut();
    if !asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

async fn decide(
    access: Access,
    client: Option<IpAddr>,
    https: bool,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(Client(client));
    req.extensions_mut().insert(Https(https));
    let host = request_host(&req);
    // what rebinding could abuse is a browser's ambient credentials (its cookies): agents
    // (tokens), scrapers and scripts (an Authorization header) and health checks may use any
    // name the operator gave them
    let machine = path == "/agent/ws"
        || crate::console::health::PATHS.contains(&path.as_str())
        || req.headers().contains_key(header::AUTHORIZATION);
    if !machine && host.as_deref().is_some_and(|h| !access.serves_host(h)) {
        return Refusal(ApiError::misdirected(m::errors_console::MISDIRECTED)).into_response();
    }
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let agent = path == "/agent/ws";
    if (changes || is_websocket(req.headers()))
        && !agent
        && cross_site(req.headers(), host.as_deref(), https)
    {
        return Refusal(ApiError::forbidden(m::errors_console::CROSS_SITE)).into_response();
    }
    if agent || is_public_asset(&path) {
        return next.run(req).await;
    }
    if path == crate::console::metrics::PATH && access.may_scrape(req.headers()) {
        return next.run(req).await;
    }
    if access.needs_setup() {
        return match path.as_str() {
            "/setup" => next.run(req).await,
            _ if wants_page(&req) => Redirect::to("/setup").into_response(),
            _ => Refusal(ApiError::unauthorized(m::errors_console::NOT_SET_UP)).into_response(),
        };
    }
    // another replica may have answered this browser's last request a moment ago (its
    // login, its create): read at least what was committed before this one arrived. Without
    // etcd, this replica answers from what it holds.
    if let Err(e) = access.store.catch_up() {
        tracing::debug!("answering from this replica's copy: {e}");
    }
    let key = cookie(req.headers(), session_cookie_name(https))
        .map(|token| app::support::sha256_hex(&token));
    let session = (key.as_ref()).and_then(|key| {
        (access
            .store
            .session_by_key(key, app::support::now_ms())
            .ok())
        .flatten()
    });
    if let (Some(key), Some((_, started))) = (key, &session) {
        req.extensions_mut().insert(SessionKey(key));
        req.extensions_mut().insert(SessionStarted(*started));
    }
    match (path.as_str(), session.map(|(principal, _)| principal)) {
        ("/login" | "/setup", Some(_)) if wants_page(&req) => Redirect::to("/").into_response(),
        // logging out needs no valid session: an expired one is cleared all the same; single
        // sign-on and what the login page offers are for people not logged in
        ("/login" | "/setup" | "/logout" | LOGIN_OPTIONS, _)
        | (crate::console::sso::START_PATH | crate::console::sso::CALLBACK_PATH, _) => {
            next.run(req).await
        }
        // the language menu is on every page, the login page too: anyone may choose, and a
        // logged-in user's choice is also kept in their account
        (app::api::language::CHOOSE_LANGUAGE_PATH, None) => next.run(req).await,
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
        (_, None) => Refusal(ApiError::unauthorized(m::errors::LOG_IN_FIRST)).into_response(),
    }
}
