//! TC3-HMAC-SHA256, checked exactly as Tencent Cloud's clients compute it:
//!
//! CanonicalRequest = METHOD \n / \n QUERY \n (name:value\n for each signed header) \n
//!                    SignedHeaders \n hex(sha256(payload))
//! StringToSign     = "TC3-HMAC-SHA256" \n timestamp \n date/service/tc3_request \n
//!                    hex(sha256(CanonicalRequest))
//! key = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
//!
//! The payload is the body (empty for GET), or the text `UNSIGNED-PAYLOAD` when the client
//! says so in `X-TC-Content-SHA256`. Header values are signed as sent (the raw `Host` too).

use axum::http::HeaderMap;
use hex::encode as hex;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
pub const SERVICE: &str = "vpc";

/// The parts of an `Authorization: TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    pub fn parse(header: &str) -> Option<Authorization> {
        let rest = header.trim().strip_prefix(ALGORITHM)?.trim_start();
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            match name.trim() {
                "Credential" => credential = Some(value.trim()),
                "SignedHeaders" => signed = Some(value.trim()),
                "Signature" => signature = Some(value.trim()),
                _ => {}
            }
        }
        let mut scope = credential?.split('/');
        let (secret_id, date, service, terminator) =
            (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
        if terminator != "tc3_request" || scope.next().is_some() {
            return None;
        }
        let signed_headers: Vec<String> = signed?
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if signed_headers.iter().any(String::is_empty) {
            return None;
        }
        Some(Authorization {
            secret_id: secret_id.into(),
            date: date.into(),
            service: service.into(),
            signed_headers,
            signature: signature?.to_ascii_lowercase(),
        })
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// What was signed: the request as the server received it.
pub struct Signed<'a> {
    pub method: &'a str,
    /// the raw query string (GET form), empty for POST
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub timestamp: &'a str,
}

/// The signature the client must have sent for `request` under `auth`'s scope and headers.
pub fn expected_signature(auth: &Authorization, secret_key: &str, request: &Signed) -> String {
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let value = request
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim();
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let unsigned = request
        .headers
        .get("x-tc-content-sha256")
        .is_some_and(|v| v.as_bytes() == b"UNSIGNED-PAYLOAD");
    let payload: &[u8] = if unsigned {
        b"UNSIGNED-PAYLOAD"
    } else {
        request.body
    };
    let canonical_request = format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        request.method,
        request.query,
        canonical_headers,
        auth.signed_headers.join(";"),
        hex(Sha256::digest(payload))
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{}/{}/tc3_request\n{}",
        request.timestamp,
        auth.date,
        auth.service,
        hex(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), auth.date.as_bytes());
    let k_service = hmac(&k_date, auth.service.as_bytes());
    let k_signing = hmac(&k_service, b"tc3_request");
    hex(hmac(&k_signing, string_to_sign.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two requests recorded from the official Python SDK (tencentcloud-sdk-python 3.1.193)
    /// with SecretKey "secretkeyexampleexampleexample12": its signatures must be ours.
    #[test]
    fn signatures_match_the_official_sdk() {
        let header = "TC3-HMAC-SHA256 Credential=AKIDexampleexampleexampleexample1234/2026-11-25/vpc/tc3_request, SignedHeaders=content-type;host, Signature=b7cfd2f86ab4476a6520938a059dc3aa25188b0f8eade18bc10f9d6ed64d62c8";
        let auth = Authorization::parse(header).unwrap();
        assert_eq!(auth.secret_id, "AKIDexampleexampleexampleexample1234");
        assert_eq!(auth.signed_headers, ["content-type", "host"]);
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("host", "127.0.0.1:36981".parse().unwrap());
        let body = br#"{"HaVipIds": ["havip-0000abcd"], "Limit": 5}"#;
        let post = Signed {
            method: "POST",
            query: "",
            headers: &headers,
            body,
            timestamp: "1795636025",
        };
        let key = "secretkeyexampleexampleexample12";
        assert_eq!(expected_signature(&auth, key, &post), auth.signature);

        let get_header = "TC3-HMAC-SHA256 Credential=AKIDexampleexampleexampleexample1234/2026-11-25/vpc/tc3_request, SignedHeaders=content-type;host, Signature=67e7682c2058f4a6314577589f07e216e3779224f363e1b87f9b69bee45a0643";
        let get_auth = Authorization::parse(get_header).unwrap();
        let mut form_headers = headers.clone();
        form_headers.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let get = Signed {
            method: "GET",
            query: "HaVipIds.0=havip-0000abcd&Limit=5",
            headers: &form_headers,
            body: b"",
            timestamp: "1795636025",
        };
        assert_eq!(expected_signature(&get_auth, key, &get), get_auth.signature);
        // one byte of the body changed: another signature
        let tampered = Signed {
            body: br#"{"HaVipIds": ["havip-0000abce"], "Limit": 5}"#,
            ..post
        };
        assert_ne!(expected_signature(&auth, key, &tampered), auth.signature);
        assert_ne!(
            expected_signature(&auth, "another key", &get),
            get_auth.signature
        );
    }

    #[test]
    fn malformed_authorizations_are_refused() {
        for bad in [
            "",
            "Basic abc",
            "TC3-HMAC-SHA256 Credential=AKID/2026-11-25/vpc, SignedHeaders=host, Signature=ab",
            "TC3-HMAC-SHA256 Credential=AKID/2026-11-25/vpc/tc3_request, Signature=ab",
            "TC3-HMAC-SHA256 Credential=AKID/2026-11-25/vpc/tc3_request, SignedHeaders=;, Signature=ab",
        ] {
            assert_eq!(Authorization::parse(bad), None, "{bad}");
        }
    }
}
