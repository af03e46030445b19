//! API keys (every user, their own; administrators see and manage everyone's): SecretId/SecretKey
//! pairs for the Tencent Cloud API 3.0 compatible endpoint. The SecretKey is shown once, when
//! the key is made; making one needs the password again unless the login was recent.

use crate::api::keys::{api_keys_page, CreateApiKey, DeleteApiKey, SetApiKeyDisabled};
use crate::api::live::{Interest, Topic};
use crate::domain::pages::ApiKeyRow;
use crate::i18n::{m, Msg};
use crate::tr;
use crate::ui::components::{field_refusal, on_success, refusal, refusals, FieldError};
use crate::ui::lang::t;
use crate::ui::live::{page_data, Watch};
use crate::ui::loading::page_view;
use crate::ui::zone::{local_time, Time};
use leptos::prelude::*;

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let data = page_data(
        || (),
        |()| api_keys_page(),
        Watch::reload(|_, _| Interest::new(&[Topic::Users])),
    );
    let create = ServerAction::<CreateApiKey>::new();
    let disable = ServerAction::<SetApiKeyDisabled>::new();
    let delete = ServerAction::<DeleteApiKey>::new();
    let created = move || create.value().get().and_then(Result::ok);
    let password = RwSignal::new(String::new());
    on_success(create, move || password.set(String::new()));
    let password_error = Signal::derive(move || field_refusal(create, Some("password")));
    let error = refusals(vec![
        Signal::derive(move || field_refusal(create, None)),
        refusal(disable),
        refusal(delete),
    ]);
    let rows = Memo::new(move |_| data.with(|d: &Vec<ApiKeyRow>| d.clone()));
    view! {
        <div class="page-head"><h1>{tr!(keys::TITLE)}</h1></div>
        <p class="hint">
            {move || around(m::keys::HINT, "flag").0}<code>"havip serve --api-listen"</code>
            {move || around(m::keys::HINT, "flag").1}
        </p>
        {page_view(data.first, move |_| view! {
            <table class="list" id="key-table">
                <thead><tr><th>"SecretId"</th><th>{tr!(keys::COL_OWNER)}</th><th>{tr!(keys::COL_CREATED)}</th><th>{tr!(keys::COL_LAST_USED)}</th><th>{tr!(keys::COL_STATE)}</th><th>{tr!(keys::COL_OPERATION)}</th></tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|k| (k.id.clone(), k.disabled, k.last_used) children=move |k| key_row(k, disable, delete)/>
                </tbody>
            </table>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="empty">{tr!(keys::NONE_YET)}</p>
            </Show>
        }.into_any())}
        <FieldError message=error id="key-error"/>
        <section class="card" id="create-key-form">
            <h2>{tr!(keys::CREATE_TITLE)}</h2>
            <p class="hint">{tr!(keys::PASSWORD_HINT)}</p>
            <div class="form">
                <label for="key-password">{tr!(keys::YOUR_PASSWORD)}</label>
                <div>
                    <input id="key-password" type="password" autocomplete="current-password" bind:value=password/>
                    <FieldError message=password_error id="key-password-error"/>
                </div>
            </div>
            <button id="create-key" class="primary" disabled=move || create.pending().get() on:click=move |_| {
                create.dispatch(CreateApiKey { password: Some(password.get_untracked()) });
            }>{tr!(keys::CREATE)}</button>
        </section>
        <Show when=move || created().is_some()>
            <div class="card token" id="key-secret-card">
                <h2>{tr!(keys::NEW_KEY)}</h2>
                <p>{tr!(keys::COPY_NOW)}</p>
                <dl>
                    <dt>"SecretId"</dt><dd><code id="new-secret-id">{move || created().map(|c| c.key.id).unwrap_or_default()}</code></dd>
                    <dt>"SecretKey"</dt><dd><code id="new-secret-key">{move || created().map(|c| c.secret_key).unwrap_or_default()}</code></dd>
                </dl>
            </div>
        </Show>
    }
}

fn key_row(
    k: ApiKeyRow,
    disable: ServerAction<SetApiKeyDisabled>,
    delete: ServerAction<DeleteApiKey>,
) -> impl IntoView {
    let id = StoredValue::new(k.id.clone());
    let disabled = k.disabled;
    let used = k.last_used;
    let last_used = move || {
        if used == 0 {
            t(m::keys::NEVER).to_string()
        } else {
            local_time(used)
        }
    };
    view! {
        <tr data-id=k.id.clone()>
            <td><code>{k.id.clone()}</code></td>
            <td data-testid="owner">{k.user.clone()}</td>
            <td><Time ms=k.created/></td>
            <td data-testid="last-used">{last_used}</td>
            <td data-testid="state">{move || if disabled { t(m::keys::DISABLED) } else { t(m::keys::ACTIVE) }}</td>
            <td class="ops">
                <button class="link" on:click=move |_| { disable.dispatch(SetApiKeyDisabled { id: id.get_value(), disabled: !disabled }); }>
                    {move || if disabled { t(m::keys::ENABLE) } else { t(m::keys::DISABLE) }}
                </button>
                <button class="link danger" on:click=move |_| { delete.dispatch(DeleteApiKey { id: id.get_value() }); }>{tr!(keys::DELETE)}</button>
            </td>
        </tr>
    }
}

/// The words of `msg` before and after its `{name}`, where the page puts an element.
fn around(msg: Msg, name: &str) -> (&'static str, &'static str) {
    let text = t(msg);
    text.split_once(format!("{{{name}}}").as_str())
        .unwrap_or((text, ""))
}
