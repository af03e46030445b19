//! Server functions, one module per resource. The browser calls them over HTTP; on the server
//! they run against the `Store` provided as context.

pub mod agents;
pub mod eips;
pub mod havips;
pub mod instances;
pub mod live;
pub mod network;

use crate::domain::error::ApiError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::internal(value)
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn store() -> Result<crate::store::Store, ApiError> {
    leptos::prelude::use_context::<crate::store::Store>()
        .ok_or_else(|| ApiError::internal("the store is not available"))
}

/// The region to show: the one asked for, else the first (the seeded "Default").
#[cfg(feature = "ssr")]
pub(crate) fn pick_region(
    store: &crate::store::Store,
    asked: Option<String>,
) -> Result<(Vec<crate::domain::model::Region>, String), ApiError> {
    let regions = store.regions()?;
    let id = match asked.filter(|a| !a.is_empty()) {
        Some(id) => store.region(&id)?.id,
        None => regions
            .first()
            .map(|r| r.id.clone())
            .ok_or_else(|| ApiError::internal("no region"))?,
    };
    Ok((regions, id))
}
