//! Server functions, one module per resource. The browser calls them over HTTP; on the server
//! they run against the `Store` provided as context.
//!
//! Every refusal leaves through one place, `ApiError::ser` below: it sets the HTTP status of the
//! error's kind (through leptos_axum's `ResponseOptions`) and hides the details of internal
//! errors, which go to the log instead. Arguments the framework cannot read (a missing field, a
//! malformed body, an ID of the wrong form) become `Malformed` (400) on the way in.

pub mod account;
pub mod agents;
pub mod alerts;
pub mod audit;
pub mod eips;
pub mod havips;
pub mod instances;
pub mod keys;
pub mod language;
pub mod live;
pub mod login;
pub mod network;
pub mod roles;
pub mod users;

#[cfg(feature = "ssr")]
use crate::domain::audit::Actor;
#[cfg(feature = "ssr")]
use crate::domain::auth::Principal;
#[cfg(feature = "ssr")]
use crate::domain::auth::Role;
use crate::domain::error::ApiError;
#[cfg(feature = "ssr")]
use crate::domain::ids::RegionId;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, Encodes};

/// The largest request body the console reads (the server enforces it).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// What a caller is told when its body is over `MAX_BODY_BYTES`.
pub const TOO_LARGE: &str = "the console reads at most 1 MiB per request.";

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // a body over the limit, sent without its length (one with it never gets here)
        if value.to_string().contains("length limit exceeded") {
            return ApiError::too_large(crate::i18n::m::errors_api::REQUEST_TOO_LARGE);
        }
        match value {
            // the server could not read what was sent (on the server, a body that does not
            // decode is the caller's; in the browser, an answer that does not is ours)
            ServerFnErrorErr::Args(m) => ApiError::malformed(malformed_request(m)),
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(m) => ApiError::malformed(malformed_request(m)),
            ServerFnErrorErr::MissingArg(m) => ApiError::malformed(
                crate::i18n::Text::new(crate::i18n::m::errors_api::MISSING_ARGUMENT).arg("name", m),
            ),
            // the browser could not reach the console
            ServerFnErrorErr::Request(m) => {
                ApiError::internal(format!("Cannot reach the console: {m}"))
            }
            other => ApiError::internal(other.to_string()),
        }
    }

    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        let shown = outgoing(self);
        #[cfg(not(feature = "ssr"))]
        let shown = self.clone();
        <JsonEncoding as Encodes<ApiError>>::encode(&shown).unwrap_or_default()
    }
}

/// "Malformed request: …", with what the decoder said.
fn malformed_request(detail: String) -> crate::i18n::Text {
    crate::i18n::Text::new(crate::i18n::m::errors_api::MALFORMED_REQUEST).arg("detail", detail)
}

/// What leaves the server for a refusal: the status of its kind on the response being built,
/// internal details logged (with a reference the caller sees) instead of sent.
#[cfg(feature = "ssr")]
pub fn outgoing(e: &ApiError) -> ApiError {
    use crate::domain::error::ErrorKind;
    let reference = format!("{:08x}", rand::random::<u32>());
    if e.kind == ErrorKind::Internal {
        tracing::error!(reference = %reference, "internal error: {}", e.message);
    }
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(e.status()) {
            response.set_status(status);
        }
    }
    e.public(&reference)
}

/// The store, for a caller whose role is at least `role`: every server function names the
/// role it needs here, so none can forget to check. The caller is the `Principal` the server's
/// access layer put in the request (from the session cookie).
#[cfg(feature = "ssr")]
pub(crate) fn store(role: Role) -> Result<crate::store::Store, ApiError> {
    caller_and_store(role).map(|(_, store)| store)
}

/// The caller (at least `role`) and the store acting for them.
#[cfg(feature = "ssr")]
pub(crate) fn caller_and_store(role: Role) -> Result<(Principal, crate::store::Store), ApiError> {
    let caller = require(role)?;
    let store = leptos::prelude::use_context::<crate::store::Store>()
        .ok_or_else(|| ApiError::internal("the store is not available"))?;
    // changes are recorded in the audit log for the caller, from their address
    let actor = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Actor>().cloned())
        .unwrap_or_else(|| Actor::user(&caller.user, None));
    Ok((caller, store.acting(actor)))
}

/// Who is calling, if their role is at least `role`: 401 for nobody, 403 for too little.
#[cfg(feature = "ssr")]
pub fn require(role: Role) -> Result<Principal, ApiError> {
    let caller = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>().cloned());
    match caller {
        None => Err(ApiError::unauthorized(crate::i18n::m::errors::LOG_IN_FIRST)),
        Some(p) if p.role < role => Err(ApiError::forbidden(
            crate::i18n::Text::new(crate::i18n::m::errors::ROLE_TOO_LOW)
                .word("role", p.role.word())
                .word("needed", role.word()),
        )),
        Some(p) => Ok(p),
    }
}

/// The logged-in user and role, for the top bar and for hiding what the role cannot do.
#[leptos::server(endpoint = "whoami")]
pub async fn whoami() -> Result<crate::domain::auth::Me, ApiError> {
    let (me, store) = caller_and_store(roles::role_for("whoami"))?;
    let chosen = store.user(&me.user)?.and_then(|u| u.time_zone);
    let now_s = (crate::support::now_ms() / 1000) as i64;
    let zone = chosen
        .and_then(|name| crate::support::zone(&name, now_s))
        .unwrap_or_default();
    Ok(crate::domain::auth::Me {
        user: me.user,
        role: me.role,
        zone,
    })
}

/// The region to show: the one asked for, else the first (the seeded "Default").
#[cfg(feature = "ssr")]
pub(crate) fn pick_region(
    store: &crate::store::Store,
    asked: Option<RegionId>,
) -> Result<(Vec<crate::domain::model::Region>, RegionId), ApiError> {
    let regions = store.regions()?;
    let id = match asked {
        Some(id) => store.region(&id)?.id,
        None => regions
            .first()
            .map(|r| r.id.clone())
            .ok_or_else(|| ApiError::internal("no region"))?,
    };
    Ok((regions, id))
}
