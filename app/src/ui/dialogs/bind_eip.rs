use crate::api::eips::{eips_page, BindEip, BindNewEip};
use crate::domain::ids::{EipId, HavipId};
use crate::i18n::m;
use crate::tr;
use crate::ui::components::{on_success, refusal, refusals, FieldError, Modal};
use crate::ui::dialogs::with_bold;
use crate::ui::lang::signal_of;
use leptos::prelude::*;

/// Binds an unbound EIP (or a newly allocated one) to an HAVIP.
#[component]
pub fn BindEipDialog(havip_id: HavipId, label: String, on_close: Callback<()>) -> impl IntoView {
    let eips = LocalResource::new(eips_page);
    let choice = RwSignal::new("new".to_string());
    let bind = ServerAction::<BindEip>::new();
    let bind_new = ServerAction::<BindNewEip>::new();
    let error = refusals(vec![refusal(bind), refusal(bind_new)]);
    on_success(bind, move || on_close.run(()));
    on_success(bind_new, move || on_close.run(()));
    let options = move || {
        eips.get()
            .and_then(Result::ok)
            .map(|d| {
                d.eips
                    .into_iter()
                    .filter(|r| r.eip.havip_id.is_none())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let submit = move |_| {
        match EipId::parse(&choice.get_untracked()) {
            Ok(eip_id) => {
                bind.dispatch(BindEip {
                    eip_id,
                    havip_id: havip_id.clone(),
                });
            }
            // "new"
            Err(_) => {
                bind_new.dispatch(BindNewEip {
                    havip_id: havip_id.clone(),
                });
            }
        }
    };
    view! {
        <Modal title=signal_of(m::dialogs::BIND_EIP_TITLE) id="bind-eip-dialog">
            <p>{with_bold(m::dialogs::BIND_EIP_FOR, "havip", move || label.clone())}</p>
            <div class="form">
                <label for="eip-select">{tr!(dialogs::EIP)}</label>
                <select id="eip-select" on:change=move |ev| choice.set(event_target_value(&ev))>
                    <option value="new" selected=true>{tr!(dialogs::ALLOCATE_NEW_EIP)}</option>
                    {move || options().into_iter().map(|r| view! { <option value=r.eip.id.to_string()>{format!("{} ({})", r.eip.ip, r.eip.id)}</option> }).collect_view()}
                </select>
            </div>
            <FieldError message=error id="bind-eip-error"/>
            <div class="buttons">
                <button id="bind-eip-ok" class="primary" on:click=submit>{tr!(dialogs::OK)}</button>
                <button on:click=move |_| on_close.run(())>{tr!(dialogs::CANCEL)}</button>
            </div>
        </Modal>
    }
}
