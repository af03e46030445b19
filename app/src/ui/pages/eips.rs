//! EIPs: public addresses from the operator's pool; allocate, release, see what they are bound to.

use crate::api::eips::{eips_page, AllocateEip, ReleaseEip, UnbindEip};
use crate::domain::model::format_time;
use crate::ui::components::FieldError;
use crate::ui::live::use_live;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn EipsPage() -> impl IntoView {
    let live = use_live();
    let reload = RwSignal::new(0u64);
    let page = Resource::new(move || (live.tick.get(), reload.get()), |_| eips_page());
    let allocate = ServerAction::<AllocateEip>::new();
    let release = ServerAction::<ReleaseEip>::new();
    let unbind = ServerAction::<UnbindEip>::new();
    Effect::new(move |_| {
        allocate.version().get();
        release.version().get();
        unbind.version().get();
        reload.update(|n| *n += 1);
    });
    let error = Signal::derive(move || {
        let err = |v: Option<Result<String, String>>| v.and_then(Result::err);
        err(allocate
            .value()
            .get()
            .map(|r| r.map(|_| String::new()).map_err(|e| e.message)))
        .or_else(|| {
            err(release
                .value()
                .get()
                .map(|r| r.map(|_| String::new()).map_err(|e| e.message)))
        })
        .or_else(|| {
            err(unbind
                .value()
                .get()
                .map(|r| r.map(|_| String::new()).map_err(|e| e.message)))
        })
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => view! {
                        <div class="page-head">
                            <h1>"EIPs"</h1>
                            <span class="hint">{format!("pool {}", data.pool)}</span>
                            <button id="allocate-eip" class="primary" on:click=move |_| { allocate.dispatch(AllocateEip {}); }>"Allocate EIP"</button>
                        </div>
                        <table class="list" id="eip-table">
                            <thead><tr><th>"ID"</th><th>"EIP"</th><th>"Bound HAVIP"</th><th>"Allocated"</th><th>"Operation"</th></tr></thead>
                            <tbody>
                                {data.eips.into_iter().map(|r| {
                                    let id = r.eip.id.clone();
                                    let bound = r.eip.havip_id.clone();
                                    view! {
                                        <tr data-ip=r.eip.ip.to_string()>
                                            <td class="id">{r.eip.id.clone()}</td>
                                            <td class="ip">{r.eip.ip.to_string()}</td>
                                            <td data-testid="eip-havip">{match bound.clone() {
                                                Some(h) => view! { <A href=format!("/havip/{h}")>{format!("{} ({h})", r.havip_name.unwrap_or_default())}</A> }.into_any(),
                                                None => "-".into_any(),
                                            }}</td>
                                            <td>{format_time(r.eip.allocated)}</td>
                                            <td class="ops">{if bound.is_some() {
                                                view! { <button class="link" on:click=move |_| { unbind.dispatch(UnbindEip { eip_id: id.clone() }); }>"Unbind"</button> }.into_any()
                                            } else {
                                                view! { <button class="link danger" on:click=move |_| { release.dispatch(ReleaseEip { id: id.clone() }); }>"Release"</button> }.into_any()
                                            }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
        <FieldError message=error id="eip-error"/>
    }
}
