//! HAVIP management page: region selector, Apply, the list with rename and delete.

use crate::api::eips::UnbindHavipEip;
use crate::api::havips::havip_page;
use crate::domain::binding::Status;
use crate::domain::model::{format_time, HavipListData, HavipRow};
use crate::ui::components::{region_query, RegionSelect};
use crate::ui::dialogs::{ApplyDialog, BindEipDialog, ConfirmDeleteDialog, RenameDialog};
use crate::ui::live::use_live;
use leptos::prelude::*;

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
    let reload = RwSignal::new(0u64);
    let page = Resource::new(
        move || (region.get(), live.tick.get(), reload.get()),
        |(region, _, _)| havip_page(region),
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
                    Ok(data) => list_view(data, dialog).into_any(),
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

fn list_view(data: HavipListData, dialog: RwSignal<Dialog>) -> impl IntoView {
    let HavipListData {
        regions,
        region_id,
        rows,
        ..
    } = data;
    let empty = rows.is_empty();
    view! {
        <div class="page-head">
            <h1>"HAVIP"</h1>
            <RegionSelect regions current=region_id path="/"/>
            <button id="apply" class="primary" on:click=move |_| dialog.set(Dialog::Apply)>"Apply"</button>
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
        <Show when=move || empty>
            <p class="empty" id="empty-state">
                "No HAVIPs in this region yet. Click " <strong>"Apply"</strong>
                " to reserve a floating IP in one of its subnets, then configure it in your HA software (keepalived, Pacemaker...)."
            </p>
        </Show>
    }
}

fn status_class(status: &Status) -> &'static str {
    match status {
        Status::Unbound => "tag unbound",
        Status::Bound { .. } => "tag bound",
        Status::Conflict { .. } => "tag conflict",
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
            <td><span class=status_class(&status) data-testid="status">{status.label()}</span></td>
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
