#![recursion_limit = "256"]
//! The HAVIP console: domain rules, server functions, storage and the Leptos UI.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod store;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, StaticSegment,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                // the bundle's name carries its hash (the server chooses it, see `embedded`)
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                <HydrationScripts options/>
                <MetaTags/>
                <ui::live::RenderMark/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Pages may run only the console's own scripts and wasm (the inline hydration scripts carry
/// this response's nonce), talk only to the console, and never be framed.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    use axum::http::{header, HeaderValue};
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    ui::live::provide_live();
    view! {
        <Title text="HAVIP console"/>
        <Router>
            <ui::components::TopBar/>
            <main>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=ui::pages::havips::HavipListPage/>
                    <Route path=StaticSegment("networks") view=ui::pages::networks::NetworksPage/>
                    <Route path=StaticSegment("agents") view=ui::pages::agents::AgentsPage/>
                    <Route path=StaticSegment("eips") view=ui::pages::eips::EipsPage/>
                    <Route path=StaticSegment("instances") view=ui::pages::instances::InstancesPage/>
                    <Route path=(StaticSegment("havip"), ParamSegment("id")) view=ui::pages::detail::HavipDetailPage/>
                    <Route path=StaticSegment("users") view=ui::pages::users::UsersPage/>
                    <Route path=StaticSegment("audit") view=ui::pages::audit::AuditLogPage/>
                    <Route path=StaticSegment("alerts") view=ui::pages::alerts::AlertsPage/>
                    <Route path=StaticSegment("keys") view=ui::pages::keys::ApiKeysPage/>
                    <Route path=StaticSegment("login") view=ui::pages::login::LoginPage/>
                    <Route path=StaticSegment("setup") view=ui::pages::login::SetupPage/>
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
