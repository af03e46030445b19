//! The audit log (administrators only): every change with who, when, from where, and what it
//! changed; newest first, filtered by user, object and action, paged.

use crate::api::audit::audit_log;
use crate::api::live::Interest;
use crate::domain::audit::{self, changes, AuditEntry, AuditPage, AuditQuery};
use crate::i18n::m;
use crate::tr;
use crate::ui::lang::t;
use crate::ui::live::{page_data, Watch};
use crate::ui::loading::page_view;
use crate::ui::zone::Time;
use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let url = use_query_map();
    let query = Memo::new(move |_| {
        url.with(|m| {
            let get = |k: &str| m.get(k).unwrap_or_default();
            AuditQuery {
                user: get("user"),
                object: get("object"),
                action: get("action"),
                before: get("before").parse().ok(),
                limit: None,
            }
        })
    });
    let data = page_data(
        move || query.get(),
        audit_log,
        Watch::reload(|_, _| Interest::everything()),
    );
    let entries = Memo::new(move |_| data.with(|p: &AuditPage| p.entries.clone()));
    let older = Memo::new(move |_| {
        data.with(|p: &AuditPage| p.next)
            .map(|next| page_url(&query.get(), Some(next)))
    });
    view! {
        <div class="page-head"><h1>{tr!(audit::TITLE)}</h1></div>
        <Form method="GET" action="/audit" attr:class="filters" attr:id="audit-filters">
            <input type="search" name="user" aria-label=tr!(audit::USER) placeholder=tr!(audit::USER) prop:value=move || query.get().user/>
            <input type="search" name="object" aria-label=tr!(audit::OBJECT) placeholder=tr!(audit::OBJECT_PLACEHOLDER) prop:value=move || query.get().object/>
            <input type="search" name="action" aria-label=tr!(audit::ACTION) placeholder=tr!(audit::ACTION_PLACEHOLDER) prop:value=move || query.get().action/>
            <button type="submit">{tr!(audit::FILTER)}</button>
        </Form>
        {page_view(data.first, move |_| view! {
            <table class="list" id="audit-table">
                <thead><tr><th>{tr!(audit::COL_TIME)}</th><th>{tr!(audit::COL_USER)}</th><th>{tr!(audit::COL_CLIENT)}</th><th>{tr!(audit::COL_ACTION)}</th><th>{tr!(audit::COL_OBJECT)}</th><th>{tr!(audit::COL_CHANGES)}</th></tr></thead>
                <tbody>
                    <For each=move || entries.get() key=|e| e.id children=entry_row/>
                </tbody>
            </table>
            <Show when=move || entries.with(Vec::is_empty)>
                <p class="empty">{tr!(audit::NO_MATCH)}</p>
            </Show>
            <nav class="pager">
                <Show when=move || query.get().before.is_some()>
                    <A href=move || page_url(&query.get(), None)>{tr!(audit::NEWEST)}</A>
                </Show>
                {move || older.get().map(|href| view! { <A href=href attr:id="audit-older">{tr!(audit::OLDER)}</A> })}
            </nav>
        }.into_any())}
    }
}

fn entry_row(e: AuditEntry) -> impl IntoView {
    let (id, action, user) = (e.id.to_string(), e.action.clone(), e.user.clone());
    let (before, after) = (e.before.clone(), e.after.clone());
    // "(none)" follows the page's language
    let lines = move || changes(&before, &after, t(m::audit::NONE));
    view! {
        <tr data-id=id data-action=action>
            <td><Time ms=e.at/></td>
            <td data-testid="user">{move || actor(&user)}</td>
            <td>{e.client}</td>
            <td data-testid="action"><code>{e.action}</code></td>
            <td data-testid="object">{e.object}</td>
            <td data-testid="changes" class="changes">
                {move || lines().into_iter().map(|l| view! { <div>{l}</div> }).collect_view()}
            </td>
        </tr>
    }
}

/// Who made a change: a user's name, or the command line or the console itself in the page's
/// language.
fn actor(user: &str) -> String {
    match user {
        audit::COMMAND_LINE => t(m::audit::ACTOR_COMMAND_LINE).to_string(),
        audit::CONSOLE => t(m::audit::ACTOR_CONSOLE).to_string(),
        name => name.to_string(),
    }
}

/// The page's URL for the filters and a cursor (empty parts left out).
fn page_url(q: &AuditQuery, before: Option<u64>) -> String {
    let mut parts = vec![];
    for (k, v) in [
        ("user", &q.user),
        ("object", &q.object),
        ("action", &q.action),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", crate::ui::components::encode(v)));
        }
    }
    if let Some(b) = before {
        parts.push(format!("before={b}"));
    }
    format!("/audit?{}", parts.join("&"))
}
