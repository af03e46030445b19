//! Who may do what: the least role for each server function (by its endpoint name) and each
//! route of the JSON API (by its pattern). The one table of the browser's and scripts' calls:
//! each function and route asks it (`role_for`), and the access tests walk it with every role.
//! (The Tencent-compatible actions have theirs in the server's `tcapi::actions`.)

use crate::domain::auth::Role;
use Role::{Admin, Operator, Viewer};

pub const ROLES: &[(&str, Role)] = &[
    // one's own account
    ("set_time_zone", Viewer),
    ("time_zones", Viewer),
    // agents
    ("agents_page", Viewer),
    ("create_agent", Admin),
    ("revoke_agent", Admin),
    // alerts
    ("alerts_page", Admin),
    ("create_alert", Admin),
    ("set_alert_enabled", Admin),
    ("delete_alert", Admin),
    ("test_alert", Admin),
    // audit
    ("audit_log", Admin),
    // eips
    ("eips_page", Viewer),
    ("allocate_eip", Operator),
    ("release_eip", Operator),
    ("bind_eip", Operator),
    ("unbind_eip", Operator),
    ("bind_new_eip", Operator),
    ("unbind_havip_eip", Operator),
    // havips
    ("havip_page", Viewer),
    ("create_havip", Operator),
    ("rename_havip", Operator),
    ("delete_havip", Operator),
    ("havip_detail", Viewer),
    ("havip_history", Viewer),
    ("set_allowed_holders", Operator),
    // instances
    ("instances_page", Viewer),
    ("register_instance", Operator),
    ("deregister_instance", Operator),
    // keys
    ("api_keys_page", Viewer),
    ("create_api_key", Viewer),
    ("set_api_key_disabled", Viewer),
    ("delete_api_key", Viewer),
    // mod
    ("whoami", Viewer),
    // network
    ("network_page", Viewer),
    ("create_region", Admin),
    ("create_vpc", Admin),
    ("create_subnet", Admin),
    // users
    ("users_page", Admin),
    ("add_user", Admin),
    ("set_user_role", Admin),
    ("set_user_disabled", Admin),
    ("delete_user", Admin),
    ("set_user_password", Admin),
    ("end_user_sessions", Admin),
    // the JSON API
    ("/api/v1/havips", Viewer),
    ("/api/v1/havips/{id}/history", Viewer),
    ("/api/v1/audit", Admin),
];

/// The least role `operation` needs; one missing from the table needs an admin (and the
/// access tests fail on it).
pub fn role_for(operation: &str) -> Role {
    ROLES
        .iter()
        .find(|(name, _)| *name == operation)
        .map_or(Admin, |(_, role)| *role)
}
