//! The "Allowed holders" card of the detail page (the drift range): which registered instances
//! of the subnet may hold the HAVIP. Any other host announcing it is shown as unauthorized.

use crate::api::havips::SetAllowedHolders;
use crate::domain::ids::{EniId, HavipId};
use crate::domain::model::Instance;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{on_success, refusal, FieldError};
use crate::ui::lang::tf;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn AllowedHoldersCard(
    havip_id: HavipId,
    #[prop(into)] instances: Signal<Vec<Instance>>,
    #[prop(into)] allowed: Signal<Vec<EniId>>,
) -> impl IntoView {
    // unsaved choice; None follows what is stored
    let draft = RwSignal::new(None::<Vec<EniId>>);
    let current = move || draft.get().unwrap_or_else(|| allowed.get());
    let save = ServerAction::<SetAllowedHolders>::new();
    on_success(save, move || draft.set(None));
    let havip_id = StoredValue::new(havip_id);
    let dispatch = move |eni_ids: Vec<EniId>| {
        save.dispatch(SetAllowedHolders {
            havip_id: havip_id.get_value(),
            eni_ids,
        });
    };
    let toggle = move |eni_id: EniId, on: bool| {
        let mut list = draft
            .get_untracked()
            .unwrap_or_else(|| allowed.get_untracked());
        list.retain(|e| *e != eni_id);
        if on {
            list.push(eni_id);
        }
        draft.set(Some(list));
    };
    let summary = move || {
        let n = allowed.with(Vec::len);
        if n == 0 {
            tf(Text::new(m::detail::ALLOWED_ANY))
        } else {
            tf(Text::new(m::detail::ALLOWED_ONLY).arg("count", n))
        }
    };
    view! {
        <section class="card" id="allowed-holders">
            <h2>{tr!(detail::ALLOWED_HOLDERS)}</h2>
            <p class="hint" data-testid="allowed-summary">{summary}</p>
            <Show
                when=move || !instances.with(Vec::is_empty)
                fallback=|| view! {
                    <p class="empty">
                        {tr!(detail::ALLOWED_NO_INSTANCE)}
                        <A href="/instances">{tr!(detail::ALLOWED_INSTANCES_LINK)}</A>
                        {tr!(detail::ALLOWED_NO_INSTANCE_END)}
                    </p>
                }
            >
                <ul class="choices">
                    {move || instances.get().into_iter().map(|i| {
                        let eni = i.eni_id.clone();
                        let checked = { let eni = eni.clone(); move || current().contains(&eni) };
                        let input_id = format!("allow-{}", i.eni_id);
                        view! {
                            <li>
                                <input type="checkbox" id=input_id.clone() checked=checked.clone() prop:checked=checked
                                    on:change=move |ev| toggle(eni.clone(), event_target_checked(&ev))/>
                                <label for=input_id>{format!("{} · {} · {} · {}", i.name, i.eni_id, i.mac, i.ip)}</label>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <div class="buttons start needs-operator">
                    <button id="save-allowed" class="primary" disabled=move || save.pending().get() || draft.get().is_none()
                        on:click=move |_| dispatch(current())>{tr!(detail::SAVE)}</button>
                    <button id="allow-any" disabled=move || save.pending().get() || allowed.with(Vec::is_empty)
                        on:click=move |_| dispatch(vec![])>{tr!(detail::ALLOW_ANY)}</button>
                </div>
            </Show>
            <FieldError message=refusal(save) id="allowed-error"/>
        </section>
    }
}
