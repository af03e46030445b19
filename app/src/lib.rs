#![recursion_limit = "256"]
//! The HAVIP console: domain rules, server functions, storage and the Leptos UI.

pub mod api;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod store;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, StaticSegment,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    ui::live::provide_live();
    view! {
        <Stylesheet id="leptos" href="/pkg/havip.css"/>
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
