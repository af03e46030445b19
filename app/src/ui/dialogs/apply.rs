//! The Apply dialog: Name, Virtual Private Cloud, Subnet, IP address (Automatic Assignment or
//! Enter manually). Checks run while typing with the same domain functions the server uses.

use crate::api::havips::CreateHavip;
use crate::domain::ids::{RegionId, SubnetId, VpcId};
use crate::domain::ip::{check_manual_ip, usable_range};
use crate::domain::model::{IpChoice, NewHavip};
use crate::domain::name::check_name;
use crate::domain::pages::VpcView;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{field_refusal, on_success, FieldError, Modal};
use crate::ui::lang::{signal_of, t, tf};
use leptos::prelude::*;

#[component]
pub fn ApplyDialog(
    region_id: RegionId,
    #[prop(into)] networks: Signal<Vec<VpcView>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let first_vpc = networks
        .get_untracked()
        .first()
        .map(|v| v.vpc.id.to_string())
        .unwrap_or_default();
    let name = RwSignal::new(String::new());
    let vpc_id = RwSignal::new(first_vpc);
    let subnet_id = RwSignal::new(String::new());
    let manual = RwSignal::new(false);
    let ip_text = RwSignal::new(String::new());
    let touched = RwSignal::new(false);

    let subnets = Memo::new(move |_| {
        let vpc = vpc_id.get();
        networks.with(|n| {
            n.iter()
                .find(|v| v.vpc.id == vpc)
                .map(|v| v.subnets.clone())
                .unwrap_or_default()
        })
    });
    // keep the subnet choice valid for the chosen VPC
    Effect::new(move |_| {
        let list = subnets.get();
        if !list
            .iter()
            .any(|s| s.subnet.id == subnet_id.get_untracked())
        {
            subnet_id.set(
                list.first()
                    .map(|s| s.subnet.id.to_string())
                    .unwrap_or_default(),
            );
        }
    });
    let subnet_cidr = move || {
        let id = subnet_id.get();
        subnets.with(|l| l.iter().find(|s| s.subnet.id == id).map(|s| s.subnet.cidr))
    };

    let create = ServerAction::<CreateHavip>::new();
    let server_error = move |field: Option<&str>| field_refusal(create, field);
    let name_error = Signal::derive(move || {
        let typed = !name.get().is_empty() || touched.get();
        typed
            .then(|| check_name(&name.get()).err().map(|e| tf(e.text())))
            .flatten()
            .or_else(|| server_error(Some("name")))
    });
    let ip_error = Signal::derive(move || {
        if !manual.get() {
            return server_error(Some("ip"));
        }
        let text = ip_text.get();
        let cidr = subnet_cidr()?;
        if text.is_empty() && !touched.get() {
            return None;
        }
        check_manual_ip(&text, cidr, |_| false)
            .err()
            .map(|e| tf(e.text()))
            .or_else(|| server_error(Some("ip")))
    });
    let vpc_error = Signal::derive(move || server_error(Some("vpc")));
    let subnet_error = Signal::derive(move || {
        (touched.get() && subnet_id.get().is_empty())
            .then(|| t(m::dialogs::SELECT_SUBNET).to_string())
            .or_else(|| server_error(Some("subnet")))
    });
    let other_error = Signal::derive(move || server_error(None));

    on_success(create, move || on_close.run(()));

    let submit = move |_| {
        touched.set(true);
        let client_ok = check_name(&name.get_untracked()).is_ok()
            && !subnet_id.get_untracked().is_empty()
            && (!manual.get_untracked()
                || subnet_cidr().is_some_and(|c| {
                    check_manual_ip(&ip_text.get_untracked(), c, |_| false).is_ok()
                }));
        // the selects only offer IDs the server listed
        let (Ok(vpc_id), Ok(subnet_id)) = (
            VpcId::parse(&vpc_id.get_untracked()),
            SubnetId::parse(&subnet_id.get_untracked()),
        ) else {
            return;
        };
        if client_ok {
            create.dispatch(CreateHavip {
                req: NewHavip {
                    region_id: region_id.clone(),
                    name: name.get_untracked(),
                    vpc_id,
                    subnet_id,
                    ip: if manual.get_untracked() {
                        IpChoice::Manual(ip_text.get_untracked())
                    } else {
                        IpChoice::Automatic
                    },
                },
            });
        }
    };

    view! {
        <Modal title=signal_of(m::dialogs::APPLY_TITLE) id="apply-dialog">
            <div class="form">
                <label for="havip-name">{tr!(dialogs::NAME)}</label>
                <div>
                    <input id="havip-name" type="text" maxlength="200" placeholder=tr!(dialogs::NAME_PLACEHOLDER) bind:value=name/>
                    <FieldError message=name_error id="name-error"/>
                </div>

                <label for="vpc-select">{tr!(dialogs::VPC)}</label>
                <div>
                    <select id="vpc-select" on:change=move |ev| vpc_id.set(event_target_value(&ev))>
                        {move || networks.get().into_iter().map(|v| {
                            let selected = v.vpc.id == vpc_id.get_untracked();
                            let label = format!("{} | {} ({})", v.vpc.id, v.vpc.name, v.vpc.cidr);
                            view! { <option value=v.vpc.id.to_string() selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                    <FieldError message=vpc_error id="vpc-error"/>
                </div>

                <label for="subnet-select">{tr!(dialogs::SUBNET)}</label>
                <div>
                    <select id="subnet-select" on:change=move |ev| subnet_id.set(event_target_value(&ev))>
                        {move || subnets.get().into_iter().map(|s| {
                            let selected = s.subnet.id == subnet_id.get_untracked();
                            let label = Text::new(m::dialogs::SUBNET_OPTION)
                                .arg("name", &s.subnet.name)
                                .arg("cidr", s.subnet.cidr)
                                .arg("free", s.free);
                            view! { <option value=s.subnet.id.to_string() selected=selected>{move || tf(label.clone())}</option> }
                        }).collect_view()}
                    </select>
                    <FieldError message=subnet_error id="subnet-error"/>
                </div>

                <span class="label">{tr!(dialogs::IP_ADDRESS)}</span>
                <div>
                    <div class="radios">
                        <input type="radio" id="ip-auto" name="ip-mode" prop:checked=move || !manual.get() on:change=move |_| manual.set(false)/>
                        <label for="ip-auto">{tr!(dialogs::IP_AUTO)}</label>
                        <input type="radio" id="ip-manual" name="ip-mode" prop:checked=move || manual.get() on:change=move |_| manual.set(true)/>
                        <label for="ip-manual">{tr!(dialogs::IP_MANUAL)}</label>
                    </div>
                    <Show when=move || manual.get()>
                        <input
                            id="ip-input"
                            type="text"
                            aria-label=tr!(dialogs::IP_ADDRESS)
                            placeholder=move || subnet_cidr().map(|c| { let (a, b) = usable_range(c); format!("{a}-{b}") }).unwrap_or_default()
                            bind:value=ip_text
                        />
                    </Show>
                    <FieldError message=ip_error id="ip-error"/>
                </div>
            </div>
            <FieldError message=other_error id="apply-error"/>
            <div class="buttons">
                <button id="apply-ok" class="primary" on:click=submit disabled=move || create.pending().get()>{tr!(dialogs::OK)}</button>
                <button id="apply-cancel" on:click=move |_| on_close.run(())>{tr!(dialogs::CANCEL)}</button>
            </div>
        </Modal>
    }
}
