//! HAVIP management page: region selector, Apply, the list with rename and delete.

use crate::api::eips::UnbindHavipEip;
use crate::api::havips::havip_page;
use crate::domain::listing::{ListQuery, PAGE_SIZE};
use crate::domain::model::{format_time, HavipListData, HavipRow};
use crate::ui::components::{region_query, RegionSelect};
use crate::ui::components::{status_class, unauthorized_tags, unwatched_tag};
use crate::ui::dialogs::{ApplyDialog, BindEipDialog, ConfirmDeleteDialog, RenameDialog};
use crate::ui::live::use_live;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

#[derive(Clone, PartialEq)]
enum Dialog {
    None,
    Apply,
    Rename { id: String, name: String },
    Delete { id: String, label: String },
    BindEip { id: String, label: String },
}

#[component]
pub fn HavipListPage() -> impl IntoView {
    let live = use_live();
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
    let reload = RwSignal::new(0u64);
    let page = Resource::new(
        move || (region.get(), query.get(), live.tick.get(), reload.get()),
        |(region, query, _, _)| havip_page(region, query),
    );
    let dialog = RwSignal::new(Dialog::None);
    let close = Callback::new(move |changed: bool| {
        dialog.set(Dialog::None);
        if changed {
            reload.update(|n| *n += 1);
        }
    });
    let loaded = move || page.get().and_then(Result::ok);

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => list_view(data, query.get_untracked(), dialog).into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || match dialog.get() {
            Dialog::None => ().into_any(),
            Dialog::Apply => {
                let Some(data) = loaded() else { return ().into_any() };
                let networks = Signal::derive(move || loaded().map(|d| d.networks).unwrap_or_default());
                view! { <ApplyDialog region_id=data.region_id networks on_close=close/> }.into_any()
            }
            Dialog::Rename { id, name } => view! { <RenameDialog id current=name on_close=close/> }.into_any(),
            Dialog::Delete { id, label } => view! { <ConfirmDeleteDialog id label on_close=close/> }.into_any(),
            Dialog::BindEip { id, label } => view! { <BindEipDialog havip_id=id label on_close=close/> }.into_any(),
        }}
    }
}

/// The list's URL for a region and query (empty parts left out).
fn list_url(region_id: &str, q: &ListQuery) -> String {
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

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn list_view(data: HavipListData, query: ListQuery, dialog: RwSignal<Dialog>) -> impl IntoView {
    let HavipListData {
        regions,
        region_id,
        rows,
        matching,
        page,
        counters,
        networks,
    } = data;
    let pages = (matching as usize).div_ceil(PAGE_SIZE).max(1) as u32;
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
                    s.subnet.id.clone(),
                    format!("{} ({})", s.subnet.name, s.subnet.cidr),
                )
            })
        })
        .collect();
    let option = |value: String, label: String, current: &str| {
        let selected = value == current;
        view! { <option value=value selected=selected>{label}</option> }
    };
    let empty = rows.is_empty();
    let filtered = !query.q.is_empty()
        || !query.vpc.is_empty()
        || !query.subnet.is_empty()
        || !query.status.is_empty();
    let (prev, next) = {
        let go_prev = go.clone();
        let go_next = go.clone();
        (
            move |_: leptos::ev::MouseEvent| {
                go_prev(&move |q: &mut ListQuery| q.page = page.saturating_sub(1))
            },
            move |_: leptos::ev::MouseEvent| go_next(&move |q: &mut ListQuery| q.page = page + 1),
        )
    };
    view! {
        <div class="page-head">
            <h1>"HAVIP"</h1>
            <RegionSelect regions current=region_id path="/"/>
            <button id="apply" class="primary" on:click=move |_| dialog.set(Dialog::Apply)>"Apply"</button>
        </div>
        <div class="counters" id="counters">
            <span>"Total " <b data-testid="count-total">{counters.total}</b></span>
            <span class="tag bound">"Bound with CVM " <b data-testid="count-bound">{counters.bound}</b></span>
            <span class="tag unbound">"Not bound with CVM yet " <b data-testid="count-unbound">{counters.unbound}</b></span>
            <span class="tag conflict">"Conflict " <b data-testid="count-conflict">{counters.conflict}</b></span>
        </div>
        <div class="toolbar">
            <input id="search" type="search" placeholder="Search ID, name or IP" aria-label="Search"
                prop:value=query.q.clone() on:change=on(&go, |q, v| q.q = v)/>
            <select id="filter-vpc" aria-label="VPC filter" on:change=on(&go, |q, v| { q.vpc = v; q.subnet.clear(); })>
                {option(String::new(), "All VPCs".into(), &query.vpc)}
                {networks.iter().map(|v| option(v.vpc.id.clone(), format!("{} ({})", v.vpc.name, v.vpc.cidr), &query.vpc)).collect_view()}
            </select>
            <select id="filter-subnet" aria-label="Subnet filter" on:change=on(&go, |q, v| q.subnet = v)>
                {option(String::new(), "All subnets".into(), &query.subnet)}
                {subnets.into_iter().map(|(id, label)| option(id, label, &query.subnet)).collect_view()}
            </select>
            <select id="filter-status" aria-label="Status filter" on:change=on(&go, |q, v| q.status = v)>
                {[("", "All statuses"), ("bound", "Bound with CVM"), ("unbound", "Not bound with CVM yet"), ("conflict", "Conflict")]
                    .into_iter().map(|(v, l)| option(v.into(), l.into(), &query.status)).collect_view()}
            </select>
            <select id="sort" aria-label="Sort" on:change=on(&go, |q, v| q.sort = v)>
                {[("", "Newest first"), ("name", "Name"), ("ip", "IP address")]
                    .into_iter().map(|(v, l)| option(v.into(), l.into(), &query.sort)).collect_view()}
            </select>
        </div>
        <table class="list" id="havip-table">
            <thead>
                <tr>
                    <th>"ID/Name"</th>
                    <th>"Status"</th>
                    <th>"VPC"</th>
                    <th>"Subnet"</th>
                    <th>"IP address"</th>
                    <th>"Bound instance"</th>
                    <th>"EIP"</th>
                    <th>"Created"</th>
                    <th>"Operation"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| row_view(row, dialog)).collect_view()}
            </tbody>
        </table>
        {(empty && !filtered).then(|| view! {
            <p class="empty" id="empty-state">
                "No HAVIPs in this region yet. Click " <strong>"Apply"</strong>
                " to reserve a floating IP in one of its subnets, then configure it in your HA software (keepalived, Pacemaker...)."
            </p>
        })}
        {(empty && filtered).then(|| view! { <p class="empty" id="no-match">"No HAVIP matches the search and filters."</p> })}
        <nav class="pager" id="list-pager">
            <button id="page-prev" disabled={page == 0} on:click=prev>"Previous"</button>
            <span id="page-info">{format!("Page {} of {pages} · {matching} matching", page + 1)}</span>
            <button id="page-next" disabled={page + 1 >= pages} on:click=next>"Next"</button>
        </nav>
    }
}

fn row_view(row: HavipRow, dialog: RwSignal<Dialog>) -> impl IntoView {
    let HavipRow {
        id,
        name,
        status,
        vpc_id,
        vpc_name,
        subnet_id,
        subnet_name,
        subnet_cidr,
        ip,
        bound_instance,
        unauthorized,
        watched,
        eip,
        created,
    } = row;
    let (rename_id, rename_name) = (id.clone(), name.clone());
    let (delete_id, delete_label) = (id.clone(), format!("{name} ({id}, {ip})"));
    let (eip_id, eip_label) = (id.clone(), format!("{name} ({ip})"));
    let unbind = ServerAction::<UnbindHavipEip>::new();
    let has_eip = eip.is_some();
    let row_id = id.clone();
    view! {
        <tr data-id=row_id data-ip=ip.to_string()>
            <td><a class="id" href=format!("/havip/{id}")>{id.clone()}</a><div class="name">{name}</div></td>
            <td>
                <span class=status_class(&status) data-testid="status">{status.label()}</span>
                {unauthorized_tags(unauthorized)}
                {unwatched_tag(watched)}
            </td>
            <td><div class="id">{vpc_id}</div><div>{vpc_name}</div></td>
            <td><div class="id">{subnet_id}</div><div>{subnet_name} " (" {subnet_cidr.to_string()} ")"</div></td>
            <td class="ip">{ip.to_string()}</td>
            <td data-testid="bound">{if bound_instance.is_empty() { "-".to_string() } else { bound_instance }}</td>
            <td data-testid="eip">{eip.map(|e| e.to_string()).unwrap_or_else(|| "-".into())}</td>
            <td>{format_time(created)}</td>
            <td class="ops">
                <button class="link" on:click=move |_| dialog.set(Dialog::Rename { id: rename_id.clone(), name: rename_name.clone() })>"Rename"</button>
                {if has_eip {
                    view! { <button class="link" on:click=move |_| { unbind.dispatch(UnbindHavipEip { havip_id: eip_id.clone() }); }>"Unbind EIP"</button> }.into_any()
                } else {
                    view! { <button class="link" on:click=move |_| dialog.set(Dialog::BindEip { id: eip_id.clone(), label: eip_label.clone() })>"Bind EIP"</button> }.into_any()
                }}
                <button class="link danger" on:click=move |_| dialog.set(Dialog::Delete { id: delete_id.clone(), label: delete_label.clone() })>"Delete"</button>
            </td>
        </tr>
    }
}
