//! Agents: who may report ARP observations for which subnets. Tokens are shown once.

use crate::api::agents::{agents_page, AgentRow, CreateAgent, RevokeAgent};
use crate::domain::model::format_time;
use crate::ui::components::{refusal, FieldError};
use crate::ui::live::use_live;
use leptos::prelude::*;

/// Revoked, connected (since when) or offline (since when, if seen since the console started).
fn agent_state(row: &AgentRow) -> impl IntoView {
    let (class, text) = match (row.agent.revoked, row.connected, row.since) {
        (true, _, _) => ("tag conflict", "Revoked".to_string()),
        (false, true, Some(t)) => ("tag bound", format!("Connected since {}", format_time(t))),
        (false, _, Some(t)) => ("tag unbound", format!("Offline since {}", format_time(t))),
        (false, _, None) => ("tag unbound", "Offline".to_string()),
    };
    view! { <span class=class>{text}</span> }
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    let live = use_live();
    let reload = RwSignal::new(0u64);
    let page = Resource::new(move || (live.tick.get(), reload.get()), |_| agents_page());
    let create = ServerAction::<CreateAgent>::new();
    let revoke = ServerAction::<RevokeAgent>::new();
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if create.value().with(|v| matches!(v, Some(Ok(_))))
            || revoke.value().with(|v| matches!(v, Some(Ok(_))))
        {
            reload.update(|n| *n += 1);
        }
    });
    let created = move || create.value().get().and_then(Result::ok);
    let error = refusal(create);
    let toggle = move |id: String| {
        chosen.update(|c| {
            if let Some(i) = c.iter().position(|x| *x == id) {
                c.remove(i);
            } else {
                c.push(id);
            }
        })
    };

    view! {
        <div class="page-head"><h1>"Agents"</h1></div>
        <p class="hint">
            "An agent runs on a host in the HAVIPs' L2 segment (" <code>"havip agent --interface eth0 --server URL --token TOKEN"</code>
            "), listens to ARP and probes each HAVIP, so the console knows which instance holds it."
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => {
                        let subnets = data.subnets.clone();
                        view! {
                            <table class="list" id="agent-table">
                                <thead><tr><th>"ID/Name"</th><th>"Subnets"</th><th>"Created"</th><th>"State"</th><th>"Operation"</th></tr></thead>
                                <tbody>
                                    {data.agents.into_iter().map(|row| {
                                        let state = agent_state(&row);
                                        let a = row.agent;
                                        let id = a.id.clone();
                                        let labels: Vec<String> = a.subnet_ids.iter().map(|s| subnets.iter().find(|c| &c.id == s).map(|c| c.label.clone()).unwrap_or_else(|| s.clone())).collect();
                                        view! {
                                            <tr data-id=a.id.clone()>
                                                <td><div class="id">{a.id.clone()}</div><div class="name">{a.name.clone()}</div></td>
                                                <td>{labels.join("; ")}</td>
                                                <td>{format_time(a.created)}</td>
                                                <td data-testid="agent-state">{state}</td>
                                                <td>
                                                    <Show when=move || !a.revoked>
                                                        <button class="link danger" on:click={ let id = id.clone(); move |_| { revoke.dispatch(RevokeAgent { id: id.clone() }); } }>"Revoke"</button>
                                                    </Show>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <section class="card" id="new-agent">
                                <h2>"New agent"</h2>
                                <label for="agent-name">"Name"</label>
                                <input id="agent-name" type="text" bind:value=name/>
                                <span class="label">"Reports for subnets"</span>
                                {data.subnets.into_iter().map(|s| {
                                    let id = s.id.clone();
                                    let checked = { let id = id.clone(); move || chosen.with(|c| c.contains(&id)) };
                                    view! {
                                        <label class="check">
                                            <input type="checkbox" prop:checked=checked on:change=move |_| toggle(id.clone())/>
                                            {s.label}
                                        </label>
                                    }
                                }).collect_view()}
                                <FieldError message=error id="agent-error"/>
                                <button id="create-agent" class="primary" on:click=move |_| {
                                    create.dispatch(CreateAgent { name: name.get_untracked(), subnet_ids: chosen.get_untracked().join(",") });
                                }>"Create agent"</button>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
        <Show when=move || created().is_some()>
            <div class="card token" id="agent-token-card">
                <h2>"Token for " {move || created().map(|c| c.agent.name).unwrap_or_default()}</h2>
                <p>"Copy it now: only its hash is stored, it cannot be shown again."</p>
                <code id="agent-token">{move || created().map(|c| c.token).unwrap_or_default()}</code>
            </div>
        </Show>
    }
}
