use crate::api::havips::DeleteHavip;
use crate::domain::ids::HavipId;
use crate::ui::components::{on_success, refusal, FieldError, Modal};
use leptos::prelude::*;

#[component]
pub fn ConfirmDeleteDialog(id: HavipId, label: String, on_close: Callback<()>) -> impl IntoView {
    let delete = ServerAction::<DeleteHavip>::new();
    let error = refusal(delete);
    on_success(delete, move || on_close.run(()));
    view! {
        <Modal title="Delete HAVIP".into() id="delete-dialog">
            <p>"Delete " <strong>{label}</strong> "? Hosts that still announce this address keep it on their side; the console stops tracking it."</p>
            <FieldError message=error id="delete-error"/>
            <div class="buttons">
                <button id="delete-ok" class="danger" on:click=move |_| { delete.dispatch(DeleteHavip { id: id.clone() }); } disabled=move || delete.pending().get()>"Delete"</button>
                <button on:click=move |_| on_close.run(())>"Cancel"</button>
            </div>
        </Modal>
    }
}
