//! `/havip/<id>`: the binding view, the history timeline and the HA configuration panel.

use crate::api::eips::UnbindHavipEip;
use crate::api::havips::havip_detail;
use crate::domain::binding::{Change, Status};
use crate::domain::model::{format_time, HavipDetailData, HistoryEvent, Instance, HISTORY_PAGE};
use crate::ui::allowed_holders::AllowedHoldersCard;
use crate::ui::components::{status_class, unauthorized_tags, unwatched_tag};
use crate::ui::dialogs::BindEipDialog;
use crate::ui::ha_config::HaConfigPanel;
use crate::ui::live::use_live;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn HavipDetailPage() -> impl IntoView {
    let live = use_live();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let detail = Resource::new(
        move || (id.get(), page.get(), live.tick.get()),
        |(id, page, _)| havip_detail(id, page),
    );
    // the configuration panel must not be rebuilt by live reloads: it keeps what was typed
    // (it follows the loaded data through an effect, which runs only in the browser)
    let target = RwSignal::new(None);
    let instances = RwSignal::new(Vec::<Instance>::new());
    let allowed = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            if target.get_untracked() != Some((d.row.ip, d.row.subnet_cidr)) {
                target.set(Some((d.row.ip, d.row.subnet_cidr)));
            }
            if instances.get_untracked() != d.instances {
                instances.set(d.instances);
            }
            if allowed.get_untracked() != d.allowed {
                allowed.set(d.allowed);
            }
        }
    });
    let hosts = Signal::derive(move || {
        instances.with(|list| {
            list.iter()
                .map(|i| (i.name.clone(), i.ip))
                .collect::<Vec<_>>()
        })
    });

    // (HAVIP id, label) while the Bind EIP dialog is open
    let bind_eip = RwSignal::new(None::<(String, String)>);

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => detail_view(d, bind_eip).into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> <A href="/">"Back to the list"</A> }.into_any(),
                }
            })}
        </Transition>
        {move || bind_eip.get().map(|(havip_id, label)| {
            let on_close = Callback::new(move |_| bind_eip.set(None));
            view! { <BindEipDialog havip_id label on_close/> }
        })}
        <Show when=move || target.get().is_some()>
            <AllowedHoldersCard havip_id=id instances allowed/>
        </Show>
        {move || target.get().map(|(vip, subnet)| view! { <HaConfigPanel vip subnet hosts/> })}
    }
}

fn detail_view(d: HavipDetailData, bind_eip: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let history: Vec<(HistoryEvent, String)> = d
        .history
        .iter()
        .map(|e| (e.clone(), e.change.describe_with(|m| d.mac_label(m))))
        .collect();
    let holder_instance = match &d.row.status {
        Status::Bound { mac, .. } => d.instances.iter().find(|i| i.mac == *mac).map_or_else(
            || "Not a registered instance".to_string(),
            |i| format!("{} ({}, {})", i.name, i.id, i.eni_id),
        ),
        _ => "-".to_string(),
    };
    let HavipDetailData {
        row,
        region_id,
        binding,
        last_agent,
        history_total,
        history_page,
        ..
    } = d;
    let status = row.status.clone();
    let holder = binding.holder;
    let eip_button = {
        let (id, label) = (row.id.clone(), format!("{} ({})", row.name, row.ip));
        if row.eip.is_some() {
            let unbind = ServerAction::<UnbindHavipEip>::new();
            view! { <button class="link" on:click=move |_| { unbind.dispatch(UnbindHavipEip { havip_id: id.clone() }); }>"Unbind EIP"</button> }.into_any()
        } else {
            view! { <button class="link" on:click=move |_| bind_eip.set(Some((id.clone(), label.clone())))>"Bind EIP"</button> }.into_any()
        }
    };
    let id = row.id.clone();
    let newer = format!("/havip/{id}?page={}", history_page.saturating_sub(1));
    let older = format!("/havip/{id}?page={}", history_page + 1);
    view! {
        <div class="page-head">
            <h1><A href=format!("/?region={region_id}")>"HAVIP"</A> " / " {row.name.clone()}</h1>
        </div>
        <section class="card" id="binding">
            <h2>"Binding"</h2>
            <dl class="facts">
                <dt>"ID"</dt><dd class="id">{row.id.clone()}</dd>
                <dt>"Status"</dt><dd><span class=status_class(&status) data-testid="status">{status.label()}</span> {unwatched_tag(row.watched)}</dd>
                <dt>"IP address"</dt><dd class="ip">{row.ip.to_string()}</dd>
                <dt>"Holder MAC"</dt><dd data-testid="holder">{match &status {
                    Status::Unbound => "-".to_string(),
                    Status::Bound { mac, .. } => mac.to_string(),
                    Status::Conflict { macs } => macs.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "),
                }}</dd>
                <dt>"Holder instance"</dt><dd data-testid="holder-instance">{holder_instance}</dd>
                <dt>"Unauthorized claims"</dt><dd data-testid="unauthorized-claims">
                    {if row.unauthorized.is_empty() { Some("-") } else { None }}
                    {unauthorized_tags(row.unauthorized.clone())}
                </dd>
                <dt>"Holder since"</dt><dd>{holder.map(|h| format_time(h.since)).unwrap_or_else(|| "-".into())}</dd>
                <dt>"Last seen"</dt><dd>{holder.map(|h| format_time(h.last_seen)).unwrap_or_else(|| "-".into())}</dd>
                <dt>"Reported by"</dt><dd>{last_agent.unwrap_or_else(|| "-".into())}</dd>
                <dt>"EIP"</dt><dd>
                    <span data-testid="eip">{row.eip.map(|e| e.to_string()).unwrap_or_else(|| "-".into())}</span>
                    " "
                    {eip_button}
                </dd>
                <dt>"VPC"</dt><dd>{format!("{} ({})", row.vpc_name, row.vpc_id)}</dd>
                <dt>"Subnet"</dt><dd>{format!("{} ({}, {})", row.subnet_name, row.subnet_id, row.subnet_cidr)}</dd>
                <dt>"Created"</dt><dd>{format_time(row.created)}</dd>
            </dl>
        </section>
        {history_view(history, history_total, history_page, newer, older)}
    }
}

fn history_view(
    history: Vec<(HistoryEvent, String)>,
    history_total: u32,
    history_page: u32,
    newer: String,
    older: String,
) -> AnyView {
    let pages = history_total.div_ceil(HISTORY_PAGE).max(1);
    view! {
        <section class="card" id="history">
            <h2>"History " <span class="count">{format!("({history_total} changes)")}</span></h2>
            {if history.is_empty() {
                view! { <p class="empty">"No holder change yet. Configure the HA software and run an agent on the segment."</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline">
                        {history.into_iter().map(|(e, what)| {
                            let kind = match e.change {
                                Change::Conflict { .. } | Change::Unauthorized { .. } => "conflict",
                                Change::Lost { .. } => "lost",
                                _ => "ok",
                            };
                            let by = if e.agent.is_empty() { String::new() } else { format!(" · agent {}", e.agent) };
                            view! {
                                <li class=kind>
                                    <time>{format_time(e.at)}</time>
                                    <strong>{what}</strong>
                                    <span class="cause">{format!("{}{by}", e.cause)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            {(pages > 1).then(|| view! {
                <nav class="pager">
                    {(history_page > 0).then(|| view! { <A href=newer>"Newer"</A> })}
                    <span>{format!("Page {} of {pages}", history_page + 1)}</span>
                    {(history_page + 1 < pages).then(|| view! { <A href=older>"Older"</A> })}
                </nav>
            })}
        </section>
    }
    .into_any()
}
