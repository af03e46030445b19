//! HAVIP management page: region selector, Apply, the list with rename and delete.

use crate::api::eips::UnbindHavipEip;
use crate::api::havips::havip_page;
use crate::api::live::{Interest, Topic};
use crate::domain::ids::{HavipId, RegionId};
use crate::domain::list_changes;
use crate::domain::listing::{Counters, ListQuery, PAGE_SIZE};
use crate::domain::model::MacNames;
use crate::domain::pages::{HavipListData, HavipRow};
use crate::domain::timeline::Timeline;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{encode, refusal, region_query, FieldError, RegionSelect};
use crate::ui::components::{status_class, unauthorized_tags, unwatched_tag};
use crate::ui::dialogs::{
    with_bold, ApplyDialog, BindEipDialog, ConfirmDeleteDialog, RenameDialog,
};
use crate::ui::lang::{follow, t, tf};
use crate::ui::live::{page_data, use_live, PageData, Watch};
use crate::ui::loading::page_view;
use crate::ui::timeline::strip;
use crate::ui::zone::Time;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

#[derive(Clone, PartialEq)]
enum Dialog {
    None,
    Apply,
    Rename { id: HavipId, name: String },
    Delete { id: HavipId, label: String },
    BindEip { id: HavipId, label: String },
}

type ListData = PageData<(Option<RegionId>, ListQuery), HavipListData>;

#[component]
pub fn HavipListPage() -> impl IntoView {
    let region = region_query();
    let url = use_query_map();
    let query = Memo::new(move |_| {
        url.with(|m| {
            let get = |k: &str| m.get(k).unwrap_or_default();
            ListQuery {
                q: get("q"),
                vpc: get("vpc"),
                subnet: get("subnet"),
                status: get("status"),
                sort: get("sort"),
                page: get("page").parse().unwrap_or(0),
            }
        })
    });
    let data: ListData = page_data(
        move || (region.get(), query.get()),
        |(region, query)| havip_page(region, query),
        Watch {
            interest: |(region, _), data| {
                let region = data.map(|d| d.region_id.clone()).or(region.clone());
                let topics = [
                    Topic::Havips,
                    Topic::Network,
                    Topic::Instances,
                    Topic::Agents,
                ];
                Interest::new(&topics).in_region(region)
            },
            // an HAVIP's change is applied to the rows in place
            apply: Some(|data, (_, query), change| list_changes::apply(data, query, change)),
        },
    );
    let dialog = RwSignal::new(Dialog::None);
    let close = Callback::new(move |()| dialog.set(Dialog::None));
    // one action for every row's "Unbind EIP", so its refusal has one place on the page
    let unbind = ServerAction::<UnbindHavipEip>::new();
    // the dialogs' chunks load in the background a second after the page is live (sooner, their
    // fetches and compiles delayed the page's going live by 80 ms), so a click finds them there
    let live = use_live().connected;
    Effect::new(move |scheduled: Option<bool>| {
        let now = scheduled.unwrap_or(false) || live.get();
        if now && scheduled != Some(true) {
            set_timeout(
                || {
                    lazy_preload!(dialog_view);
                },
                std::time::Duration::from_secs(1),
            );
        }
        now
    });

    view! {
        {page_view(data.first, move |first| list_view(first, data, query.get_untracked(), dialog, unbind).into_any())}
        <FieldError message=refusal(unbind) id="list-error"/>
        {move || match dialog.get() {
            Dialog::None => ().into_any(),
            open => Suspend::new(async move { dialog_view(open, data, close).await }).into_any(),
        }}
    }
}

/// The open dialog. Its code is a wasm chunk of its own (`#[lazy]`, `cargo leptos build
/// --split`), fetched once the list is live: the list is the first page, and its bundle leaves
/// out what only a click needs.
#[lazy]
fn dialog_view(dialog: Dialog, data: ListData, close: Callback<()>) -> AnyView {
    match dialog {
        Dialog::None => ().into_any(),
        Dialog::Apply => {
            // untracked: a live change must not rebuild the open dialog (and wipe its input)
            let Some(region_id) = data
                .current
                .with_untracked(|d| d.as_ref().map(|d| d.region_id.clone()))
            else {
                return ().into_any();
            };
            let networks = Memo::new(move |_| data.with(|d| d.networks.clone()));
            view! { <ApplyDialog region_id networks on_close=close/> }.into_any()
        }
        Dialog::Rename { id, name } => {
            view! { <RenameDialog id current=name on_close=close/> }.into_any()
        }
        Dialog::Delete { id, label } => {
            view! { <ConfirmDeleteDialog id label on_close=close/> }.into_any()
        }
        Dialog::BindEip { id, label } => {
            view! { <BindEipDialog havip_id=id label on_close=close/> }.into_any()
        }
    }
}

/// The list's URL for a region and query (empty parts left out).
fn list_url(region_id: &RegionId, q: &ListQuery) -> String {
    let mut parts = vec![format!("region={}", encode(region_id))];
    for (k, v) in [
        ("q", &q.q),
        ("vpc", &q.vpc),
        ("subnet", &q.subnet),
        ("status", &q.status),
        ("sort", &q.sort),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", encode(v)));
        }
    }
    if q.page > 0 {
        parts.push(format!("page={}", q.page));
    }
    format!("/?{}", parts.join("&"))
}

/// The page for one region and query. Built once per navigation from the first load; the
/// counters, rows and pager follow live changes in place (rows keyed by HAVIP id), so the
/// search box and the filters keep what the user is doing.
fn list_view(
    first: HavipListData,
    data: ListData,
    query: ListQuery,
    dialog: RwSignal<Dialog>,
    unbind: ServerAction<UnbindHavipEip>,
) -> impl IntoView {
    let HavipListData {
        region_id,
        networks,
        ..
    } = first;
    let navigate = use_navigate();
    type Go = std::rc::Rc<dyn Fn(&dyn Fn(&mut ListQuery))>;
    let go: Go = {
        let region_id = region_id.clone();
        let query = query.clone();
        std::rc::Rc::new(move |change: &dyn Fn(&mut ListQuery)| {
            let mut q = query.clone();
            q.page = 0;
            change(&mut q);
            navigate(&list_url(&region_id, &q), Default::default());
        })
    };
    // a control's change handler: sets one part of the query and navigates (back to page 1)
    let on = |go: &Go, set: fn(&mut ListQuery, String)| {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            go(&move |q: &mut ListQuery| set(q, value.clone()));
        }
    };
    let subnets: Vec<(String, String)> = networks
        .iter()
        .filter(|v| query.vpc.is_empty() || v.vpc.id == query.vpc)
        .flat_map(|v| {
            v.subnets.iter().map(|s| {
                (
                    s.subnet.id.to_string(),
                    format!("{} ({})", s.subnet.name, s.subnet.cidr),
                )
            })
        })
        .collect();
    let filtered = !query.q.is_empty()
        || !query.vpc.is_empty()
        || !query.subnet.is_empty()
        || !query.status.is_empty();
    let rows = Memo::new(move |_| data.with(|d| d.rows.clone()));
    let sparks = Memo::new(move |_| {
        data.with(|d| {
            (d.rows.iter().map(|r| r.id.clone()))
                .zip(d.sparks.iter().cloned())
                .collect::<std::collections::HashMap<_, _>>()
        })
    });
    let page = move || data.with(|d| d.page);
    let matching = move || data.with(|d| d.matching);
    let pages = move || (matching() as usize).div_ceil(PAGE_SIZE).max(1) as u32;
    let counter = move |pick: fn(&Counters) -> u32| move || data.with(|d| pick(&d.counters));
    let empty = move || rows.with(Vec::is_empty);
    let (prev, next) = {
        let go_prev = go.clone();
        let go_next = go.clone();
        (
            move |_: leptos::ev::MouseEvent| {
                let to = page().saturating_sub(1);
                go_prev(&move |q: &mut ListQuery| q.page = to)
            },
            move |_: leptos::ev::MouseEvent| {
                let to = page() + 1;
                go_next(&move |q: &mut ListQuery| q.page = to)
            },
        )
    };
    view! {
        <div class="page-head">
            <h1>{tr!(havips::TITLE)}</h1>
            <RegionSelect regions=Memo::new(move |_| data.with(|d| d.regions.clone())) current=region_id path="/"/>
            <button id="apply" class="primary needs-operator" on:click=move |_| dialog.set(Dialog::Apply)>{tr!(havips::APPLY)}</button>
        </div>
        <div class="counters" id="counters">
            <span>{tr!(havips::TOTAL)}" "<b data-testid="count-total">{counter(|c| c.total)}</b></span>
            <span class="tag bound">{tr!(status::BOUND)}" "<b data-testid="count-bound">{counter(|c| c.bound)}</b></span>
            <span class="tag unbound">{tr!(status::UNBOUND)}" "<b data-testid="count-unbound">{counter(|c| c.unbound)}</b></span>
            <span class="tag conflict">{tr!(status::CONFLICT)}" "<b data-testid="count-conflict">{counter(|c| c.conflict)}</b></span>
        </div>
        <div class="toolbar">
            <input id="search" type="search" placeholder=tr!(havips::SEARCH_PLACEHOLDER) aria-label=tr!(havips::SEARCH)
                value=query.q.clone() on:change=on(&go, |q, v| q.q = v)/>
            <select id="filter-vpc" aria-label=tr!(havips::VPC_FILTER) on:change=on(&go, |q, v| { q.vpc = v; q.subnet.clear(); })>
                {option(String::new(), tr!(havips::ALL_VPCS), &query.vpc)}
                {networks.iter().map(|v| option(v.vpc.id.to_string(), format!("{} ({})", v.vpc.name, v.vpc.cidr), &query.vpc)).collect_view()}
            </select>
            <select id="filter-subnet" aria-label=tr!(havips::SUBNET_FILTER) on:change=on(&go, |q, v| q.subnet = v)>
                {option(String::new(), tr!(havips::ALL_SUBNETS), &query.subnet)}
                {subnets.into_iter().map(|(id, label)| option(id, label, &query.subnet)).collect_view()}
            </select>
            <select id="filter-status" aria-label=tr!(havips::STATUS_FILTER) on:change=on(&go, |q, v| q.status = v)>
                {[("", m::havips::ALL_STATUSES), ("bound", m::status::BOUND), ("unbound", m::status::UNBOUND), ("conflict", m::status::CONFLICT)]
                    .into_iter().map(|(v, l)| option(v.into(), follow(l), &query.status)).collect_view()}
            </select>
            <select id="sort" aria-label=tr!(havips::SORT) on:change=on(&go, |q, v| q.sort = v)>
                {[("", m::havips::NEWEST_FIRST), ("name", m::havips::SORT_NAME), ("ip", m::havips::SORT_IP)]
                    .into_iter().map(|(v, l)| option(v.into(), follow(l), &query.sort)).collect_view()}
            </select>
        </div>
        <table class="list" id="havip-table">
            <thead>
                <tr>
                    <th>{tr!(havips::COL_ID_NAME)}</th>
                    <th>{tr!(havips::COL_STATUS)}</th>
                    <th>{tr!(havips::COL_VPC)}</th>
                    <th>{tr!(havips::COL_SUBNET)}</th>
                    <th>{tr!(havips::COL_IP)}</th>
                    <th>{tr!(havips::COL_BOUND_INSTANCE)}</th>
                    <th>{tr!(havips::COL_EIP)}</th>
                    <th>{tr!(havips::COL_LAST_24H)}</th>
                    <th>{tr!(havips::COL_CREATED)}</th>
                    <th class="needs-operator">{tr!(havips::COL_OPERATION)}</th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=move || rows.get()
                    key=|row| row.id.clone()
                    children=move |row| row_view(row.id, rows, sparks, dialog, unbind)
                />
            </tbody>
        </table>
        <Show when=move || empty() && !filtered>
            <p class="empty" id="empty-state">
                {with_bold(m::havips::EMPTY_REGION, "apply", || t(m::havips::APPLY).to_string())}
            </p>
        </Show>
        <Show when=move || empty() && filtered>
            <p class="empty" id="no-match">{tr!(havips::NO_MATCH)}</p>
        </Show>
        <nav class="pager" id="list-pager">
            <button id="page-prev" disabled=move || page() == 0 on:click=prev>{tr!(havips::PREVIOUS)}</button>
            <span id="page-info">
                {move || {
                    tf(Text::new(m::havips::PAGE_INFO)
                        .arg("page", page() + 1)
                        .arg("pages", pages())
                        .arg("matching", matching()))
                }}
            </span>
            <button id="page-next" disabled=move || { page() + 1 >= pages() } on:click=next>{tr!(havips::NEXT)}</button>
        </nav>
    }
}

/// An option of a filter or sort menu; `label` a value's words or a message (`tr!`).
fn option(value: String, label: impl IntoView + 'static, current: &str) -> impl IntoView {
    let selected = value == current;
    view! { <option value=value selected=selected>{label}</option> }
}

/// One row, kept by its HAVIP id: its cells follow the latest data of that HAVIP.
fn row_view(
    id: HavipId,
    rows: Memo<Vec<HavipRow>>,
    sparks: Memo<std::collections::HashMap<HavipId, Timeline>>,
    dialog: RwSignal<Dialog>,
    unbind: ServerAction<UnbindHavipEip>,
) -> impl IntoView {
    let row = {
        let id = id.clone();
        Memo::new(move |_| rows.with(|rs| rs.iter().find(|r| r.id == id).cloned()))
    };
    // its own: a change of another row leaves this row's drawing as it is
    let spark = {
        let id = id.clone();
        Memo::new(move |_| sparks.with(|s| s.get(&id).cloned()))
    };
    let cell = move |part: fn(&HavipRow) -> String| move || row.with(|r| r.as_ref().map(part));
    let status = Memo::new(move |_| row.with(|r| r.as_ref().map(|r| r.status.clone())));
    let label = move || row.with(|r| r.as_ref().map(|r| (r.name.clone(), r.ip)));
    let row_id = id.clone();
    let act = move |make: fn(HavipId, String, std::net::Ipv4Addr) -> Dialog| {
        let id = row_id.clone();
        move |_: leptos::ev::MouseEvent| {
            if let Some((name, ip)) = label() {
                dialog.set(make(id.clone(), name, ip));
            }
        }
    };
    let has_eip = move || row.with(|r| r.as_ref().is_some_and(|r| r.eip.is_some()));
    // a row's creation never changes: a time with its UTC tooltip, like every other page's
    let created = row.with_untracked(|r| r.as_ref().map_or(0, |r| r.created));
    let unbind_id = id.clone();
    view! {
        <tr data-id=id.to_string() data-ip=cell(|r| r.ip.to_string())>
            <td><a class="id" href=format!("/havip/{id}")>{id.to_string()}</a><div class="name">{cell(|r| r.name.clone())}</div></td>
            <td>
                <span class=move || status.with(|s| s.as_ref().map_or("tag", status_class)) data-testid="status">{move || status.with(|s| s.as_ref().map(|s| t(s.word())))}</span>
                {move || row.with(|r| r.as_ref().map(|r| unauthorized_tags(r.unauthorized.clone())))}
                {move || row.with(|r| r.as_ref().map(|r| unwatched_tag(r.watched)))}
            </td>
            <td><div class="id">{cell(|r| r.vpc_id.to_string())}</div><div>{cell(|r| r.vpc_name.clone())}</div></td>
            <td><div class="id">{cell(|r| r.subnet_id.to_string())}</div><div>{cell(|r| format!("{} ({})", r.subnet_name, r.subnet_cidr))}</div></td>
            <td class="ip">{cell(|r| r.ip.to_string())}</td>
            <td data-testid="bound">{cell(|r| if r.bound_instance.is_empty() { "-".to_string() } else { r.bound_instance.clone() })}</td>
            <td data-testid="eip">{cell(|r| r.eip.map(|e| e.to_string()).unwrap_or_else(|| "-".into()))}</td>
            <td class="spark">
                {
                    move || spark.with(|t| t.as_ref().map(|t| view! {
                        {strip(t, &MacNames::default(), 10, "spark")}
                        <span class="availability" data-testid="spark-availability">{t.availability_text()}</span>
                    }))
                }
            </td>
            <td><Time ms=created/></td>
            <td class="ops needs-operator">
                <button class="link" on:click=act(|id, name, _| Dialog::Rename { id, name })>{tr!(havips::RENAME)}</button>
                <Show
                    when=has_eip
                    fallback={
                        let bind = act(|id, name, ip| Dialog::BindEip { id, label: format!("{name} ({ip})") });
                        move || view! { <button class="link" on:click=bind.clone()>{tr!(havips::BIND_EIP)}</button> }
                    }
                >
                    {
                        let havip_id = unbind_id.clone();
                        view! { <button class="link" on:click=move |_| { unbind.dispatch(UnbindHavipEip { havip_id: havip_id.clone() }); }>{tr!(havips::UNBIND_EIP)}</button> }
                    }
                </Show>
                <button class="link danger" on:click=act(|id, name, ip| Dialog::Delete { label: format!("{name} ({id}, {ip})"), id })>{tr!(havips::DELETE)}</button>
            </td>
        </tr>
    }
}
