use crate::api::havips::DeleteHavip;
use crate::domain::ids::HavipId;
use crate::i18n::m;
use crate::tr;
use crate::ui::components::{on_success, refusal, FieldError, Modal};
use crate::ui::dialogs::with_bold;
use crate::ui::lang::signal_of;
use leptos::prelude::*;

#[component]
pub fn ConfirmDeleteDialog(id: HavipId, label: String, on_close: Callback<()>) -> impl IntoView {
    let delete = ServerAction::<DeleteHavip>::new();
    let error = refusal(delete);
    on_success(delete, move || on_close.run(()));
    view! {
        <Modal title=signal_of(m::dialogs::DELETE_TITLE) id="delete-dialog">
            <p>{with_bold(m::dialogs::DELETE_QUESTION, "havip", move || label.clone())}</p>
            <FieldError message=error id="delete-error"/>
            <div class="buttons">
                <button id="delete-ok" class="danger" on:click=move |_| { delete.dispatch(DeleteHavip { id: id.clone() }); } disabled=move || delete.pending().get()>{tr!(dialogs::DELETE)}</button>
                <button on:click=move |_| on_close.run(())>{tr!(dialogs::CANCEL)}</button>
            </div>
        </Modal>
    }
}
