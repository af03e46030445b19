//! One log line per request: its id (also sent back as `x-request-id`), method, path (never the
//! query), status, user and duration. Nothing of the body or the headers is logged, so no
//! password, token or key can reach the log this way.

use app::domain::auth::Principal;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn log_request(req: Request, next: Next) -> Response {
    let id = format!("{:016x}", rand::random::<u64>());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let mut response = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    crate::console::metrics::HTTP_DURATION.observe(seconds);
    let duration_ms = seconds * 1000.0;
    let user = (response.extensions().get::<Principal>()).map_or("-", |p| p.user.as_str());
    tracing::info!(
        target: "havip::request",
        request_id = %id,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        user = %user,
        duration_ms = format!("{duration_ms:.2}"),
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
