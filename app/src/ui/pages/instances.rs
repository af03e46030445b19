//! Instances and their ENIs: the registered ones, the stations agents discovered (one click
//! registers them), and a form to register one by hand.

use crate::api::instances::{instances_page, DeregisterInstance, InstancesData, RegisterInstance};
use crate::domain::ip::{check_manual_ip, usable_range};
use crate::domain::mac::check_host_mac;
use crate::domain::model::{format_time, Instance, Station, SubnetView, VpcView};
use crate::domain::name::check_name;
use crate::ui::components::{
    field_refusal, on_success, refusal, region_query, FieldError, RegionSelect,
};
use crate::ui::live::use_live;
use leptos::prelude::*;

#[component]
pub fn InstancesPage() -> impl IntoView {
    let live = use_live();
    let region = region_query();
    let reload = RwSignal::new(0u64);
    let page = Resource::new(
        move || (region.get(), live.tick.get(), reload.get()),
        |(r, _, _)| instances_page(r),
    );
    let bump = move || reload.update(|n| *n += 1);
    // the hand-registration form lives outside the Transition (a live reload never wipes what
    // is typed) and follows the loaded subnets through an effect
    let networks = RwSignal::new(Vec::<VpcView>::new());
    Effect::new(move |_| {
        if let Some(Ok(data)) = page.get() {
            networks.set(data.networks);
        }
    });
    let deregister = ServerAction::<DeregisterInstance>::new();
    let register = ServerAction::<RegisterInstance>::new();
    on_success(deregister, bump);
    on_success(register, bump);
    let error = Signal::derive(move || refusal(deregister).get().or(refusal(register).get()));

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(InstancesData { regions, region_id, networks, instances, discovered }) => {
                        let subnets = subnet_names(&networks);
                        view! {
                            <div class="page-head">
                                <h1>"Instances"</h1>
                                <RegionSelect regions current=region_id path="/instances"/>
                            </div>
                            {instances_table(instances, subnets.clone(), deregister)}
                            <h2>"Discovered by agents"</h2>
                            {discovered_table(discovered, subnets, register)}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
        <FieldError message=error id="instances-error"/>
        <RegisterForm networks on_done=bump/>
    }
}

/// subnet id -> "name (cidr)"
fn subnet_names(networks: &[VpcView]) -> Vec<(String, String)> {
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

fn subnet_name(subnets: &[(String, String)], id: &str) -> String {
    subnets
        .iter()
        .find(|(sid, _)| sid == id)
        .map_or_else(|| id.to_string(), |(_, n)| n.clone())
}

fn instances_table(
    instances: Vec<Instance>,
    subnets: Vec<(String, String)>,
    deregister: ServerAction<DeregisterInstance>,
) -> AnyView {
    if instances.is_empty() {
        return view! { <p class="empty" id="no-instances">"No instance registered in this region yet."</p> }.into_any();
    }
    view! {
        <table class="list" id="instance-table">
            <thead><tr><th>"Name"</th><th>"Instance ID"</th><th>"ENI ID"</th><th>"MAC"</th><th>"Primary IP"</th><th>"Subnet"</th><th>"Registered"</th><th>"Operation"</th></tr></thead>
            <tbody>
                {instances.into_iter().map(|i| {
                    let eni_id = i.eni_id.clone();
                    view! {
                        <tr data-mac=i.mac.to_string()>
                            <td data-testid="name">{i.name}</td>
                            <td class="id">{i.id}</td>
                            <td class="id">{i.eni_id}</td>
                            <td class="ip">{i.mac.to_string()}</td>
                            <td class="ip">{i.ip.to_string()}</td>
                            <td>{subnet_name(&subnets, &i.subnet_id)}</td>
                            <td>{format_time(i.created)}</td>
                            <td class="ops"><button class="link danger" on:click=move |_| { deregister.dispatch(DeregisterInstance { eni_id: eni_id.clone() }); }>"Deregister"</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn discovered_table(
    discovered: Vec<Station>,
    subnets: Vec<(String, String)>,
    register: ServerAction<RegisterInstance>,
) -> AnyView {
    if discovered.is_empty() {
        return view! { <p class="empty" id="no-discovered">"No unregistered host seen. Agents list every host that sends ARP on their segment here."</p> }.into_any();
    }
    view! {
        <table class="list" id="discovered-table">
            <thead><tr><th>"MAC"</th><th>"IP"</th><th>"Subnet"</th><th>"Seen by"</th><th>"First seen"</th><th>"Name"</th><th>"Operation"</th></tr></thead>
            <tbody>
                {discovered.into_iter().map(|s| {
                    let name = RwSignal::new(format!("host-{}", s.ip.to_string().replace('.', "-")));
                    let (subnet_id, mac, ip) = (s.subnet_id.clone(), s.mac.to_string(), s.ip.to_string());
                    view! {
                        <tr data-mac=s.mac.to_string() data-ip=s.ip.to_string()>
                            <td class="ip">{s.mac.to_string()}</td>
                            <td class="ip">{s.ip.to_string()}</td>
                            <td>{subnet_name(&subnets, &s.subnet_id)}</td>
                            <td>{s.agent}</td>
                            <td>{format_time(s.first_seen)}</td>
                            <td><input type="text" aria-label="Instance name" bind:value=name/></td>
                            <td class="ops"><button class="link" on:click=move |_| {
                                register.dispatch(RegisterInstance { name: name.get_untracked(), subnet_id: subnet_id.clone(), mac: mac.clone(), ip: ip.clone() });
                            }>"Register"</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RegisterForm(
    networks: RwSignal<Vec<VpcView>>,
    on_done: impl Fn() + Copy + 'static,
) -> impl IntoView {
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
        on_done();
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
            .then(|| check_name(&name.get()).err().map(|e| e.to_string()))
            .flatten()
            .or_else(|| server_error("name"))
    });
    let mac_error = Signal::derive(move || {
        shown(mac.get())
            .then(|| check_host_mac(&mac.get()).err().map(|e| e.to_string()))
            .flatten()
            .or_else(|| server_error("mac"))
    });
    let ip_error = Signal::derive(move || {
        let cidr = chosen.get()?.cidr;
        shown(ip.get())
            .then(|| {
                check_manual_ip(&ip.get(), cidr, |_| false)
                    .err()
                    .map(|e| e.to_string())
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
        <section class="card" id="register-instance">
            <h2>"Register an instance"</h2>
            <div class="form">
                <label for="instance-name">"Name"</label>
                <div><input id="instance-name" type="text" bind:value=name/><FieldError message=name_error id="instance-name-error"/></div>
                <label for="instance-subnet">"Subnet"</label>
                <select id="instance-subnet" on:change=move |ev| subnet_id.set(event_target_value(&ev))>
                    {move || subnets.get().into_iter().map(|s| {
                        let selected = chosen.get_untracked().is_some_and(|c| c.id == s.subnet.id);
                        view! { <option value=s.subnet.id selected=selected>{format!("{} ({})", s.subnet.name, s.subnet.cidr)}</option> }
                    }).collect_view()}
                </select>
                <label for="instance-mac">"MAC address"</label>
                <div><input id="instance-mac" type="text" placeholder="52:54:00:12:34:56" bind:value=mac/><FieldError message=mac_error id="instance-mac-error"/></div>
                <label for="instance-ip">"Primary IP"</label>
                <div>
                    <input id="instance-ip" type="text" bind:value=ip
                        placeholder=move || chosen.get().map(|s| { let (a, b) = usable_range(s.cidr); format!("{a}-{b}") }).unwrap_or_default()/>
                    <FieldError message=ip_error id="instance-ip-error"/>
                </div>
            </div>
            <FieldError message=other_error id="register-error"/>
            <button id="register-ok" class="primary" on:click=submit disabled=move || action.pending().get()>"Register"</button>
        </section>
    }
}
