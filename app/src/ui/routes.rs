//! Every page but the HAVIP list and the login is a lazy route: in the browser its code is in
//! wasm chunks of its own, loaded when the page is first shown (`cargo leptos build --split`
//! cuts the bundle at these points), so the first page does not carry the whole console. The
//! list and the login, the pages a visit starts on, stay in the main module: one wasm to
//! compile, not a hundred chunks (measured: that halved the bytes but doubled the time until
//! the list answered). The server renders every page as before.

use super::pages;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// The route of VPCs and subnets.
pub struct Networks;

#[lazy_route]
impl LazyRoute for Networks {
    fn data() -> Self {
        Networks
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::networks::NetworksPage/> }.into_any()
    }
}

/// The route of agents.
pub struct Agents;

#[lazy_route]
impl LazyRoute for Agents {
    fn data() -> Self {
        Agents
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::agents::AgentsPage/> }.into_any()
    }
}

/// The route of EIPs.
pub struct Eips;

#[lazy_route]
impl LazyRoute for Eips {
    fn data() -> Self {
        Eips
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::eips::EipsPage/> }.into_any()
    }
}

/// The route of instances.
pub struct Instances;

#[lazy_route]
impl LazyRoute for Instances {
    fn data() -> Self {
        Instances
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::instances::InstancesPage/> }.into_any()
    }
}

/// The route of one HAVIP.
pub struct HavipDetail;

#[lazy_route]
impl LazyRoute for HavipDetail {
    fn data() -> Self {
        HavipDetail
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::detail::HavipDetailPage/> }.into_any()
    }
}

/// The route of users.
pub struct Users;

#[lazy_route]
impl LazyRoute for Users {
    fn data() -> Self {
        Users
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::users::UsersPage/> }.into_any()
    }
}

/// The route of the audit log.
pub struct AuditLog;

#[lazy_route]
impl LazyRoute for AuditLog {
    fn data() -> Self {
        AuditLog
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::audit::AuditLogPage/> }.into_any()
    }
}

/// The route of alert rules.
pub struct Alerts;

#[lazy_route]
impl LazyRoute for Alerts {
    fn data() -> Self {
        Alerts
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::alerts::AlertsPage/> }.into_any()
    }
}

/// The route of API keys.
pub struct ApiKeys;

#[lazy_route]
impl LazyRoute for ApiKeys {
    fn data() -> Self {
        ApiKeys
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::keys::ApiKeysPage/> }.into_any()
    }
}

/// The route of the first administrator.
pub struct Setup;

#[lazy_route]
impl LazyRoute for Setup {
    fn data() -> Self {
        Setup
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::login::SetupPage/> }.into_any()
    }
}

/// The route of the user's own account.
pub struct Account;

#[lazy_route]
impl LazyRoute for Account {
    fn data() -> Self {
        Account
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::account::AccountPage/> }.into_any()
    }
}
