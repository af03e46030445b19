//! The logged-in user's own page: the time zone every page shows times in.

use crate::api::account::{time_zones, SetTimeZone};
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{on_success, refusal, FieldError};
use crate::ui::first_load::FirstLoad;
use crate::ui::lang::{piece, tf};
use crate::ui::loading::page_view;
use crate::ui::zone::{browser_zone, choose_zone, reload_zone, zone};
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    // the zones' names are loaded on this page only
    let names = FirstLoad::new(|| (), |_| time_zones());
    let set = ServerAction::<SetTimeZone>::new();
    on_success(set, reload_zone);
    let wanted = RwSignal::new(String::new());
    let browser = RwSignal::new(None::<String>);
    // in the browser only, once the page answers
    Effect::new(move |_| browser.set(browser_zone()));
    let save = move |zone: String| {
        set.dispatch(SetTimeZone { zone });
    };
    view! {
        <div class="page-head"><h1>{tr!(account::TITLE)}</h1></div>
        <section class="card" id="time-zone">
            <h2>{tr!(account::TIME_ZONE)}</h2>
            <p class="hint">{tr!(account::ZONE_HINT)}</p>
            <p>
                {move || piece(m::account::SHOWN_IN, &["zone"], 0)}
                <strong id="current-zone">{move || zone().name}</strong>
                {move || piece(m::account::SHOWN_IN, &["zone"], 1)}
            </p>
            {page_view(names, move |names: Vec<String>| {
                let current = zone().name;
                view! {
                    <div class="form">
                        <label for="zone-select">{tr!(account::TIME_ZONE)}</label>
                        <select id="zone-select" on:change=move |ev| wanted.set(event_target_value(&ev))>
                            {names.into_iter().map(|n| {
                                let selected = n == current;
                                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <button id="save-zone" class="primary" disabled=move || set.pending().get() on:click=move |_| {
                        let chosen = wanted.get_untracked();
                        save(if chosen.is_empty() { zone().name } else { chosen });
                    }>{tr!(account::SAVE)}</button>
                }.into_any()
            })}
            <Show when=move || browser.get().is_some_and(|b| b != zone().name)>
                <p class="hint" id="browser-zone">
                    {move || tf(Text::new(m::account::BROWSER_IN).arg("zone", browser.get().unwrap_or_default()))}
                    <button class="link" on:click=move |_| save(browser.get_untracked().unwrap_or_default())>
                        {move || tf(Text::new(m::account::USE_ZONE).arg("zone", browser.get().unwrap_or_default()))}
                    </button>
                </p>
            </Show>
            <FieldError message=refusal(set) id="zone-error"/>
        </section>
    }
}

/// Under the top bar, for a user who has not chosen a time zone: their browser's, proposed.
#[component]
pub fn ZoneProposal() -> impl IntoView {
    let browser = RwSignal::new(None::<String>);
    Effect::new(move |_| browser.set(browser_zone()));
    let proposed = move || {
        let zone = zone();
        browser
            .get()
            .filter(|b| !zone.chosen && b != &zone.name && b != "UTC")
    };
    view! {
        <Show when=move || proposed().is_some()>
            <p class="outdated" id="zone-proposal" role="status">
                {move || piece(m::account::PROPOSAL, PROPOSAL_PARTS, 0)}
                <button class="link" on:click=move |_| {
                    if let Some(zone) = proposed() { choose_zone(zone); }
                }>{move || tf(Text::new(m::account::SHOW_IN).arg("zone", proposed().unwrap_or_default()))}</button>
                {move || piece(m::account::PROPOSAL, PROPOSAL_PARTS, 1)}
                <button class="link" on:click=move |_| choose_zone("UTC".into())>{tr!(account::KEEP_UTC)}</button>
                {move || piece(m::account::PROPOSAL, PROPOSAL_PARTS, 2)}
            </p>
        </Show>
    }
}

/// The proposal's buttons, in the order its message has them.
const PROPOSAL_PARTS: &[&str] = &["show", "keep"];
