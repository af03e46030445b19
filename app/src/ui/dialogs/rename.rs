use crate::api::havips::RenameHavip;
use crate::domain::ids::HavipId;
use crate::domain::name::check_name;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{on_success, refusal, FieldError, Modal};
use crate::ui::lang::tf;
use leptos::prelude::*;

#[component]
pub fn RenameDialog(id: HavipId, current: String, on_close: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(current);
    let rename = ServerAction::<RenameHavip>::new();
    let refused = refusal(rename);
    let error = Signal::derive(move || {
        check_name(&name.get())
            .err()
            .map(|e| tf(e.text()))
            .or_else(|| refused.get())
    });
    on_success(rename, move || on_close.run(()));
    let title = {
        let id = id.to_string();
        Signal::derive(move || tf(Text::new(m::dialogs::RENAME_TITLE).arg("id", &id)))
    };
    let submit = move |_| {
        if check_name(&name.get_untracked()).is_ok() {
            rename.dispatch(RenameHavip {
                id: id.clone(),
                name: name.get_untracked(),
            });
        }
    };
    view! {
        <Modal title=title id="rename-dialog">
            <div class="form">
                <label for="rename-input">{tr!(dialogs::NAME)}</label>
                <div>
                    <input id="rename-input" type="text" bind:value=name/>
                    <FieldError message=error id="rename-error"/>
                </div>
            </div>
            <div class="buttons">
                <button id="rename-ok" class="primary" on:click=submit disabled=move || rename.pending().get()>{tr!(dialogs::OK)}</button>
                <button on:click=move |_| on_close.run(())>{tr!(dialogs::CANCEL)}</button>
            </div>
        </Modal>
    }
}
