//! A small read-only JSON API for monitoring and scripts: HAVIPs with their binding state, and
//! each HAVIP's history. Everything that changes state goes through the console's server
//! functions.

use crate::console::refusal::Refusal;
use app::domain::audit::AuditQuery;
use app::domain::auth::Principal;
use app::domain::binding::{Claim, Status};
use app::domain::error::ApiError;
use app::domain::ids::{EniId, HavipId, SubnetId};
use app::domain::model::HistoryEvent;
use app::i18n::{m, Text};
use app::store::Store;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Serialize;
use std::net::Ipv4Addr;

#[derive(Serialize)]
struct HavipState {
    id: HavipId,
    name: String,
    ip: Ipv4Addr,
    subnet_id: SubnetId,
    status_label: &'static str,
    status: Status,
    holder: Option<Claim>,
    /// `name (mac)` of the holder(s) when registered as instances, else the MAC(s)
    holder_label: String,
    claims: Vec<Claim>,
    /// claims by hosts outside the allowed holders
    unauthorized: Vec<Claim>,
    /// ENI ids allowed to hold it; empty: any
    allowed: Vec<EniId>,
    /// a connected agent reports for its subnet (else the status is the last one reported)
    watched: bool,
}

fn error(e: ApiError) -> Response {
    Refusal(e).into_response()
}

async fn list(State(store): State<Store>) -> Response {
    let rows = store.havips().and_then(|havips| {
        let rows = store.rows(&havips)?;
        Ok(havips
            .into_iter()
            .zip(rows)
            .map(|(h, row)| HavipState {
                status_label: h.binding.status().label(),
                status: h.binding.status(),
                holder: h.binding.holder,
                holder_label: row.bound_instance,
                claims: h.binding.claims,
                unauthorized: h.binding.unauthorized,
                allowed: h.allowed,
                watched: row.watched,
                id: h.id,
                name: h.name,
                ip: h.ip,
                subnet_id: h.subnet_id,
            })
            .collect::<Vec<_>>())
    });
    match rows {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => error(e),
    }
}

async fn history(State(store): State<Store>, Path(id): Path<String>) -> Response {
    let result = HavipId::parse(&id)
        .map_err(ApiError::malformed)
        .and_then(|id| store.havip(&id).and_then(|_| store.history(&id, 0, 1000)));
    match result {
        Ok(events) => Json::<Vec<HistoryEvent>>(events).into_response(),
        Err(e) => error(e),
    }
}

/// The audit log (administrators): `?user=&object=&action=` filters, `before=` the previous
/// page's `next`, `limit=` up to 200.
async fn audit(
    State(store): State<Store>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(e) => {
            let text = Text::new(m::errors_console::MALFORMED_QUERY).arg("detail", e);
            return error(ApiError::malformed(text));
        }
    };
    match store.audit(&query) {
        Ok(page) => Json(page).into_response(),
        Err(e) => error(e),
    }
}

pub fn routes(store: Store) -> Router {
    Router::new()
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/havips", get(list))
        .route("/api/v1/havips/{id}/history", get(history))
        .route_layer(axum::middleware::from_fn(role_of_the_route))
        .with_state(store)
}

/// Each route needs the role `app::api::roles` gives its pattern (the access guard has let only
/// a logged-in caller through).
async fn role_of_the_route(
    route: MatchedPath,
    caller: Option<Extension<Principal>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let needed = app::api::roles::role_for(route.as_str());
    match caller {
        None => error(ApiError::unauthorized(m::errors::LOG_IN_FIRST)),
        Some(Extension(caller)) if caller.role < needed => error(ApiError::forbidden(
            Text::new(m::errors::ROLE_TOO_LOW)
                .word("role", caller.role.word())
                .word("needed", needed.word()),
        )),
        Some(_) => next.run(request).await,
    }
}
