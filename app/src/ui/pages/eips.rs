//! EIPs: public addresses from the operator's pool; allocate, release, see what they are bound to.

use crate::api::eips::{eips_page, AllocateEip, ReleaseEip, UnbindEip};
use crate::api::live::{Interest, Topic};
use crate::ui::components::{refusal, refusals, FieldError};
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
        {page_view(data.first, move |first| view! {
            <div class="page-head">
                <h1>"EIPs"</h1>
                <span class="hint">{format!("pool {}", first.pool)}</span>
                <button id="allocate-eip" class="primary needs-operator" on:click=move |_| { allocate.dispatch(AllocateEip {}); }>"Allocate EIP"</button>
            </div>
            <table class="list" id="eip-table">
                <thead><tr><th>"ID"</th><th>"EIP"</th><th>"Bound HAVIP"</th><th>"Allocated"</th><th>"Operation"</th></tr></thead>
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
                                    view! { <button class="link" on:click=move |_| { unbind.dispatch(UnbindEip { eip_id: id.clone() }); }>"Unbind"</button> }.into_any()
                                } else {
                                    view! { <button class="link danger" on:click=move |_| { release.dispatch(ReleaseEip { id: id.clone() }); }>"Release"</button> }.into_any()
                                }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any())}
        <FieldError message=error id="eip-error"/>
    }
}
