//! EIPs: public addresses from the operator's pool; allocate, release, see what they are bound to.

use crate::api::eips::{eips_page, AllocateEip, ReleaseEip, UnbindEip};
use crate::api::live::{Interest, Topic};
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{refusal, refusals, FieldError};
use crate::ui::lang::tf;
use crate::ui::live::{page_data, Watch};
use crate::ui::loading::page_view;
use crate::ui::zone::Time;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn EipsPage() -> impl IntoView {
    let data = page_data(
        || (),
        |()| eips_page(),
        Watch::reload(|_, _| Interest::new(&[Topic::Eips, Topic::Havips])),
    );
    let allocate = ServerAction::<AllocateEip>::new();
    let release = ServerAction::<ReleaseEip>::new();
    let unbind = ServerAction::<UnbindEip>::new();
    let error = refusals(vec![refusal(allocate), refusal(release), refusal(unbind)]);
    let eips = Memo::new(move |_| data.with(|d| d.eips.clone()));
    view! {
        {page_view(data.first, move |first| { let pool = first.pool; view! {
            <div class="page-head">
                <h1>{tr!(eips::TITLE)}</h1>
                <span class="hint">{move || tf(Text::new(m::eips::POOL).arg("pool", &pool))}</span>
                <button id="allocate-eip" class="primary needs-operator" on:click=move |_| { allocate.dispatch(AllocateEip {}); }>{tr!(eips::ALLOCATE)}</button>
            </div>
            <table class="list" id="eip-table">
                <thead><tr><th>"ID"</th><th>{tr!(eips::EIP)}</th><th>{tr!(eips::BOUND_HAVIP)}</th><th>{tr!(eips::ALLOCATED)}</th><th>{tr!(eips::OPERATION)}</th></tr></thead>
                <tbody>
                    {move || eips.get().into_iter().map(|r| {
                        let id = r.eip.id.clone();
                        let bound = r.eip.havip_id.clone();
                        view! {
                            <tr data-ip=r.eip.ip.to_string()>
                                <td class="id">{r.eip.id.to_string()}</td>
                                <td class="ip">{r.eip.ip.to_string()}</td>
                                <td data-testid="eip-havip">{match bound.clone() {
                                    Some(h) => view! { <A href=format!("/havip/{h}")>{format!("{} ({h})", r.havip_name.unwrap_or_default())}</A> }.into_any(),
                                    None => "-".into_any(),
                                }}</td>
                                <td><Time ms=r.eip.allocated/></td>
                                <td class="ops needs-operator">{if bound.is_some() {
                                    view! { <button class="link" on:click=move |_| { unbind.dispatch(UnbindEip { eip_id: id.clone() }); }>{tr!(eips::UNBIND)}</button> }.into_any()
                                } else {
                                    view! { <button class="link danger" on:click=move |_| { release.dispatch(ReleaseEip { id: id.clone() }); }>{tr!(eips::RELEASE)}</button> }.into_any()
                                }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any() })}
        <FieldError message=error id="eip-error"/>
    }
}
