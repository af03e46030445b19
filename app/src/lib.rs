#![recursion_limit = "256"]
//! The HAVIP console: domain rules, server functions, storage and the Leptos UI.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod support;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    Lazy, ParamSegment, StaticSegment,
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
                // the bundle's directory carries its hash (the server chooses it, see `embedded`)
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                // which build the page is from (the live channel's `Hello` says the server's)
                <meta name="havip-bundle" content=options.site_pkg_dir.to_string()/>
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
    // logging out of a single sign-on sends the browser on to the identity provider
    let form_targets = use_context::<domain::sso::FormTargets>()
        .map(|targets| {
            targets
                .0
                .iter()
                .map(|t| format!(" {t}"))
                .collect::<String>()
        })
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'{form_targets}; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    ui::live::provide_live();
    ui::zone::provide_zone();
    view! {
        <Title text="HAVIP console"/>
        <Router>
            <ui::components::TopBar/>
            <main>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=ui::pages::havips::HavipListPage/>
                    <Route path=StaticSegment("networks") view={Lazy::<ui::routes::Networks>::new()}/>
                    <Route path=StaticSegment("agents") view={Lazy::<ui::routes::Agents>::new()}/>
                    <Route path=StaticSegment("eips") view={Lazy::<ui::routes::Eips>::new()}/>
                    <Route path=StaticSegment("instances") view={Lazy::<ui::routes::Instances>::new()}/>
                    <Route path=(StaticSegment("havip"), ParamSegment("id")) view={Lazy::<ui::routes::HavipDetail>::new()}/>
                    <Route path=StaticSegment("users") view={Lazy::<ui::routes::Users>::new()}/>
                    <Route path=StaticSegment("audit") view={Lazy::<ui::routes::AuditLog>::new()}/>
                    <Route path=StaticSegment("alerts") view={Lazy::<ui::routes::Alerts>::new()}/>
                    <Route path=StaticSegment("keys") view={Lazy::<ui::routes::ApiKeys>::new()}/>
                    <Route path=StaticSegment("account") view={Lazy::<ui::routes::Account>::new()}/>
                    <Route path=StaticSegment("login") view=ui::pages::login::LoginPage/>
                    <Route path=StaticSegment("setup") view={Lazy::<ui::routes::Setup>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // what `leptos::mount::hydrate_lazy` does (the page's lazy route loads its chunks first);
    // then the page says it answers to input (`<body data-hydrated>`) and the live channel
    // opens, so "● Live" says so too
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let body = document().body().expect("the page has a body");
        leptos::mount::hydrate_from_async(body.clone(), App)
            .await
            .forget();
        _ = body.set_attribute("data-hydrated", "");
        // the login and set-up pages have nothing live (and no session to open it with)
        let path = window().location().pathname().unwrap_or_default();
        if !matches!(path.as_str(), "/login" | "/setup") {
            ui::live::start();
        }
    });
}
