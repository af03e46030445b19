//! The HA software configuration panel: keepalived for both nodes and Pacemaker, generated in
//! the browser from the same `domain::haconfig` the tests check with `keepalived -t`.

use crate::domain::haconfig::{check, keepalived, pacemaker, KeepalivedParams, Preemption, Role};
use crate::i18n::{m, Msg};
use crate::tr;
use crate::ui::lang::{lang, t, tf};
use ipnet::Ipv4Net;
use leptos::prelude::*;
use std::net::Ipv4Addr;

/// Copies `text` to the clipboard; `done` shows "Copied" for a moment.
fn copy(text: String, done: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        if let Some(w) = web_sys::window() {
            let promise = w.navigator().clipboard().write_text(&text);
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                done.set(true);
                set_timeout(
                    move || done.set(false),
                    std::time::Duration::from_millis(1500),
                );
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, done);
}

#[component]
fn ConfigBlock(title: Msg, id: &'static str, #[prop(into)] text: Signal<String>) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <div class="config-block">
            <div class="config-head">
                <strong>{move || t(title)}</strong>
                <button class="copy" id=format!("copy-{id}") on:click=move |_| copy(text.get_untracked(), copied)>
                    {move || if copied.get() { t(m::detail::HA_COPIED) } else { t(m::detail::HA_COPY) }}
                </button>
            </div>
            <pre id=id>{text}</pre>
        </div>
    }
}

/// Picks a registered instance of the subnet for a host IP field.
fn host_picker(
    id: &'static str,
    hosts: Signal<Vec<(String, Ipv4Addr)>>,
    pick: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Show when=move || !hosts.with(Vec::is_empty)>
            <span></span>
            <select id=id aria-label=tr!(detail::HA_CHOOSE_INSTANCE) on:change=move |ev| {
                let ip = event_target_value(&ev);
                if !ip.is_empty() { pick(ip); }
            }>
                <option value="">{tr!(detail::HA_CHOOSE_INSTANCE_OPTION)}</option>
                {move || hosts.get().into_iter().map(|(name, ip)| {
                    view! { <option value=ip.to_string()>{format!("{name} ({ip})")}</option> }
                }).collect_view()}
            </select>
        </Show>
    }
}

/// `hosts`: the registered instances of the subnet (name, primary IP), offered for both nodes;
/// `auth_pass`: the PASS password proposed (random, from the server).
#[component]
pub fn HaConfigPanel(
    vip: Ipv4Addr,
    subnet: Ipv4Net,
    auth_pass: String,
    #[prop(into)] hosts: Signal<Vec<(String, Ipv4Addr)>>,
) -> impl IntoView {
    let params = RwSignal::new(KeepalivedParams::defaults(vip, subnet, auth_pass));
    let delay = RwSignal::new(String::new());
    let errors = Memo::new(move |_| params.with(check));
    let error_text = move || {
        let reader = lang();
        errors.with(|errors| {
            (errors.iter())
                .map(|(_, problem)| problem.in_lang(reader))
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    let render = move |role: Role| {
        params.with(|p| {
            if check(p).is_empty() {
                keepalived(p, role)
            } else {
                t(m::detail::HA_FILL_IN).to_string()
            }
        })
    };
    let primary = Signal::derive(move || render(Role::Primary));
    let secondary = Signal::derive(move || render(Role::Secondary));
    let pcs = Signal::derive(move || params.with(|p| pacemaker(p.vip, p.subnet, &p.interface)));
    let text_field = move |label: Msg,
                           id: &'static str,
                           get: fn(&KeepalivedParams) -> String,
                           set: fn(&mut KeepalivedParams, String)| {
        view! {
            <label for=id>{move || t(label)}</label>
            <input id=id type="text" value=move || params.with(get) prop:value=move || params.with(get) on:input=move |ev| params.update(|p| set(p, event_target_value(&ev)))/>
        }
    };
    let preemptive = move || matches!(params.get().preemption, Preemption::Preemptive { .. });
    let set_delay = move |text: String| {
        delay.set(text.clone());
        let d = text.trim().parse::<u16>().ok();
        params.update(|p| p.preemption = Preemption::Preemptive { delay_s: d });
    };
    view! {
        <section class="card" id="ha-config">
            <h2>{tr!(detail::HA_TITLE)}</h2>
            <div class="form ha-form">
                {text_field(m::detail::HA_INTERFACE, "ha-interface", |p| p.interface.clone(), |p, v| p.interface = v)}
                {text_field(m::detail::HA_PRIMARY_IP, "ha-primary", |p| p.primary_ip.clone(), |p, v| p.primary_ip = v)}
                {host_picker("ha-primary-pick", hosts, move |ip| params.update(|p| p.primary_ip = ip))}
                {text_field(m::detail::HA_SECONDARY_IP, "ha-secondary", |p| p.secondary_ip.clone(), |p, v| p.secondary_ip = v)}
                {host_picker("ha-secondary-pick", hosts, move |ip| params.update(|p| p.secondary_ip = ip))}
                {text_field(m::detail::HA_ROUTER_ID, "ha-router-id", |p| p.router_id.to_string(), move |p, v| p.router_id = v.trim().parse().unwrap_or(0))}
                {text_field(m::detail::HA_PRIMARY_PRIORITY, "ha-prio1", |p| p.primary_priority.to_string(), move |p, v| p.primary_priority = v.trim().parse().unwrap_or(0))}
                {text_field(m::detail::HA_SECONDARY_PRIORITY, "ha-prio2", |p| p.secondary_priority.to_string(), move |p, v| p.secondary_priority = v.trim().parse().unwrap_or(0))}
                {text_field(m::detail::HA_ADVERT_INT, "ha-advert", |p| p.advert_int.to_string(), move |p, v| p.advert_int = v.trim().parse().unwrap_or(0))}
                {text_field(m::detail::HA_AUTH_PASS, "ha-pass", |p| p.auth_pass.clone(), |p, v| p.auth_pass = v)}
                {text_field(m::detail::HA_GARP_REFRESH, "ha-refresh", |p| p.garp_master_refresh.map(|s| s.to_string()).unwrap_or_default(), |p, v| p.garp_master_refresh = if v.trim().is_empty() { None } else { Some(v.trim().parse().unwrap_or(0)) })}
                <span class="label">{tr!(detail::HA_MODE)}</span>
                <div>
                    <div class="radios">
                        <input type="radio" id="ha-nopreempt" name="ha-mode" checked=move || !preemptive() prop:checked=move || !preemptive() on:change=move |_| params.update(|p| p.preemption = Preemption::NonPreemptive)/>
                        <label for="ha-nopreempt">{tr!(detail::HA_NON_PREEMPTIVE)}</label>
                        <input type="radio" id="ha-preempt" name="ha-mode" checked=preemptive prop:checked=preemptive on:change=move |_| set_delay(delay.get_untracked())/>
                        <label for="ha-preempt">{tr!(detail::HA_PREEMPTIVE)}</label>
                        <Show when=preemptive>
                            <input id="ha-delay" type="text" placeholder=tr!(detail::HA_DELAY_PLACEHOLDER) prop:value=move || delay.get() on:input=move |ev| set_delay(event_target_value(&ev))/>
                        </Show>
                    </div>
                    <p class="hint" id="ha-mode-explained">{move || t(params.get().preemption.explain())}</p>
                </div>
                <span class="label">{tr!(detail::HA_VIRTUAL_MAC)}</span>
                <div>
                    <div class="radios">
                        <input type="checkbox" id="ha-vmac" prop:checked=move || params.get().use_vmac on:change=move |ev| params.update(|p| p.use_vmac = event_target_checked(&ev))/>
                        <label for="ha-vmac">{tr!(detail::HA_USE_VMAC)}</label>
                    </div>
                    {move || params.get().vmac_explain_text().map(|text| view! { <p class="hint" id="ha-vmac-explained">{move || tf(text.clone())}</p> })}
                </div>
            </div>
            <Show when=move || !errors.get().is_empty()>
                <p class="field-error" id="ha-errors" role="alert">{error_text}</p>
            </Show>
            <ConfigBlock title=m::detail::HA_ON_PRIMARY id="keepalived-primary" text=primary/>
            <ConfigBlock title=m::detail::HA_ON_SECONDARY id="keepalived-secondary" text=secondary/>
            <ConfigBlock title=m::detail::HA_PACEMAKER id="pacemaker" text=pcs/>
        </section>
    }
}
