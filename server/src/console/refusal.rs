//! The console's one error answer over HTTP: every refusal (a page, the REST API, the
//! websockets' upgrades, metrics, the login) is an `ApiError` answered as the server functions
//! answer it. (A websocket closed after its upgrade says why with a close code instead:
//! `agent::protocol::CloseReason`.)

use app::domain::error::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};

/// A refusal, answered like the server functions answer it: the status of its kind, and no
/// internal details (those are logged).
pub struct Refusal(pub ApiError);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let shown = app::api::outgoing(&self.0);
        let code =
            StatusCode::from_u16(shown.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, Json(shown)).into_response()
    }
}
