//! What the guard reads from a request: where it goes, whether a browser sent it from another
//! site, the client's address and whether it came over HTTPS.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};

pub(super) fn is_public_asset(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path == "/favicon.svg"
        || crate::console::health::PATHS.contains(&path)
}

pub(super) fn wants_page(req: &Request) -> bool {
    req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

pub(super) fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The host a request was sent to: its `Host` header, or over HTTP/2 the `:authority`
/// (which hyper puts in the URI, not in the headers).
pub fn request_host(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()))
}

/// Whether a browser sent this from another site's page (a script or a form there). The
/// console's own origin is the host it was asked for, with its scheme (`https` over TLS).
pub fn cross_site(headers: &HeaderMap, host: Option<&str>, https: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site == "cross-site" || site == "same-site" {
            return true;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false; // not a browser's cross-origin request (scripts, curl)
    };
    let scheme = if https { "https" } else { "http" };
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .filter(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    origin_host.is_none() || origin_host != host
}

/// Percent-encodes `text` for a URL's query (keeping `/`, readable in `next=`).
pub fn encode(text: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(text, KEEP).to_string()
}

/// The client's address, when the listener knows it (TCP), for slowing password guessing.
#[derive(Clone, Copy)]
pub struct Client(pub Option<std::net::IpAddr>);

/// Whether the request reached the console over HTTPS (directly, or through a trusted proxy).
#[derive(Clone, Copy)]
pub struct Https(pub bool);

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
    fn cross_site_requests_are_told_apart() {
        let host = ("host", "127.0.0.1:3000");
        assert!(
            !cross_site(&headers(&[host]), Some(host.1), false),
            "no Origin: not a browser's cross-site request"
        );
        assert!(!cross_site(
            &headers(&[host, ("origin", "http://127.0.0.1:3000")]),
            Some(host.1),
            false
        ));
        assert!(!cross_site(
            &headers(&[host, ("sec-fetch-site", "same-origin")]),
            Some(host.1),
            false
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "http://evil.example")]),
            Some(host.1),
            false
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "http://127.0.0.1:3001")]),
            Some(host.1),
            false
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "null")]),
            Some(host.1),
            false
        ));
        // over TLS the console's origin is https: a plain-http page of the same host is another
        assert!(!cross_site(
            &headers(&[host, ("origin", "https://127.0.0.1:3000")]),
            Some(host.1),
            true
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "http://127.0.0.1:3000")]),
            Some(host.1),
            true
        ));
        assert!(cross_site(
            &headers(&[host, ("sec-fetch-site", "cross-site")]),
            Some(host.1),
            false
        ));
        assert!(cross_site(
            &headers(&[host, ("sec-fetch-site", "same-site")]),
            Some(host.1),
            false
        ));
    }
}
