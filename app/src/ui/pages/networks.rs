//! VPCs and subnets of a region: list them, create regions, VPCs and subnets.

use crate::api::live::{Interest, Topic};
use crate::api::network::{network_page, CreateRegion, CreateSubnet, CreateVpc};
use crate::domain::ids::{RegionId, VpcId};
use crate::domain::pages::{NetworkData, VpcView};
use crate::tr;
use crate::ui::components::{on_success, refusal, region_query, FieldError, RegionSelect};
use crate::ui::live::{page_data, Watch};
use crate::ui::loading::page_view;
use leptos::prelude::*;

#[component]
pub fn NetworksPage() -> impl IntoView {
    let region = region_query();
    let data = page_data(
        move || region.get(),
        network_page,
        Watch::reload(|region, data: Option<&NetworkData>| {
            let region = data.map(|d| d.region_id.clone()).or(region.clone());
            Interest::new(&[Topic::Network, Topic::Havips, Topic::Instances]).in_region(region)
        }),
    );
    view! {
        {page_view(data.first, move |NetworkData { region_id, .. }| {
            let vpcs = Memo::new(move |_| data.with(|d| d.vpcs.clone()));
            view! {
                <div class="page-head">
                    <h1>{tr!(networks::TITLE)}</h1>
                    <RegionSelect regions=Memo::new(move |_| data.with(|d| d.regions.clone())) current=region_id.clone() path="/networks"/>
                </div>
                {move || vpcs_table(vpcs.get())}
                <div class="forms needs-admin">
                    <NewRegionForm/>
                    <NewVpcForm region_id/>
                    <NewSubnetForm vpcs/>
                </div>
            }.into_any()
        })}
    }
}

fn vpcs_table(vpcs: Vec<VpcView>) -> impl IntoView {
    if vpcs.is_empty() {
        return view! { <p class="empty" id="no-vpcs">{tr!(networks::NO_VPCS)}</p> }.into_any();
    }
    view! {
        <table class="list" id="vpc-table">
            <thead><tr><th>{tr!(networks::COL_ID_NAME)}</th><th>"CIDR"</th><th>{tr!(networks::COL_SUBNETS)}</th><th>{tr!(networks::COL_HAVIPS)}</th></tr></thead>
            <tbody>
                {vpcs.into_iter().map(|v| { let vid = v.vpc.id.to_string(); view! {
                    <tr data-id=vid>
                        <td><div class="id">{v.vpc.id.to_string()}</div><div class="name">{v.vpc.name}</div></td>
                        <td class="ip">{v.vpc.cidr.to_string()}</td>
                        <td>
                            <ul class="subnets">
                                {v.subnets.into_iter().map(|s| { let sid = s.subnet.id.to_string(); view! {
                                    <li data-id=sid>
                                        <span class="id">{s.subnet.id.to_string()}</span> " " {s.subnet.name} " "
                                        <span class="ip">{s.subnet.cidr.to_string()}</span>
                                        " · " {s.free} " / " {s.usable}
                                    </li>
                                }}).collect_view()}
                            </ul>
                        </td>
                        <td>{v.havips} " / " {v.quota}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn NewRegionForm() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let action = ServerAction::<CreateRegion>::new();
    on_success(action, move || name.set(String::new()));
    view! {
        <section class="card">
            <h2>{tr!(networks::NEW_REGION)}</h2>
            <label for="region-name">{tr!(networks::NAME)}</label>
            <input id="region-name" type="text" bind:value=name/>
            <FieldError message=refusal(action) id="region-error"/>
            <button id="create-region" class="primary" on:click=move |_| { action.dispatch(CreateRegion { name: name.get_untracked() }); }>{tr!(networks::CREATE_REGION)}</button>
        </section>
    }
}

#[component]
fn NewVpcForm(region_id: RegionId) -> impl IntoView {
    let region_id = StoredValue::new(region_id);
    let name = RwSignal::new(String::new());
    let cidr = RwSignal::new(String::new());
    let action = ServerAction::<CreateVpc>::new();
    on_success(action, move || {
        name.set(String::new());
        cidr.set(String::new());
    });
    view! {
        <section class="card">
            <h2>{tr!(networks::NEW_VPC)}</h2>
            <label for="vpc-name">{tr!(networks::NAME)}</label>
            <input id="vpc-name" type="text" bind:value=name/>
            <label for="vpc-cidr">"CIDR"</label>
            <input id="vpc-cidr" type="text" placeholder="10.0.0.0/16" bind:value=cidr/>
            <FieldError message=refusal(action) id="vpc-form-error"/>
            <button id="create-vpc" class="primary" on:click=move |_| {
                action.dispatch(CreateVpc { region_id: region_id.get_value(), name: name.get_untracked(), cidr: cidr.get_untracked() });
            }>{tr!(networks::CREATE_VPC)}</button>
        </section>
    }
}

#[component]
fn NewSubnetForm(#[prop(into)] vpcs: Signal<Vec<VpcView>>) -> impl IntoView {
    let vpc_id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let cidr = RwSignal::new(String::new());
    let action = ServerAction::<CreateSubnet>::new();
    on_success(action, move || {
        name.set(String::new());
        cidr.set(String::new());
    });
    let chosen = move || {
        let id = vpc_id.get();
        let list = vpcs.get();
        if list.iter().any(|v| v.vpc.id == id) {
            id
        } else {
            list.first()
                .map(|v| v.vpc.id.to_string())
                .unwrap_or_default()
        }
    };
    view! {
        <section class="card">
            <h2>{tr!(networks::NEW_SUBNET)}</h2>
            <label for="subnet-vpc">{tr!(networks::VPC)}</label>
            <select id="subnet-vpc" on:change=move |ev| vpc_id.set(event_target_value(&ev))>
                {move || vpcs.get().into_iter().map(|v| {
                    let selected = v.vpc.id == chosen();
                    view! { <option value=v.vpc.id.to_string() selected=selected>{format!("{} ({})", v.vpc.name, v.vpc.cidr)}</option> }
                }).collect_view()}
            </select>
            <label for="subnet-name">{tr!(networks::NAME)}</label>
            <input id="subnet-name" type="text" bind:value=name/>
            <label for="subnet-cidr">"CIDR"</label>
            <input id="subnet-cidr" type="text" placeholder="172.16.18.0/24" bind:value=cidr/>
            <FieldError message=refusal(action) id="subnet-form-error"/>
            <button id="create-subnet" class="primary" on:click=move |_| {
                if let Ok(vpc_id) = VpcId::parse(&chosen()) {
                    action.dispatch(CreateSubnet { vpc_id, name: name.get_untracked(), cidr: cidr.get_untracked() });
                }
            }>{tr!(networks::CREATE_SUBNET)}</button>
        </section>
    }
}
