//! `/havip/<id>`: the binding view, the history timeline, the allowed holders and the HA
//! configuration panel, all server-rendered. The binding and the allowed holders follow live
//! changes in place; the configuration panel is built once per HAVIP, so what is typed in it
//! survives live changes and history paging.

use crate::api::eips::UnbindHavipEip;
use crate::api::havips::{havip_detail, havip_history};
use crate::api::live::{Interest, Topic};
use crate::domain::binding::{Change, Status};
use crate::domain::ids::HavipId;
use crate::domain::mac::Mac;
use crate::domain::model::HistoryEvent;
use crate::domain::pages::{
    holder_instance, macs_text, virtual_mac_note, HavipDetailData, HistoryPage, HISTORY_PAGE,
};
use crate::i18n::{m, Msg, Text};
use crate::tr;
use crate::ui::allowed_holders::AllowedHoldersCard;
use crate::ui::components::{refusal, status_class, unauthorized_tags, unwatched_tag, FieldError};
use crate::ui::dialogs::BindEipDialog;
use crate::ui::ha_config::HaConfigPanel;
use crate::ui::lang::{lang, t, te, tf};
use crate::ui::live::{page_data, PageData, Watch};
use crate::ui::loading::loaded;
use crate::ui::zone::{local_time, Time};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

type Detail = PageData<Result<HavipId, String>, HavipDetailData>;

#[component]
pub fn HavipDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    // the id in the URL; one of the wrong form is shown as the server's refusal of it
    let id = Memo::new(move |_| {
        let text = params.read().get("id").unwrap_or_default();
        HavipId::parse(&text).map_err(|e| e.to_string())
    });
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let detail: Detail = page_data(
        move || id.get(),
        |id| async move {
            match id {
                Ok(id) => havip_detail(id).await,
                Err(e) => Err(crate::domain::error::ApiError::malformed(e)),
            }
        },
        Watch::reload(|id, _| {
            let topics = [
                Topic::Havips,
                Topic::Instances,
                Topic::Agents,
                Topic::Network,
            ];
            Interest::new(&topics).of_havip(id.clone().ok())
        }),
    );
    let history = page_data(
        move || (id.get(), page.get()),
        |(id, page)| async move {
            match id {
                Ok(id) => havip_history(id, page).await,
                Err(e) => Err(crate::domain::error::ApiError::malformed(e)),
            }
        },
        Watch::reload(|(id, _): &(Result<HavipId, String>, u32), _| {
            Interest::new(&[Topic::Havips]).of_havip(id.clone().ok())
        }),
    );
    // (HAVIP id, label) while the Bind EIP dialog is open
    let bind_eip = RwSignal::new(None::<(HavipId, String)>);
    let unbind = ServerAction::<UnbindHavipEip>::new();

    view! {
        {loaded(detail.first, || view! { <p class="loading">{tr!(detail::LOADING)}</p> }, move |result| {
            match result {
                Ok(first) => binding_view(first, detail, bind_eip, unbind).into_any(),
                Err(e) => view! { <p class="error" role="alert">{move || te(&e)}</p> <A href="/">{tr!(detail::BACK_TO_LIST)}</A> }.into_any(),
            }
        })}
        <FieldError message=refusal(unbind) id="detail-error"/>
        {loaded(history.first, || (), move |result| {
            result.ok().map(|first| history_view(id.get_untracked(), first.page, history))
        })}
        {loaded(detail.first, || (), move |result| {
            result.ok().map(|first| {
                // memos: a binding change (most live changes) leaves these parts untouched
                let instances = Memo::new(move |_| detail.with(|d| d.instances.clone()));
                let allowed = Memo::new(move |_| detail.with(|d| d.allowed.clone()));
                let hosts = Memo::new(move |_| detail.with(|d| {
                    d.instances.iter().map(|i| (i.name.clone(), i.ip)).collect::<Vec<_>>()
                }));
                view! {
                    <AllowedHoldersCard havip_id=first.row.id.clone() instances allowed/>
                    <HaConfigPanel vip=first.row.ip subnet=first.row.subnet_cidr auth_pass=first.auth_pass.clone() hosts/>
                }
            })
        })}
        {move || bind_eip.get().map(|(havip_id, label)| {
            let on_close = Callback::new(move |()| bind_eip.set(None));
            view! { <BindEipDialog havip_id label on_close/> }
        })}
    }
}

fn binding_view(
    first: HavipDetailData,
    detail: Detail,
    bind_eip: RwSignal<Option<(HavipId, String)>>,
    unbind: ServerAction<UnbindHavipEip>,
) -> impl IntoView {
    let id = first.row.id.clone();
    let fact = move |part: fn(&HavipDetailData) -> String| move || detail.with(part);
    let status = Memo::new(move |_| detail.with(|d| Some(d.row.status.clone())));
    let has_eip = move || detail.with(|d| d.row.eip.is_some());
    let eip_button = {
        let (unbind_id, bind_id) = (id.clone(), id.clone());
        view! {
            <Show
                when=has_eip
                fallback=move || {
                    let bind_id = bind_id.clone();
                    view! { <button class="link" on:click=move |_| {
                        let label = detail.with(|d| format!("{} ({})", d.row.name, d.row.ip));
                        bind_eip.set(Some((bind_id.clone(), label)));
                    }>{tr!(detail::BIND_EIP)}</button> }
                }
            >
                {
                    let havip_id = unbind_id.clone();
                    view! { <button class="link" on:click=move |_| { unbind.dispatch(UnbindHavipEip { havip_id: havip_id.clone() }); }>{tr!(detail::UNBIND_EIP)}</button> }
                }
            </Show>
        }
    };
    view! {
        <div class="page-head">
            <h1><A href=format!("/?region={}", first.region_id)>{tr!(detail::HAVIP)}</A> " / " {fact(|d| d.row.name.clone())}</h1>
        </div>
        <section class="card" id="binding">
            <h2>{tr!(detail::BINDING)}</h2>
            <dl class="facts">
                <dt>{tr!(detail::ID)}</dt><dd class="id">{id.to_string()}</dd>
                <dt>{tr!(detail::STATUS)}</dt><dd>
                    <span class=move || status.with(|s| s.as_ref().map_or("tag", status_class)) data-testid="status">{move || status.with(|s| s.as_ref().map(|s| t(status_label(s))))}</span>
                    " " {move || detail.with(|d| Some(unwatched_tag(d.row.watched)))}
                </dd>
                <dt>{tr!(detail::IP_ADDRESS)}</dt><dd class="ip">{first.row.ip.to_string()}</dd>
                <dt>{tr!(detail::HOLDER_MAC)}</dt><dd>
                    <span data-testid="holder">{fact(|d| macs_text(&d.row.status))}</span>
                    {move || detail.with(|d| virtual_mac_note(&d.row.status).map(|note| view! {
                        <span class="tag vmac" data-testid="virtual-mac" title=tr!(detail::VIRTUAL_MAC_TITLE)>{note}</span>
                    }))}
                </dd>
                <dt>{tr!(detail::HOLDER_INSTANCE)}</dt><dd data-testid="holder-instance">{fact(|d| holder_instance(&d.names(), &d.row.status))}</dd>
                <dt>{tr!(detail::UNAUTHORIZED_CLAIMS)}</dt><dd data-testid="unauthorized-claims">
                    {move || detail.with(|d| {
                        let claims = d.row.unauthorized.clone();
                        Some(if claims.is_empty() { "-".into_any() } else { unauthorized_tags(claims).into_any() })
                    })}
                </dd>
                <dt>{tr!(detail::HOLDER_SINCE)}</dt><dd>{fact(|d| d.binding.holder.map(|h| local_time(h.since)).unwrap_or_else(|| "-".into()))}</dd>
                <dt>{tr!(detail::LAST_SEEN)}</dt><dd>{fact(|d| d.binding.holder.map(|h| local_time(h.last_seen)).unwrap_or_else(|| "-".into()))}</dd>
                <dt>{tr!(detail::REPORTED_BY)}</dt><dd>{fact(|d| d.last_agent.clone().unwrap_or_else(|| "-".into()))}</dd>
                <dt>"VRRP"</dt><dd id="vrrp">{move || detail.with(|d| Some(d.vrrp.clone())).map(vrrp_view)}</dd>
                <dt>{tr!(detail::EIP)}</dt><dd>
                    <span data-testid="eip">{fact(|d| d.row.eip.map(|e| e.to_string()).unwrap_or_else(|| "-".into()))}</span>
                    " "
                    <span class="needs-operator">{eip_button}</span>
                </dd>
                <dt>{tr!(detail::VPC)}</dt><dd>{format!("{} ({})", first.row.vpc_name, first.row.vpc_id)}</dd>
                <dt>{tr!(detail::SUBNET)}</dt><dd>{format!("{} ({}, {})", first.row.subnet_name, first.row.subnet_id, first.row.subnet_cidr)}</dd>
                <dt>{tr!(detail::CREATED)}</dt><dd><Time ms=first.row.created/></dd>
            </dl>
        </section>
        {move || detail.with(|d| Some(crate::ui::timeline::availability_card(&d.timelines, &d.names())))}
    }
}

fn history_view(
    id: Result<HavipId, String>,
    page: u32,
    history: PageData<impl Send + Sync + 'static, HistoryPage>,
) -> AnyView {
    let base = id
        .map(|id| format!("/havip/{id}?page="))
        .unwrap_or_default();
    let newer = StoredValue::new(format!("{base}{}", page.saturating_sub(1)));
    let older = StoredValue::new(format!("{base}{}", page + 1));
    let events = Memo::new(move |_| history.with(|h| h.events.clone()));
    let total = move || history.with(|h| h.total);
    let pages = move || total().div_ceil(HISTORY_PAGE).max(1);
    view! {
        <section class="card" id="history">
            <h2>{tr!(detail::HISTORY)} <span class="count">{move || tf(Text::new(m::detail::HISTORY_COUNT).arg("count", total()))}</span></h2>
            <Show
                when=move || !events.with(Vec::is_empty)
                fallback=|| view! { <p class="empty">{tr!(detail::HISTORY_EMPTY)}</p> }
            >
                <ol class="timeline">
                    {move || history.with(|h| h.events.iter().map(|(e, _)| event_view(e.clone(), &h.labels)).collect_view())}
                </ol>
            </Show>
            <Show when=move || { pages() > 1 }>
                <nav class="pager">
                    {(page > 0).then(|| view! { <A href=newer.get_value()>{tr!(detail::NEWER)}</A> })}
                    <span>{move || tf(Text::new(m::detail::PAGE_OF).arg("page", page + 1).arg("pages", pages()))}</span>
                    <Show when=move || { page + 1 < pages() }>
                        <A href=older.get_value()>{tr!(detail::OLDER)}</A>
                    </Show>
                </nav>
            </Show>
        </section>
    }
    .into_any()
}

fn event_view(e: HistoryEvent, labels: &[(Mac, String)]) -> impl IntoView {
    // the sentence with its MACs named, said in the page's language
    let label = |mac: Mac| {
        (labels.iter().find(|(m, _)| *m == mac))
            .map_or_else(|| mac.to_string(), |(_, name)| name.clone())
    };
    let what = e.change.text_with(label);
    let kind = match e.change {
        Change::Conflict { .. } | Change::Unauthorized { .. } => "conflict",
        Change::Lost { .. } => "lost",
        _ => "ok",
    };
    let (cause, cause_text, agent) = (e.cause, e.cause_text, e.agent);
    // in the reader's language where it has a code (events recorded since causes have codes)
    let cause = move || match &cause_text {
        Some(coded) => coded.in_lang(lang(), &cause),
        None => cause.clone(),
    };
    let by = move || {
        if agent.is_empty() {
            String::new()
        } else {
            tf(Text::new(m::detail::BY_AGENT).arg("agent", &agent))
        }
    };
    view! {
        <li class=kind>
            <Time ms=e.at/>
            <strong>{move || tf(what.clone())}</strong>
            <span class="cause">{move || format!("{}{}", cause(), by())}</span>
        </li>
    }
}

/// What the agent hears of the HAVIP's VRRP routers: per router its priority and whether it
/// keeps advertising (says it is master); two masters are a split brain. Nothing heard: the
/// adverts go by unicast, which only the peer receives.
fn vrrp_view(vrrp: Option<crate::domain::pages::VrrpView>) -> AnyView {
    let Some(vrrp) = vrrp else {
        return view! {
            <span class="muted" data-testid="vrrp-none">{tr!(detail::VRRP_NONE)}</span>
        }
        .into_any();
    };
    let masters = vrrp.routers.iter().filter(|r| r.master).count();
    view! {
        <span data-testid="vrrp-vrid">{format!("VRID {}", vrrp.vrid)}</span>
        {vrrp.split_brain.then(|| view! {
            " " <span class="tag conflict" data-testid="vrrp-split-brain">{move || tf(Text::new(m::detail::VRRP_SPLIT_BRAIN).arg("count", masters))}</span>
        })}
        <table class="list compact" id="vrrp-routers">
            <thead><tr>
                <th>{tr!(detail::VRRP_ROUTER)}</th>
                <th>{tr!(detail::VRRP_ADVERTS_FROM)}</th>
                <th>{tr!(detail::VRRP_PRIORITY)}</th>
                <th>{tr!(detail::VRRP_STATE)}</th>
                <th>{tr!(detail::VRRP_LAST_ADVERT)}</th>
            </tr></thead>
            <tbody>
                {vrrp.routers.into_iter().map(|r| view! {
                    <tr data-router=r.ip.to_string()>
                        <td class="ip">{r.ip.to_string()}</td>
                        <td>{r.sender}</td>
                        <td data-testid="priority">{r.priority}</td>
                        <td data-testid="state">{crate::ui::lang::follow(if r.master { m::detail::VRRP_MASTER } else { m::detail::VRRP_SILENT })}</td>
                        <td><Time ms=r.last_heard/></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A status as the page names it.
fn status_label(status: &Status) -> Msg {
    match status {
        Status::Unbound => m::detail::STATUS_UNBOUND,
        Status::Bound { .. } => m::detail::STATUS_BOUND,
        Status::Conflict { .. } => m::detail::STATUS_CONFLICT,
    }
}
