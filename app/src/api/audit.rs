//! The audit log, for administrators.

use crate::domain::audit::{AuditPage, AuditQuery};
use crate::domain::error::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A page of the log, newest first, filtered.
#[server(input = Json, endpoint = "audit_log")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPage, ApiError> {
    super::store(super::roles::role_for("audit_log"))?.audit(&query)
}
