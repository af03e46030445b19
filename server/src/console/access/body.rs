//! Bodies the console will not read: over the size limit by their declared length, or forms and
//! queries whose escapes are not UTF-8.

use crate::console::refusal::Refusal;
use app::domain::error::ApiError;
use app::i18n::{m, Text};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

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
        let message = m::errors_api::REQUEST_TOO_LARGE;
        return Refusal(ApiError::too_large(message)).into_response();
    }
    let not_utf8 =
        || Refusal(ApiError::malformed(m::errors_console::FORM_NOT_UTF8)).into_response();
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
        let text = Text::new(m::errors_console::UNSUPPORTED_TYPE)
            .arg("content_type", format!("{content_type:?}"));
        return Refusal(ApiError::unsupported_type(text)).into_response();
    }
    if !form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, app::api::MAX_BODY_BYTES).await else {
        let message = m::errors_api::REQUEST_TOO_LARGE;
        return Refusal(ApiError::too_large(message)).into_response();
    };
    if !form_is_utf8(&bytes) {
        return not_utf8();
    }
    // JSON dressed as a form (what another site's form can send): our forms' names are plain
    // words, so a form body never starts with a brace
    if bytes.trim_ascii_start().starts_with(b"{") {
        return Refusal(ApiError::unsupported_type(m::errors_console::JSON_AS_FORM))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(form_is_utf8(b"name=caf%C3%A9+bar&id=havip-1"));
        assert!(form_is_utf8(b"name=100%&x=%zz"));
        assert!(!form_is_utf8(b"name=%FF%FE"));
        assert!(!form_is_utf8(b"%C3=x"));
    }
}
