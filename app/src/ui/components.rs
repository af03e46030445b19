//! Pieces shared by the pages.

use crate::domain::binding::Status;
use crate::domain::error::ApiError;
use crate::domain::ids::RegionId;
use crate::domain::model::Region;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::lang::{t, te, tf};
use crate::ui::live::use_live;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn TopBar() -> impl IntoView {
    let live = use_live();
    // the login and set-up pages are for people not logged in: no console links (each would
    // lead only back to the login), no user, no live badge
    let location = leptos_router::hooks::use_location();
    let outside = Memo::new(move |_| {
        location
            .pathname
            .with(|p| matches!(p.as_str(), "/login" | "/setup"))
    });
    view! {
        <header class="topbar">
            <span class="brand">{tr!(common::CONSOLE_NAME)}</span>
            {crate::ui::lang::language_menu()}
            <Show when=move || !outside.get()>
                <ConsoleBar/>
            </Show>
        </header>
        <Show when=move || !outside.get()>
            <crate::ui::pages::account::ZoneProposal/>
        </Show>
        // a strip of its own under the bar: inside it, the notice squeezed the links onto two lines
        <Show when=move || live.outdated.get()>
            <p class="outdated" id="outdated" role="status">
                {tr!(common::UPGRADED)}" "
                <button class="link" on:click=|_| { _ = window().location().reload(); }>{tr!(common::RELOAD)}</button>
            </p>
        </Show>
    }
}

/// The top bar of a logged-in person: the console's pages, who they are, the live badge.
#[component]
fn ConsoleBar() -> impl IntoView {
    let live = use_live();
    view! {
        <nav>
            <A href="/">{tr!(common::NAV_HAVIP)}</A>
            <A href="/networks">{tr!(common::NAV_NETWORKS)}</A>
            <A href="/instances">{tr!(common::NAV_INSTANCES)}</A>
            <A href="/eips">{tr!(common::NAV_EIPS)}</A>
            <A href="/agents">{tr!(common::NAV_AGENTS)}</A>
            <A href="/keys">{tr!(common::NAV_KEYS)}</A>
            <span class="needs-admin"><A href="/users">{tr!(common::NAV_USERS)}</A></span>
            <span class="needs-admin"><A href="/audit">{tr!(common::NAV_AUDIT)}</A></span>
            <span class="needs-admin"><A href="/alerts">{tr!(common::NAV_ALERTS)}</A></span>
        </nav>
        {move || crate::ui::zone::me().and_then(Result::ok).map(|p| view! {
            <a href="/account" class="whoami" id="whoami" data-role=p.role.name() title=tr!(common::MY_ACCOUNT_TITLE)>{move || format!("{} ({})", p.user, t(p.role.word()))}</a>
            <form method="post" action="/logout" class="logout">
                <button id="logout" class="link" type="submit">{tr!(common::LOG_OUT)}</button>
            </form>
        })}
        <span
            id="live-indicator"
            class=move || if live.connected.get() { "live up" } else { "live down" }
            title=tr!(common::LIVE_TITLE)
        >
            {move || if live.connected.get() { t(m::common::LIVE) } else { t(m::common::OFFLINE) }}
        </span>
    }
}

/// Percent-encodes a query parameter's value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `?region=` of the current URL, if any (one that is no region ID is ignored).
pub fn region_query() -> Memo<Option<RegionId>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("region").and_then(|r| r.parse().ok()))
}

/// Region selector: switching navigates to `path?region=ID`, so reloads and links keep it.
#[component]
pub fn RegionSelect(
    #[prop(into)] regions: Signal<Vec<Region>>,
    current: RegionId,
    path: &'static str,
) -> impl IntoView {
    let navigate = use_navigate();
    view! {
        <label class="region">
            {tr!(common::REGION)}" "
            <select
                id="region-select"
                on:change=move |ev| {
                    let id = event_target_value(&ev);
                    navigate(&format!("{path}?region={id}"), Default::default());
                }
            >
                {move || regions
                    .get()
                    .into_iter()
                    .map(|r| {
                        let selected = r.id == current;
                        view! { <option value=r.id.to_string() selected=selected>{r.name}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// A field's error message, shown under it.
#[component]
pub fn FieldError(
    #[prop(into)] message: Signal<Option<String>>,
    id: &'static str,
) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="field-error" id=id role="alert">{move || message.get().unwrap_or_default()}</p>
        </Show>
    }
}

/// A modal frame with a title, the body and a footer of buttons.
#[component]
pub fn Modal(
    #[prop(into)] title: Signal<String>,
    id: &'static str,
    children: Children,
) -> impl IntoView {
    let title_id = format!("{id}-title");
    let heading_id = title_id.clone();
    view! {
        <div class="backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby=title_id.clone() id=id>
                <h2 id=heading_id>{move || title.get()}</h2>
                {children()}
            </div>
        </div>
    }
}

/// The server's refusal of the latest submission, if any.
pub fn refusal<S>(action: ServerAction<S>) -> Signal<Option<String>>
where
    S: ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .with(|v| v.as_ref().and_then(|r| r.as_ref().err()).map(te))
    })
}

/// The server's refusal of the latest submission when it concerns `field` (`None`: no field),
/// to show next to that field.
pub fn field_refusal<S>(action: ServerAction<S>, field: Option<&str>) -> Option<String>
where
    S: ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    action.value().with(|v| match v {
        Some(Err(e)) if e.field.as_deref() == field => Some(te(e)),
        _ => None,
    })
}

/// Runs `on_done` each time the action succeeds (to close a dialog, clear a form). The page's
/// data follows by itself: the server pushes the change over the live channel; only while that
/// is down does a success reload the page's data here.
pub fn on_success<S>(action: ServerAction<S>, on_done: impl Fn() + 'static)
where
    S: ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let live = use_live();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            untrack(|| {
                if !live.connected.get() {
                    live.refresh();
                }
                on_done();
            });
        }
    });
}

/// The latest refusal among several actions of a page (each shown until the next dispatch).
pub fn refusals(list: Vec<Signal<Option<String>>>) -> Signal<Option<String>> {
    Signal::derive(move || list.iter().find_map(|s| s.get()))
}

/// The CSS class of a status tag (unbound grey, bound green, conflict red).
pub fn status_class(status: &Status) -> &'static str {
    match status {
        Status::Unbound => "tag unbound",
        Status::Bound { .. } => "tag bound",
        Status::Conflict { .. } => "tag conflict",
    }
}

/// Red tags naming hosts that claim the address without being allowed to.
pub fn unauthorized_tags(claims: Vec<String>) -> impl IntoView {
    claims
        .into_iter()
        .map(|c| view! { <span class="tag conflict unauthorized" data-testid="unauthorized" title=tr!(common::NOT_ALLOWED_HOLDER)>{move || tf(Text::new(m::common::UNAUTHORIZED_CLAIM).arg("mac", &c))}</span> })
        .collect_view()
}

/// Marks a status that no connected agent keeps current (it is the last one reported).
pub fn unwatched_tag(watched: bool) -> impl IntoView {
    (!watched).then(|| view! {
        <span class="tag stale" data-testid="unwatched" title=tr!(common::NO_AGENT_TITLE)>{tr!(common::NO_AGENT)}</span>
    })
}
