//! Agents: who may report ARP observations for which subnets. Tokens are shown once.

use crate::api::agents::{agents_page, CreateAgent, RevokeAgent};
use crate::api::live::{Interest, Topic};
use crate::domain::ids::SubnetId;
use crate::domain::pages::{AgentRow, SubnetChoice};
use crate::i18n::{m, Msg, Text};
use crate::tr;
use crate::ui::components::{on_success, refusal, refusals, FieldError};
use crate::ui::lang::{t, tf};
use crate::ui::live::{page_data, Watch};
use crate::ui::loading::page_view;
use crate::ui::zone::{local_time, Time};
use leptos::prelude::*;

/// Revoked, connected (since when) or offline (since when, if seen since the console started).
fn agent_state(row: &AgentRow) -> impl IntoView {
    let state = (row.agent.revoked, row.connected, row.since);
    let class = match state {
        (true, _, _) => "tag conflict",
        (false, true, Some(_)) => "tag bound",
        (false, _, _) => "tag unbound",
    };
    let since = |msg: Msg, at: u64| tf(Text::new(msg).arg("time", local_time(at)));
    let text = move || match state {
        (true, _, _) => t(m::agents::REVOKED).to_string(),
        (false, true, Some(at)) => since(m::agents::CONNECTED_SINCE, at),
        (false, _, Some(at)) => since(m::agents::OFFLINE_SINCE, at),
        (false, _, None) => t(m::agents::OFFLINE).to_string(),
    };
    view! { <span class=class>{text}</span> }
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    let data = page_data(
        || (),
        |()| agents_page(),
        Watch::reload(|_, _| Interest::new(&[Topic::Agents, Topic::Network])),
    );
    let create = ServerAction::<CreateAgent>::new();
    let revoke = ServerAction::<RevokeAgent>::new();
    let created = move || create.value().get().and_then(Result::ok);
    let error = refusals(vec![refusal(create), refusal(revoke)]);
    let rows = Memo::new(move |_| data.with(|d| d.agents.clone()));
    let subnets = Memo::new(move |_| data.with(|d| d.subnets.clone()));

    view! {
        <div class="page-head"><h1>{tr!(agents::TITLE)}</h1></div>
        <p class="hint">
            {tr!(agents::HINT_BEFORE)} <code>"havip agent --interface eth0 --server URL --token TOKEN"</code>
            {tr!(agents::HINT_AFTER)}
        </p>
        {page_view(data.first, move |_| view! {
            <table class="list" id="agent-table">
                <thead><tr><th>{tr!(agents::ID_NAME)}</th><th>{tr!(agents::SUBNETS)}</th><th>{tr!(agents::CREATED)}</th><th>{tr!(agents::STATE)}</th><th>{tr!(agents::OPERATION)}</th></tr></thead>
                <tbody>
                    {move || rows.get().into_iter().map(|row| agent_row(row, &subnets.read(), revoke)).collect_view()}
                </tbody>
            </table>
            <NewAgentForm subnets create/>
        }.into_any())}
        <FieldError message=error id="agent-error"/>
        <Show when=move || created().is_some()>
            <div class="card token" id="agent-token-card">
                <h2>{move || tf(Text::new(m::agents::TOKEN_FOR).arg("name", created().map(|c| c.agent.name).unwrap_or_default()))}</h2>
                <p>{tr!(agents::TOKEN_ONCE)}</p>
                <code id="agent-token">{move || created().map(|c| c.token).unwrap_or_default()}</code>
            </div>
        </Show>
    }
}

fn agent_row(
    row: AgentRow,
    subnets: &[SubnetChoice],
    revoke: ServerAction<RevokeAgent>,
) -> impl IntoView {
    let state = agent_state(&row);
    let a = row.agent;
    let labels: Vec<String> = a
        .subnet_ids
        .iter()
        .map(|s| {
            subnets
                .iter()
                .find(|c| &c.id == s)
                .map_or_else(|| s.to_string(), |c| c.label.clone())
        })
        .collect();
    let id = a.id.clone();
    view! {
        <tr data-id=a.id.to_string()>
            <td><div class="id">{a.id.to_string()}</div><div class="name">{a.name.clone()}</div></td>
            <td>{labels.join("; ")}</td>
            <td><Time ms=a.created/></td>
            <td data-testid="agent-state">{state}</td>
            <td class="needs-admin">
                {(!a.revoked).then(|| view! {
                    <button class="link danger" on:click=move |_| { revoke.dispatch(RevokeAgent { id: id.clone() }); }>{tr!(agents::REVOKE)}</button>
                })}
            </td>
        </tr>
    }
}

/// Name and subnets of a new agent; kept while live changes arrive.
#[component]
fn NewAgentForm(
    subnets: Memo<Vec<SubnetChoice>>,
    create: ServerAction<CreateAgent>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<SubnetId>::new());
    on_success(create, move || {
        name.set(String::new());
        chosen.set(vec![]);
    });
    let toggle = move |id: SubnetId| {
        chosen.update(|c| {
            if let Some(i) = c.iter().position(|x| *x == id) {
                c.remove(i);
            } else {
                c.push(id);
            }
        })
    };
    view! {
        <section class="card needs-admin" id="new-agent">
            <h2>{tr!(agents::NEW_AGENT)}</h2>
            <label for="agent-name">{tr!(agents::NAME)}</label>
            <input id="agent-name" type="text" bind:value=name/>
            <span class="label">{tr!(agents::REPORTS_FOR)}</span>
            {move || subnets.get().into_iter().map(|s| {
                let id = s.id.clone();
                let checked = { let id = id.clone(); move || chosen.with(|c| c.contains(&id)) };
                view! {
                    <label class="check">
                        <input type="checkbox" checked=checked.clone() prop:checked=checked on:change=move |_| toggle(id.clone())/>
                        {s.label}
                    </label>
                }
            }).collect_view()}
            <button id="create-agent" class="primary" on:click=move |_| {
                create.dispatch(CreateAgent { name: name.get_untracked(), subnet_ids: chosen.get_untracked() });
            }>{tr!(agents::CREATE_AGENT)}</button>
        </section>
    }
}
