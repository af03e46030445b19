#![recursion_limit = "256"]
//! The HAVIP console: domain rules, server functions, storage and the Leptos UI.

pub mod api;
pub mod domain;
pub mod i18n;
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
    #[cfg(feature = "ssr")]
    let lang = request_lang();
    #[cfg(not(feature = "ssr"))]
    let lang = i18n::Lang::En;
    provide_context(lang);
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
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
                {messages_of(lang)}
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The language a page is rendered in: the browser's cookie (chosen in the menu, or brought
/// back by the user's login), else the first visit's `Accept-Language`.
#[cfg(feature = "ssr")]
fn request_lang() -> i18n::Lang {
    use axum::http::header;
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return i18n::Lang::En;
    };
    let cookie = (parts.headers.get_all(header::COOKIE).iter())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == api::language::LANGUAGE_COOKIE)
        .and_then(|(_, tag)| i18n::Lang::from_tag(tag));
    cookie.unwrap_or_else(|| {
        let accept = (parts.headers.get(header::ACCEPT_LANGUAGE))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        i18n::from_accept_language(accept)
    })
}

/// The table of the page's language when it is not English (the browser carries English): a
/// JSON element the browser reads before it hydrates, so the page's words do not change.
fn messages_of(lang: i18n::Lang) -> impl IntoView {
    let json = (lang != i18n::Lang::En)
        .then(|| i18n::table(lang))
        .flatten()
        .and_then(|table| serde_json::to_string(table).ok())
        // inside <script>, no "</script>" may appear: every < is escaped
        .map(|json| json.replace('<', "\\u003c"));
    json.map(|json| {
        view! { <script type="application/json" id=ui::lang::TABLE_ELEMENT inner_html=json></script> }
    })
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
    ui::lang::provide_language();
    ui::live::provide_live();
    ui::zone::provide_zone();
    view! {
        <Title text=crate::tr!(common::CONSOLE_NAME)/>
        <Router>
            <ui::components::TopBar/>
            <main>
                <Routes fallback=|| view! { <p class="empty">{crate::tr!(common::PAGE_NOT_FOUND)}</p> }>
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
