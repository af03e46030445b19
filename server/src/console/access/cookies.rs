//! The session cookie: its names, reading a cookie from a request and making a `Set-Cookie`
//! (with the `cookie` crate, which axum-extra's cookie jar is built on).

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use cookie::{Cookie, SameSite};

/// The session cookie's name over plain HTTP.
pub const SESSION_COOKIE: &str = "havip_session";
/// Its name over HTTPS: the `__Host-` prefix makes browsers refuse it unless it is `Secure`,
/// host-only and for `/`, so a sibling domain or a plain-HTTP page cannot plant one.
pub const SECURE_SESSION_COOKIE: &str = "__Host-havip_session";

/// The session cookie's name for a request over HTTPS or not.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The value of cookie `name`, if the request has it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: for the whole site, never readable by scripts, `Secure` over HTTPS;
/// `max_age_s` 0 deletes it.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_s: u64,
    https: bool,
    same_site: SameSite,
) -> String {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age_s).unwrap_or(i64::MAX),
        ))
        .secure(https)
        .build()
        .to_string()
}

/// How long the session cookie is kept: the session's own longest life (7 days after login).
const SESSION_COOKIE_MAX_AGE_S: u64 = 7 * 24 * 3600;

/// The `Set-Cookie` value of a new session's `token`.
pub fn session_cookie(token: &str, https: bool) -> String {
    let name = session_cookie_name(https);
    set_cookie(name, token, SESSION_COOKIE_MAX_AGE_S, https, SameSite::Lax)
}

/// Adds a `Set-Cookie` to `response`.
pub fn add_cookie(response: &mut Response, cookie: String) {
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
