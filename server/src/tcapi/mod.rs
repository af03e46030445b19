//! The Tencent Cloud API 3.0 compatible endpoint (`havip serve --api-listen ADDR`): `POST /`
//! with `X-TC-Action` (or the GET form), signed with TC3-HMAC-SHA256 by an API key. A thin
//! adapter: it checks the signature, decodes the action's parameters, calls the same store
//! functions the console's server functions call, and answers in Tencent's shapes. No rule
//! lives here; refusals map to Tencent's codes in one table (`errors`).
//!
//! Every answer is HTTP 200 with `Content-Type: application/json` exactly (the official SDK
//! silently drops errors sent with a charset) and a `RequestId`. With `X-TC-Language: zh-CN`,
//! an error's message is in Chinese (`language`); its code is the same.

pub(crate) mod actions;
mod errors;
mod language;
mod params;
pub(crate) mod replay;
mod shapes;
pub(crate) mod sign;

use app::domain::audit::Actor;
use app::domain::auth::Role;
use app::store::Store;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Router;
use errors::TcError;
use governor::{DefaultKeyedRateLimiter, Quota};
use language::Language;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Requests per second per key and action by default (Tencent's documented limit).
pub const DEFAULT_RATE: u32 = 20;
/// The largest request body read.
const MAX_BODY: usize = 1 << 20;
/// A signature this far from the console's clock is refused.
const MAX_SKEW_S: i64 = 300;

#[derive(Clone)]
pub struct TcApi {
    store: Store,
    limiter: Arc<DefaultKeyedRateLimiter<(String, String)>>,
    /// signatures already accepted: each is accepted once
    seen: Arc<replay::SeenSignatures>,
}

impl TcApi {
    pub fn new(store: Store, rate_per_s: u32) -> TcApi {
        let rate = NonZeroU32::new(rate_per_s.max(1)).expect("at least 1");
        TcApi {
            store,
            limiter: Arc::new(governor::RateLimiter::keyed(Quota::per_second(rate))),
            seen: Arc::new(Default::default()),
        }
    }
}

/// The warning to log when the API is served on `addr` without TLS anywhere but loopback:
/// signed requests (and what they carry) can then be read on the network. A captured one is
/// refused if sent again, but its content is exposed.
pub fn exposure_warning(addr: SocketAddr, tls: bool) -> Option<String> {
    (!tls && !addr.ip().is_loopback()).then(|| {
        format!(
            "--api-listen {addr} serves plain HTTP beyond this host: signed requests can be read on the network; give --tls-cert/--tls-key or listen on loopback"
        )
    })
}

pub fn router(api: TcApi) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(api)
        // one log line per request, as on the console's port (the user: the signing key's)
        .layer(axum::middleware::from_fn(
            crate::console::request_log::log_request,
        ))
}

fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The answer every request gets: HTTP 200, exactly `application/json`.
fn answer(request_id: &str, result: Result<Map<String, Value>, TcError>) -> Response {
    let mut response = match result {
        Ok(mut fields) => {
            fields.insert("RequestId".into(), json!(request_id));
            fields
        }
        Err(e) => {
            let mut fields = Map::new();
            fields.insert(
                "Error".into(),
                json!({"Code": e.code, "Message": e.message}),
            );
            fields.insert("RequestId".into(), json!(request_id));
            fields
        }
    };
    let body = json!({ "Response": Value::Object(std::mem::take(&mut response)) }).to_string();
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
}

/// The user a signed request acts for, with the key's id.
struct Caller {
    user: String,
    role: Role,
    key_id: String,
}

/// Checks the TC3 signature, and that it was not used before; the caller it proves.
fn authenticate(
    store: &Store,
    seen: &replay::SeenSignatures,
    method: &Method,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Caller, TcError> {
    let failure = |m: &str| TcError::new("AuthFailure.SignatureFailure", m);
    let auth =
        sign::Authorization::parse(header_text(headers, "authorization")).ok_or_else(|| {
            failure("The request is not signed with TC3-HMAC-SHA256 (Authorization header).")
        })?;
    let timestamp = header_text(headers, "x-tc-timestamp");
    let Ok(at) = timestamp.parse::<i64>() else {
        return Err(TcError::new(
            "MissingParameter",
            "X-TC-Timestamp (Unix seconds) is missing or not a number.",
        ));
    };
    let now = app::support::now_ms() as i64 / 1000;
    if (now - at).abs() > MAX_SKEW_S {
        return Err(TcError::new(
            "AuthFailure.SignatureExpire",
            format!("The signature's timestamp {at} is more than 5 minutes from the server's clock ({now})."),
        ));
    }
    let date = app::domain::model::format_time(at as u64 * 1000);
    if auth.date != date[..10] || auth.service != sign::SERVICE {
        return Err(failure(
            "The credential scope does not match the timestamp's date and the service vpc.",
        ));
    }
    if !auth.signed_headers.iter().any(|h| h == "host")
        || !auth.signed_headers.iter().any(|h| h == "content-type")
    {
        return Err(failure("SignedHeaders must include content-type and host."));
    }
    let Some((key, secret)) = store
        .api_key_secret(&auth.secret_id)
        .map_err(TcError::from)?
    else {
        return Err(TcError::new(
            "AuthFailure.SecretIdNotFound",
            "The SecretId does not exist or is disabled.",
        ));
    };
    let signed = sign::Signed {
        method: method.as_str(),
        query,
        headers,
        body,
        timestamp,
    };
    let expected = sign::expected_signature(&auth, &secret, &signed);
    if !app::support::same_secret(&expected, &auth.signature) {
        return Err(failure(
            "The signature does not match: check the SecretKey and what was signed.",
        ));
    }
    // recorded only once verified: a forged signature must not spoil another's real one;
    // first in this replica's memory (bounded, and no write for a replay here), then in the
    // store, which every replica shares and which outlives a restart
    let first_use = seen
        .first_use(&auth.signature, at, MAX_SKEW_S, now)
        .and_then(|()| {
            let digest = replay::digest(&auth.signature);
            match store.first_use_of_signature(&digest, at + MAX_SKEW_S, now) {
                Ok(true) => Ok(()),
                Ok(false) => Err(replay::Refusal::AlreadyUsed),
                Err(e) => Err(replay::Refusal::Unrecorded(e)),
            }
        });
    match first_use {
        Ok(()) => {}
        Err(replay::Refusal::Unrecorded(e)) => return Err(TcError::from(e)),
        Err(replay::Refusal::AlreadyUsed) => {
            return Err(failure(
                "The request's signature was already used: sign each request anew (replayed requests are refused).",
            ))
        }
        Err(replay::Refusal::Full) => {
            return Err(TcError::new(
                "RequestLimitExceeded",
                "Too many signed requests in the last minutes to tell them from replays; retry shortly.",
            ))
        }
    }
    store.api_key_used(&key.id).map_err(TcError::from)?;
    let user = store
        .user(&key.user)
        .map_err(TcError::from)?
        .ok_or_else(|| {
            TcError::new(
                "AuthFailure.SecretIdNotFound",
                "The key's user no longer exists.",
            )
        })?;
    Ok(Caller {
        user: user.name,
        role: user.role,
        key_id: key.id,
    })
}

async fn handle(State(api): State<TcApi>, request: Request) -> Response {
    let id = request_id();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (parts, body) = request.into_parts();
    let language = Language::of(header_text(&parts.headers, "x-tc-language"));
    let mut caller = None;
    let mut result = serve(&api, &id, client, parts, body, &mut caller).await;
    if let Err(e) = &mut result {
        tracing::info!(request = %id, code = e.code, "API call refused: {}", e.message);
        if language == Language::Chinese {
            e.message = language::chinese(e.code).to_string();
        }
    }
    let mut response = answer(&id, result);
    if let Some(principal) = caller {
        response.extensions_mut().insert(principal);
    }
    response
}

async fn serve(
    api: &TcApi,
    id: &str,
    client: Option<std::net::IpAddr>,
    parts: axum::http::request::Parts,
    body: axum::body::Body,
    // who the signature proved, for the request log
    proved: &mut Option<app::domain::auth::Principal>,
) -> Result<Map<String, Value>, TcError> {
    if parts.uri.path() != "/" {
        return Err(TcError::new("InvalidAction", "The API answers at / only."));
    }
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        TcError::new(
            "InvalidParameter",
            format!("The request body is larger than {MAX_BODY} bytes."),
        )
    })?;
    let query = parts.uri.query().unwrap_or("");
    let (method, headers) = (&parts.method, &parts.headers);
    let params = match *method {
        Method::POST => params::from_body(&body)?,
        Method::GET => params::from_query(query)?,
        _ => {
            return Err(TcError::new(
                "UnsupportedProtocol",
                "Use POST / (JSON) or GET / (form).",
            ))
        }
    };
    let action = match header_text(headers, "x-tc-action") {
        "" => form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default(),
        a => a.to_string(),
    };
    let Some(known) = actions::Action::named(&action) else {
        return Err(TcError::new(
            "InvalidAction",
            format!("The action {action:?} does not exist (or is not supported by this console)."),
        ));
    };
    // refused signatures are logged, not audited: anyone could flood the audit log with them
    let caller = authenticate(&api.store, &api.seen, method, query, headers, &body)?;
    *proved = Some(app::domain::auth::Principal {
        user: caller.user.clone(),
        role: caller.role,
    });
    if api
        .limiter
        .check_key(&(caller.key_id.clone(), action.clone()))
        .is_err()
    {
        return Err(TcError::new(
            "RequestLimitExceeded",
            format!("More than the allowed requests per second for {action} with this key; retry shortly."),
        ));
    }
    let needed = known.role();
    if caller.role < needed {
        return Err(TcError::new(
            "UnauthorizedOperation",
            format!(
                "The key's user {} has the role {}; {action} needs {needed}.",
                caller.user, caller.role
            ),
        ));
    }
    let store = api.store.acting(Actor::user(
        format!("{} (key {})", caller.user, caller.key_id),
        client,
    ));
    let region = actions::region(&store, header_text(headers, "x-tc-region"))?;
    let ctx = actions::Ctx {
        store,
        region,
        key_id: caller.key_id,
        request_id: id.to_string(),
    };
    known.run(&ctx, params).await
}

#[cfg(test)]
mod tests {
    use super::exposure_warning;
    use std::net::SocketAddr;

    #[test]
    fn plain_http_beyond_loopback_is_warned_about() {
        let at = |a: &str| -> SocketAddr { a.parse().unwrap() };
        assert_eq!(exposure_warning(at("127.0.0.1:3001"), false), None);
        assert_eq!(exposure_warning(at("[::1]:3001"), false), None);
        assert_eq!(exposure_warning(at("0.0.0.0:3001"), true), None);
        let warning = exposure_warning(at("0.0.0.0:3001"), false).unwrap();
        assert!(warning.contains("plain HTTP"), "{warning}");
        assert!(exposure_warning(at("10.0.0.5:3001"), false).is_some());
        assert!(exposure_warning(at("[::]:3001"), false).is_some());
    }
}
