//! Alerts (admins): rules that send events to a webhook or a hook program, each with its
//! latest deliveries. A webhook's signing secret is shown once, when the rule is added.

use crate::api::alerts::{
    alerts_page, AlertsView, CreateAlert, DeleteAlert, Place, SetAlertEnabled, TestAlert,
};
use crate::api::live::{Interest, Topic};
use crate::domain::alerts::{
    check_rule, AlertRow, Delivery, EventType, NewAlertRule, Target, DEFAULT_DEDUP_S,
};
use crate::domain::error::ApiError;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{on_success, refusal, refusals, FieldError};
use crate::ui::lang::{lang, piece, t, te, tf};
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
        <div class="page-head"><h1>{tr!(alerts::TITLE)}</h1></div>
        <p class="hint">{tr!(alerts::HINT)}</p>
        {page_view(data.first, move |_| view! {
            <table class="list" id="alert-table">
                <thead><tr><th>{tr!(alerts::COL_ID_NAME)}</th><th>{tr!(alerts::COL_DESTINATION)}</th><th>{tr!(alerts::COL_EVENTS)}</th><th>{tr!(alerts::COL_SCOPE)}</th><th>{tr!(alerts::COL_WINDOW)}</th><th>{tr!(alerts::COL_LAST_DELIVERY)}</th><th>{tr!(alerts::COL_OPERATION)}</th></tr></thead>
                <tbody>
                    {move || rows.get().into_iter().map(|row| rule_row(row, &places.read(), enable, delete, test)).collect_view()}
                </tbody>
            </table>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="empty">{tr!(alerts::NONE_YET)}</p>
            </Show>
            <NewRuleForm places hooks create/>
        }.into_any())}
        <FieldError message=error id="alert-error"/>
        <Show when=move || created().is_some_and(|c| c.secret.is_some())>
            <div class="card token" id="alert-secret-card">
                <h2>{move || tf(Text::new(m::alerts::SECRET_OF).arg("name", created().map(|c| c.rule.name).unwrap_or_default()))}</h2>
                <p>
                    {move || piece(m::alerts::SECRET_NOTE, SECRET_HEADERS, 0)}<code>"webhook-id"</code>
                    {move || piece(m::alerts::SECRET_NOTE, SECRET_HEADERS, 1)}<code>"webhook-timestamp"</code>
                    {move || piece(m::alerts::SECRET_NOTE, SECRET_HEADERS, 2)}<code>"webhook-signature"</code>
                    {move || piece(m::alerts::SECRET_NOTE, SECRET_HEADERS, 3)}
                </p>
                <code id="alert-secret">{move || created().and_then(|c| c.secret).unwrap_or_default()}</code>
            </div>
        </Show>
    }
}

/// The headers the signing secret's note names, in the order its message has them.
const SECRET_HEADERS: &[&str] = &["id", "timestamp", "signature"];

/// A place's label in the page's language. The server names places in English ("Region …",
/// "VPC … (10.0.0.0/16)"): the kind is the scope's, the rest (names, blocks) the server's.
fn place_text(place: &Place) -> String {
    let s = &place.scope;
    let (english, msg) = if s.havip_id.is_some() {
        ("HAVIP ", m::alerts::PLACE_HAVIP)
    } else if s.subnet_id.is_some() {
        ("Subnet ", m::alerts::PLACE_SUBNET)
    } else if s.vpc_id.is_some() {
        ("VPC ", m::alerts::PLACE_VPC)
    } else if s.region_id.is_some() {
        ("Region ", m::alerts::PLACE_REGION)
    } else if place.label == m::alerts::PLACE_EVERYTHING.text(crate::i18n::Lang::En) {
        return t(m::alerts::PLACE_EVERYTHING).to_string();
    } else {
        return place.label.clone();
    };
    match place.label.strip_prefix(english) {
        Some(name) => tf(Text::new(msg).arg("name", name)),
        None => place.label.clone(),
    }
}

fn delivery_text(d: &Delivery) -> String {
    let tries = if d.attempts == 1 {
        t(m::alerts::ATTEMPT_ONE).to_string()
    } else {
        tf(Text::new(m::alerts::ATTEMPTS).arg("count", d.attempts))
    };
    let held = if d.suppressed > 0 {
        tf(Text::new(m::alerts::HELD_BACK).arg("count", d.suppressed))
    } else {
        String::new()
    };
    format!(
        "{} {} · {} · {} · {tries}{held}",
        if d.delivered { "✓" } else { "✗" },
        outcome_text(d),
        d.event_type,
        local_time(d.at)
    )
}

/// What the delivery came to, in the page's language where it has a code (else its English).
fn outcome_text(d: &Delivery) -> String {
    let said = (d.outcome_text.as_ref())
        .and_then(|c| crate::i18n::say(&c.code, &c.args, &c.words, lang()));
    match said {
        Some(said) if d.gave_up => tf(Text::new(m::alerts::GAVE_UP).arg("outcome", said)),
        Some(said) => said,
        None => d.outcome.clone(),
    }
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
    let class = match row.recent.first() {
        Some(d) if d.delivered => "tag bound",
        Some(_) => "tag conflict",
        None => "tag unbound",
    };
    let latest = row.recent.first().cloned();
    let last = move || {
        latest
            .as_ref()
            .map_or_else(|| t(m::alerts::NONE_DELIVERED).to_string(), delivery_text)
    };
    let recent = row.recent.clone();
    let count = recent.len();
    let events: Vec<&str> = r.events.iter().map(|e| e.as_str()).collect();
    let target = r.target.clone();
    // a place of the page's list, else the scope itself (a place deleted since)
    let found = places.iter().find(|p| p.scope == r.scope).cloned();
    let scope = r.scope.clone();
    let place = move || match &found {
        Some(p) => place_text(p),
        None => scope.describe_in(lang()),
    };
    view! {
        <tr data-id=r.id.to_string()>
            <td>
                <div class="id">{r.id.to_string()}</div><div class="name">{r.name.clone()}</div>
                {(!enabled).then(|| view! { <span class="tag unbound" data-testid="disabled">{tr!(alerts::DISABLED)}</span> })}
            </td>
            <td data-testid="target">{move || tf(target.describe_text())}</td>
            <td data-testid="events">{events.join(", ")}</td>
            <td>{place}</td>
            <td>{format!("{} s", r.dedup_s)}</td>
            <td data-testid="last-delivery">
                <span class=class>{last}</span>
                {(count > 1).then(|| view! {
                    <details class="deliveries">
                        <summary>{move || tf(Text::new(m::alerts::LATEST).arg("count", count))}</summary>
                        <ul>{recent.into_iter().map(|d| view! { <li>{move || delivery_text(&d)}</li> }).collect_view()}</ul>
                    </details>
                })}
            </td>
            <td class="ops">
                <button class="link" on:click=move |_| { test.dispatch(TestAlert { id: id.get_value() }); }>{tr!(alerts::SEND_TEST)}</button>
                <button class="link" on:click=move |_| { enable.dispatch(SetAlertEnabled { id: id.get_value(), enabled: !enabled }); }>
                    {move || if enabled { t(m::alerts::DISABLE) } else { t(m::alerts::ENABLE) }}
                </button>
                <button class="link danger" on:click=move |_| { delete.dispatch(DeleteAlert { id: id.get_value() }); }>{tr!(alerts::DELETE)}</button>
            </td>
        </tr>
    }
}

/// Why the form refused a new rule before sending it.
#[derive(Clone)]
enum Refused {
    /// the window is not a number
    Window,
    /// a rule the server would refuse too
    Rule(ApiError),
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
    let local_error = RwSignal::new(None::<Refused>);
    on_success(create, move || {
        name.set(String::new());
        url.set(String::new());
        program.set(String::new());
    });
    let server_error = refusal(create);
    let shown_error = Signal::derive(move || {
        let local = local_error.with(|e| {
            e.as_ref().map(|e| match e {
                Refused::Window => t(m::alerts::WINDOW_NOT_NUMBER).to_string(),
                Refused::Rule(e) => te(e),
            })
        });
        local.or_else(|| server_error.get())
    });
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
            local_error.set(Some(Refused::Window));
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
            Err(e) => local_error.set(Some(Refused::Rule(e))),
            Ok(()) => {
                local_error.set(None);
                create.dispatch(CreateAlert { rule });
            }
        }
    };
    view! {
        <section class="card" id="new-alert">
            <h2>{tr!(alerts::NEW_RULE)}</h2>
            <label for="alert-name">{tr!(alerts::NAME)}</label>
            <input id="alert-name" type="text" bind:value=name/>
            <span class="label">{tr!(alerts::DESTINATION)}</span>
            <label class="check"><input type="radio" name="alert-kind" checked=move || !is_hook.get() on:change=move |_| is_hook.set(false)/>{tr!(alerts::WEBHOOK)}</label>
            <label class="check" title=move || if hooks.get() { "" } else { t(m::alerts::HOOKS_OFF) }>
                <input type="radio" name="alert-kind" disabled=move || !hooks.get() checked=move || is_hook.get() on:change=move |_| is_hook.set(true)/>{tr!(alerts::HOOK_PROGRAM)}
            </label>
            <Show when=move || !is_hook.get() fallback=move || view! {
                <label for="alert-program">{tr!(alerts::PROGRAM)}</label>
                <input id="alert-program" type="text" bind:value=program/>
            }>
                <label for="alert-url">{tr!(alerts::WEBHOOK_URL)}</label>
                <input id="alert-url" type="url" placeholder="https://hooks.example.com/havip" bind:value=url/>
            </Show>
            <fieldset class="events">
                <legend>{tr!(alerts::EVENTS)}</legend>
                {EventType::CHOOSABLE.into_iter().map(|ty| {
                    let checked = move || chosen.with(|c| c.contains(&ty));
                    view! {
                        <label class="check" title=move || t(ty.description_msg())>
                            <input type="checkbox" checked=checked prop:checked=checked on:change=move |_| toggle(ty)/>
                            <code>{ty.as_str()}</code>
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <label for="alert-scope">{tr!(alerts::SCOPE)}</label>
            <select id="alert-scope" on:change=move |ev| place.set(event_target_value(&ev).parse().unwrap_or(0))>
                {move || places.get().into_iter().enumerate().map(|(i, p)| view! {
                    <option value=i.to_string() selected=move || place.get() == i>{move || place_text(&p)}</option>
                }).collect_view()}
            </select>
            <label for="alert-dedup">{tr!(alerts::DEDUP_WINDOW)}</label>
            <input id="alert-dedup" type="number" min="0" max="86400" bind:value=dedup/>
            <FieldError message=shown_error id="new-alert-error"/>
            <button id="create-alert" class="primary" disabled=move || create.pending().get() on:click=submit>{tr!(alerts::ADD_RULE)}</button>
        </section>
    }
}
