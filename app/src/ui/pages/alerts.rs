//! Alerts (admins): rules that send events to a webhook or a hook program, each with its
//! latest deliveries. A webhook's signing secret is shown once, when the rule is added.

use crate::api::alerts::{
    alerts_page, AlertsView, CreateAlert, DeleteAlert, Place, SetAlertEnabled, TestAlert,
};
use crate::api::live::{Interest, Topic};
use crate::domain::alerts::{
    check_rule, AlertRow, Delivery, EventType, NewAlertRule, Target, DEFAULT_DEDUP_S,
};
use crate::ui::components::{on_success, refusal, refusals, FieldError};
use crate::ui::live::{page_data, Watch};
use crate::ui::loading::page_view;
use crate::ui::zone::local_time;
use leptos::prelude::*;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let data = page_data(
        || (),
        |()| alerts_page(),
        Watch::reload(|_, _| Interest::new(&[Topic::Alerts])),
    );
    let create = ServerAction::<CreateAlert>::new();
    let enable = ServerAction::<SetAlertEnabled>::new();
    let delete = ServerAction::<DeleteAlert>::new();
    let test = ServerAction::<TestAlert>::new();
    let created = move || create.value().get().and_then(Result::ok);
    let error = refusals(vec![refusal(enable), refusal(delete), refusal(test)]);
    let rows = Memo::new(move |_| data.with(|d: &AlertsView| d.rows.clone()));
    let places = Memo::new(move |_| data.with(|d: &AlertsView| d.places.clone()));
    let hooks = Memo::new(move |_| data.with(|d: &AlertsView| d.hooks_enabled));
    view! {
        <div class="page-head"><h1>"Alerts"</h1></div>
        <p class="hint">
            "Each rule sends the events it chose, in its scope, to a webhook (a signed CloudEvent, retried with back-off) or to a hook program (the event on its stdin). Repeats of one event about one subject within the rule's window are held back; the latest of them follows when the window ends."
        </p>
        {page_view(data.first, move |_| view! {
            <table class="list" id="alert-table">
                <thead><tr><th>"ID/Name"</th><th>"Destination"</th><th>"Events"</th><th>"Scope"</th><th>"Window"</th><th>"Last delivery"</th><th>"Operation"</th></tr></thead>
                <tbody>
                    {move || rows.get().into_iter().map(|row| rule_row(row, &places.read(), enable, delete, test)).collect_view()}
                </tbody>
            </table>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="empty">"No alert rule yet."</p>
            </Show>
            <NewRuleForm places hooks create/>
        }.into_any())}
        <FieldError message=error id="alert-error"/>
        <Show when=move || created().is_some_and(|c| c.secret.is_some())>
            <div class="card token" id="alert-secret-card">
                <h2>"Signing secret of " {move || created().map(|c| c.rule.name).unwrap_or_default()}</h2>
                <p>
                    "Copy it now: it cannot be shown again. Each delivery carries " <code>"webhook-id"</code> ", "
                    <code>"webhook-timestamp"</code> " and " <code>"webhook-signature"</code>
                    " (v1, HMAC-SHA256 of id.timestamp.body, as Standard Webhooks libraries verify it)."
                </p>
                <code id="alert-secret">{move || created().and_then(|c| c.secret).unwrap_or_default()}</code>
            </div>
        </Show>
    }
}

fn place_label(places: &[Place], scope: &crate::domain::alerts::Scope) -> String {
    places
        .iter()
        .find(|p| p.scope == *scope)
        .map_or_else(|| scope.describe(), |p| p.label.clone())
}

fn delivery_text(d: &Delivery) -> String {
    let tries = if d.attempts == 1 {
        "1 attempt".to_string()
    } else {
        format!("{} attempts", d.attempts)
    };
    let held = if d.suppressed > 0 {
        format!(", {} held back before it", d.suppressed)
    } else {
        String::new()
    };
    format!(
        "{} {} · {} · {} · {tries}{held}",
        if d.delivered { "✓" } else { "✗" },
        d.outcome,
        d.event_type,
        local_time(d.at)
    )
}

fn rule_row(
    row: AlertRow,
    places: &[Place],
    enable: ServerAction<SetAlertEnabled>,
    delete: ServerAction<DeleteAlert>,
    test: ServerAction<TestAlert>,
) -> impl IntoView {
    let r = row.rule;
    let id = StoredValue::new(r.id.clone());
    let enabled = r.enabled;
    let (class, last) = match row.recent.first() {
        Some(d) if d.delivered => ("tag bound", delivery_text(d)),
        Some(d) => ("tag conflict", delivery_text(d)),
        None => ("tag unbound", "None yet".to_string()),
    };
    let recent = row.recent.clone();
    let events: Vec<&str> = r.events.iter().map(|e| e.as_str()).collect();
    view! {
        <tr data-id=r.id.to_string()>
            <td>
                <div class="id">{r.id.to_string()}</div><div class="name">{r.name.clone()}</div>
                {(!enabled).then(|| view! { <span class="tag unbound" data-testid="disabled">"Disabled"</span> })}
            </td>
            <td data-testid="target">{r.target.describe()}</td>
            <td data-testid="events">{events.join(", ")}</td>
            <td>{place_label(places, &r.scope)}</td>
            <td>{format!("{} s", r.dedup_s)}</td>
            <td data-testid="last-delivery">
                <span class=class>{last}</span>
                {(recent.len() > 1).then(|| view! {
                    <details class="deliveries">
                        <summary>{format!("Latest {}", recent.len())}</summary>
                        <ul>{recent.iter().map(|d| view! { <li>{delivery_text(d)}</li> }).collect_view()}</ul>
                    </details>
                })}
            </td>
            <td class="ops">
                <button class="link" on:click=move |_| { test.dispatch(TestAlert { id: id.get_value() }); }>"Send test"</button>
                <button class="link" on:click=move |_| { enable.dispatch(SetAlertEnabled { id: id.get_value(), enabled: !enabled }); }>
                    {if enabled { "Disable" } else { "Enable" }}
                </button>
                <button class="link danger" on:click=move |_| { delete.dispatch(DeleteAlert { id: id.get_value() }); }>"Delete"</button>
            </td>
        </tr>
    }
}

/// A new rule; its fields are kept while live changes arrive.
#[component]
fn NewRuleForm(
    places: Memo<Vec<Place>>,
    hooks: Memo<bool>,
    create: ServerAction<CreateAlert>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let is_hook = RwSignal::new(false);
    let url = RwSignal::new(String::new());
    let program = RwSignal::new(String::new());
    let chosen = RwSignal::new(vec![EventType::HolderChanged, EventType::ConflictDetected]);
    let place = RwSignal::new(0usize);
    let dedup = RwSignal::new(DEFAULT_DEDUP_S.to_string());
    let local_error = RwSignal::new(None::<String>);
    on_success(create, move || {
        name.set(String::new());
        url.set(String::new());
        program.set(String::new());
    });
    let server_error = refusal(create);
    let shown_error = Signal::derive(move || local_error.get().or_else(|| server_error.get()));
    let toggle = move |t: EventType| {
        chosen.update(|c| {
            if let Some(i) = c.iter().position(|x| *x == t) {
                c.remove(i);
            } else {
                c.push(t);
            }
        })
    };
    let submit = move |_| {
        let Ok(dedup_s) = dedup.get_untracked().trim().parse::<u32>() else {
            local_error.set(Some("The window is a number of seconds.".into()));
            return;
        };
        let target = if is_hook.get_untracked() {
            Target::Exec {
                program: program.get_untracked().trim().to_string(),
            }
        } else {
            Target::Webhook {
                url: url.get_untracked().trim().to_string(),
            }
        };
        let rule = NewAlertRule {
            name: name.get_untracked(),
            target,
            events: chosen.get_untracked(),
            scope: places.with_untracked(|p| {
                p.get(place.get_untracked())
                    .map(|p| p.scope.clone())
                    .unwrap_or_default()
            }),
            dedup_s,
        };
        // the server checks the same rules again
        match check_rule(&rule) {
            Err(e) => local_error.set(Some(e.message)),
            Ok(()) => {
                local_error.set(None);
                create.dispatch(CreateAlert { rule });
            }
        }
    };
    view! {
        <section class="card" id="new-alert">
            <h2>"New alert rule"</h2>
            <label for="alert-name">"Name"</label>
            <input id="alert-name" type="text" bind:value=name/>
            <span class="label">"Destination"</span>
            <label class="check"><input type="radio" name="alert-kind" checked=move || !is_hook.get() on:change=move |_| is_hook.set(false)/>"Webhook"</label>
            <label class="check" title=move || if hooks.get() { "" } else { "Start the console with --hook-dir DIR to allow hooks" }>
                <input type="radio" name="alert-kind" disabled=move || !hooks.get() checked=move || is_hook.get() on:change=move |_| is_hook.set(true)/>"Hook program"
            </label>
            <Show when=move || !is_hook.get() fallback=move || view! {
                <label for="alert-program">"Program (a file in the hook directory)"</label>
                <input id="alert-program" type="text" bind:value=program/>
            }>
                <label for="alert-url">"Webhook URL"</label>
                <input id="alert-url" type="url" placeholder="https://hooks.example.com/havip" bind:value=url/>
            </Show>
            <fieldset class="events">
                <legend>"Events"</legend>
                {EventType::CHOOSABLE.into_iter().map(|t| {
                    let checked = move || chosen.with(|c| c.contains(&t));
                    view! {
                        <label class="check" title=t.description()>
                            <input type="checkbox" checked=checked prop:checked=checked on:change=move |_| toggle(t)/>
                            <code>{t.as_str()}</code>
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <label for="alert-scope">"Scope"</label>
            <select id="alert-scope" on:change=move |ev| place.set(event_target_value(&ev).parse().unwrap_or(0))>
                {move || places.get().into_iter().enumerate().map(|(i, p)| view! {
                    <option value=i.to_string() selected=move || place.get() == i>{p.label}</option>
                }).collect_view()}
            </select>
            <label for="alert-dedup">"De-duplication window (seconds)"</label>
            <input id="alert-dedup" type="number" min="0" max="86400" bind:value=dedup/>
            <FieldError message=shown_error id="new-alert-error"/>
            <button id="create-alert" class="primary" disabled=move || create.pending().get() on:click=submit>"Add rule"</button>
        </section>
    }
}
