//! Instances and their ENIs: the registered ones, the stations agents discovered (one click
//! registers them), and a form to register one by hand.

use crate::api::instances::{instances_page, DeregisterInstance, RegisterInstance};
use crate::api::live::{Interest, Topic};
use crate::domain::ids::{RegionId, SubnetId};
use crate::domain::ip::{check_manual_ip, usable_range};
use crate::domain::mac::check_host_mac;
use crate::domain::model::{Instance, Station};
use crate::domain::name::check_name;
use crate::domain::pages::{InstancesData, SubnetView, VpcView};
use crate::tr;
use crate::ui::components::{field_refusal, on_success, refusal, refusals};
use crate::ui::components::{region_query, FieldError, RegionSelect};
use crate::ui::lang::tf;
use crate::ui::live::{page_data, PageData, Watch};
use crate::ui::loading::page_view;
use crate::ui::zone::Time;
use leptos::prelude::*;

type Data = PageData<Option<RegionId>, InstancesData>;

#[component]
pub fn InstancesPage() -> impl IntoView {
    let region = region_query();
    let data: Data = page_data(
        move || region.get(),
        instances_page,
        Watch::reload(|region, data: Option<&InstancesData>| {
            let region = data.map(|d| d.region_id.clone()).or(region.clone());
            Interest::new(&[Topic::Instances, Topic::Network, Topic::Havips]).in_region(region)
        }),
    );
    let deregister = ServerAction::<DeregisterInstance>::new();
    let register = ServerAction::<RegisterInstance>::new();
    let error = refusals(vec![refusal(deregister), refusal(register)]);

    view! {
        {page_view(data.first, move |InstancesData { region_id, .. }| {
            let networks = Memo::new(move |_| data.with(|d| d.networks.clone()));
            view! {
                <div class="page-head">
                    <h1>{tr!(instances::TITLE)}</h1>
                    <RegionSelect regions=Memo::new(move |_| data.with(|d| d.regions.clone())) current=region_id path="/instances"/>
                </div>
                {move || instances_table(data.with(|d| d.instances.clone()), subnet_names(&networks.get()), deregister)}
                <h2>{tr!(instances::DISCOVERED)}</h2>
                {discovered_table(data, register)}
                <FieldError message=error id="instances-error"/>
                <RegisterForm networks/>
            }.into_any()
        })}
    }
}

/// subnet id -> "name (cidr)"
fn subnet_names(networks: &[VpcView]) -> Vec<(SubnetId, String)> {
    networks
        .iter()
        .flat_map(|v| v.subnets.iter())
        .map(|s| {
            (
                s.subnet.id.clone(),
                format!("{} ({})", s.subnet.name, s.subnet.cidr),
            )
        })
        .collect()
}

fn subnet_name(subnets: &[(SubnetId, String)], id: &SubnetId) -> String {
    subnets
        .iter()
        .find(|(sid, _)| sid == id)
        .map_or_else(|| id.to_string(), |(_, n)| n.clone())
}

fn instances_table(
    instances: Vec<Instance>,
    subnets: Vec<(SubnetId, String)>,
    deregister: ServerAction<DeregisterInstance>,
) -> AnyView {
    if instances.is_empty() {
        return view! { <p class="empty" id="no-instances">{tr!(instances::NO_INSTANCES)}</p> }
            .into_any();
    }
    view! {
        <table class="list" id="instance-table">
            <thead><tr><th>{tr!(instances::NAME)}</th><th>{tr!(instances::INSTANCE_ID)}</th><th>{tr!(instances::ENI_ID)}</th><th>"MAC"</th><th>{tr!(instances::PRIMARY_IP)}</th><th>{tr!(instances::SUBNET)}</th><th>{tr!(instances::REGISTERED)}</th><th>{tr!(instances::OPERATION)}</th></tr></thead>
            <tbody>
                {instances.into_iter().map(|i| {
                    let eni_id = i.eni_id.clone();
                    view! {
                        <tr data-mac=i.mac.to_string()>
                            <td data-testid="name">{i.name}</td>
                            <td class="id">{i.id.to_string()}</td>
                            <td class="id">{i.eni_id.to_string()}</td>
                            <td class="ip">{i.mac.to_string()}</td>
                            <td class="ip">{i.ip.to_string()}</td>
                            <td>{subnet_name(&subnets, &i.subnet_id)}</td>
                            <td><Time ms=i.created/></td>
                            <td class="ops needs-operator"><button class="link danger" on:click=move |_| { deregister.dispatch(DeregisterInstance { eni_id: eni_id.clone() }); }>{tr!(instances::DEREGISTER)}</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Hosts agents saw that are not registered: rows kept by (MAC, IP), so a live change never
/// wipes a name being typed.
fn discovered_table(data: Data, register: ServerAction<RegisterInstance>) -> impl IntoView {
    let stations = Memo::new(move |_| data.with(|d| d.discovered.clone()));
    let subnets = Memo::new(move |_| data.with(|d| subnet_names(&d.networks)));
    view! {
        <Show
            when=move || !stations.with(Vec::is_empty)
            fallback=|| view! { <p class="empty" id="no-discovered">{tr!(instances::NO_DISCOVERED)}</p> }
        >
            <table class="list" id="discovered-table">
                <thead><tr><th>"MAC"</th><th>"IP"</th><th>{tr!(instances::SUBNET)}</th><th>{tr!(instances::SEEN_BY)}</th><th>{tr!(instances::FIRST_SEEN)}</th><th>{tr!(instances::NAME)}</th><th>{tr!(instances::OPERATION)}</th></tr></thead>
                <tbody>
                    <For
                        each=move || stations.get()
                        key=|s| (s.mac, s.ip)
                        children=move |s| station_row(s, subnets, register)
                    />
                </tbody>
            </table>
        </Show>
    }
}

fn station_row(
    s: Station,
    subnets: Memo<Vec<(SubnetId, String)>>,
    register: ServerAction<RegisterInstance>,
) -> impl IntoView {
    let name = RwSignal::new(format!("host-{}", s.ip.to_string().replace('.', "-")));
    let (subnet_id, mac, ip) = (s.subnet_id.clone(), s.mac.to_string(), s.ip.to_string());
    let subnet = {
        let id = s.subnet_id.clone();
        move || subnets.with(|l| subnet_name(l, &id))
    };
    view! {
        <tr data-mac=s.mac.to_string() data-ip=s.ip.to_string()>
            <td class="ip">{s.mac.to_string()}</td>
            <td class="ip">{s.ip.to_string()}</td>
            <td>{subnet}</td>
            <td>{s.agent}</td>
            <td><Time ms=s.first_seen/></td>
            <td><input type="text" aria-label=tr!(instances::INSTANCE_NAME) value=name.get_untracked() bind:value=name/></td>
            <td class="ops needs-operator"><button class="link" on:click=move |_| {
                register.dispatch(RegisterInstance { name: name.get_untracked(), subnet_id: subnet_id.clone(), mac: mac.clone(), ip: ip.clone() });
            }>{tr!(instances::REGISTER)}</button></td>
        </tr>
    }
}

#[component]
fn RegisterForm(#[prop(into)] networks: Signal<Vec<VpcView>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let subnet_id = RwSignal::new(String::new());
    let mac = RwSignal::new(String::new());
    let ip = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let action = ServerAction::<RegisterInstance>::new();
    on_success(action, move || {
        for field in [name, mac, ip] {
            field.set(String::new());
        }
        touched.set(false);
    });
    let subnets = Memo::new(move |_| {
        networks.with(|n| {
            n.iter()
                .flat_map(|v| v.subnets.clone())
                .collect::<Vec<SubnetView>>()
        })
    });
    let chosen = Memo::new(move |_| {
        let id = subnet_id.get();
        subnets.with(|l| {
            l.iter()
                .find(|s| s.subnet.id == id)
                .or(l.first())
                .map(|s| s.subnet.clone())
        })
    });
    let server_error = move |field: &str| field_refusal(action, Some(field));
    // the same checks as the server, while typing
    let shown = move |text: String| touched.get() || !text.is_empty();
    let name_error = Signal::derive(move || {
        shown(name.get())
            .then(|| check_name(&name.get()).err().map(|e| tf(e.text())))
            .flatten()
            .or_else(|| server_error("name"))
    });
    let mac_error = Signal::derive(move || {
        shown(mac.get())
            .then(|| check_host_mac(&mac.get()).err().map(|e| tf(e.text())))
            .flatten()
            .or_else(|| server_error("mac"))
    });
    let ip_error = Signal::derive(move || {
        let cidr = chosen.get()?.cidr;
        shown(ip.get())
            .then(|| {
                check_manual_ip(&ip.get(), cidr, |_| false)
                    .err()
                    .map(|e| tf(e.text()))
            })
            .flatten()
            .or_else(|| server_error("ip"))
    });
    let other_error =
        Signal::derive(move || server_error("subnet").or_else(|| field_refusal(action, None)));
    let submit = move |_| {
        touched.set(true);
        let Some(subnet) = chosen.get_untracked() else {
            return;
        };
        let ok = check_name(&name.get_untracked()).is_ok()
            && check_host_mac(&mac.get_untracked()).is_ok()
            && check_manual_ip(&ip.get_untracked(), subnet.cidr, |_| false).is_ok();
        if ok {
            action.dispatch(RegisterInstance {
                name: name.get_untracked(),
                subnet_id: subnet.id,
                mac: mac.get_untracked(),
                ip: ip.get_untracked(),
            });
        }
    };
    view! {
        <section class="card needs-operator" id="register-instance">
            <h2>{tr!(instances::REGISTER_TITLE)}</h2>
            <div class="form">
                <label for="instance-name">{tr!(instances::NAME)}</label>
                <div><input id="instance-name" type="text" bind:value=name/><FieldError message=name_error id="instance-name-error"/></div>
                <label for="instance-subnet">{tr!(instances::SUBNET)}</label>
                <select id="instance-subnet" on:change=move |ev| subnet_id.set(event_target_value(&ev))>
                    {move || subnets.get().into_iter().map(|s| {
                        let selected = chosen.get_untracked().is_some_and(|c| c.id == s.subnet.id);
                        view! { <option value=s.subnet.id.to_string() selected=selected>{format!("{} ({})", s.subnet.name, s.subnet.cidr)}</option> }
                    }).collect_view()}
                </select>
                <label for="instance-mac">{tr!(instances::MAC_ADDRESS)}</label>
                <div><input id="instance-mac" type="text" placeholder="52:54:00:12:34:56" bind:value=mac/><FieldError message=mac_error id="instance-mac-error"/></div>
                <label for="instance-ip">{tr!(instances::PRIMARY_IP)}</label>
                <div>
                    <input id="instance-ip" type="text" bind:value=ip
                        placeholder=move || chosen.get().map(|s| { let (a, b) = usable_range(s.cidr); format!("{a}-{b}") }).unwrap_or_default()/>
                    <FieldError message=ip_error id="instance-ip-error"/>
                </div>
            </div>
            <FieldError message=other_error id="register-error"/>
            <button id="register-ok" class="primary" on:click=submit disabled=move || action.pending().get()>{tr!(instances::REGISTER)}</button>
        </section>
    }
}
