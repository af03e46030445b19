//! `GET /healthz`: the process answers. `GET /readyz`: it can take changes (the database reads
//! and there is room to write), else 503 with the reason. Both need no login: they say nothing
//! about the data, and load balancers and orchestrators ask without credentials.

use app::store::Store;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub const PATHS: [&str; 2] = ["/healthz", "/readyz"];

pub fn routes(store: Store) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(ready))
        .with_state(store)
}

async fn ready(State(store): State<Store>) -> Response {
    match store.ready() {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "reason": e.message })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get_json(app: &Router, path: &str) -> (u16, serde_json::Value) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn anyone_may_ask_and_a_console_that_cannot_write_is_not_ready() {
        // through the whole console, without a session
        let f = crate::tests::fixture::fixture().await;
        assert_eq!(get_json(&f.router, "/healthz").await.0, 200);
        let (status, body) = get_json(&f.router, "/readyz").await;
        assert_eq!((status, &body["status"]), (200, &json!("ready")));

        // no room to write: alive, not ready, and it says why
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path(), Default::default()).unwrap()); // made and seeded
        let config = app::store::StoreConfig {
            min_free_bytes: u64::MAX,
            ..Default::default()
        };
        let full = routes(Store::open(dir.path(), config).unwrap());
        assert_eq!(get_json(&full, "/healthz").await.0, 200);
        let (status, body) = get_json(&full, "/readyz").await;
        assert_eq!(status, 503);
        assert!(
            body["reason"].as_str().unwrap().starts_with("Storage full"),
            "{body}"
        );
    }
}
