//! Users (administrators only): add users, change their role, disable, delete, set a password,
//! end their sessions. The last administrator can be neither demoted, disabled nor deleted.

use crate::api::live::{Interest, Topic};
use crate::api::users::{users_page, AddUser, DeleteUser, EndUserSessions, SetUserDisabled};
use crate::api::users::{SetUserPassword, SetUserRole};
use crate::domain::auth::{check_password, Role};
use crate::domain::pages::UserRow;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::{field_refusal, on_success, refusal, refusals, FieldError};
use crate::ui::lang::{t, tf};
use crate::ui::live::{page_data, Watch};
use crate::ui::loading::page_view;
use crate::ui::zone::Time;
use leptos::prelude::*;

#[derive(Clone, Copy)]
struct Actions {
    role: ServerAction<SetUserRole>,
    disable: ServerAction<SetUserDisabled>,
    delete: ServerAction<DeleteUser>,
    end: ServerAction<EndUserSessions>,
    password: ServerAction<SetUserPassword>,
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let data = page_data(
        || (),
        |()| users_page(),
        Watch::reload(|_, _| Interest::new(&[Topic::Users])),
    );
    let actions = Actions {
        role: ServerAction::new(),
        disable: ServerAction::new(),
        delete: ServerAction::new(),
        end: ServerAction::new(),
        password: ServerAction::new(),
    };
    let error = refusals(vec![
        refusal(actions.role),
        refusal(actions.disable),
        refusal(actions.delete),
        refusal(actions.end),
        refusal(actions.password),
    ]);
    let users = Memo::new(move |_| data.with(|d: &Vec<UserRow>| d.clone()));
    view! {
        <div class="page-head"><h1>{tr!(users::TITLE)}</h1></div>
        {page_view(data.first, move |_| view! {
            <table class="list" id="user-table">
                <thead><tr><th>{tr!(users::COL_NAME)}</th><th>{tr!(users::COL_ROLE)}</th><th>{tr!(users::COL_SOURCE)}</th><th>{tr!(users::COL_STATE)}</th><th>{tr!(users::COL_SESSIONS)}</th><th>{tr!(users::COL_CREATED)}</th><th>{tr!(users::COL_OPERATION)}</th></tr></thead>
                <tbody>
                    <For each=move || users.get() key=|u| u.name.clone() children=move |u| user_row(u.name, users, actions)/>
                </tbody>
            </table>
            <FieldError message=error id="users-error"/>
            <NewUserForm/>
        }.into_any())}
    }
}

fn user_row(name: String, users: Memo<Vec<UserRow>>, actions: Actions) -> impl IntoView {
    let row = {
        let name = name.clone();
        Memo::new(move |_| users.with(|l| l.iter().find(|u| u.name == name).cloned()))
    };
    let name = StoredValue::new(name);
    let disabled = move || row.with(|r| r.as_ref().is_some_and(|r| r.disabled));
    let role = move || row.with(|r| r.as_ref().map_or(Role::Viewer, |r| r.role));
    let new_password = RwSignal::new(String::new());
    let revoke_keys = RwSignal::new(true);
    // a user of single sign-on has no local password to set
    let local = move || row.with(|r| r.as_ref().is_some_and(|r| r.sso_issuer.is_none()));
    view! {
        <tr data-name=name.get_value()>
            <td data-testid="name">{name.get_value()}</td>
            <td>
                <select aria-label=tr!(users::ROLE) on:change=move |ev| {
                    if let Ok(role) = event_target_value(&ev).parse::<Role>() {
                        actions.role.dispatch(SetUserRole { name: name.get_value(), role });
                    }
                }>
                    {[Role::Viewer, Role::Operator, Role::Admin].into_iter().map(|r| view! {
                        <option value=r.name() selected=move || role() == r>{move || t(r.word())}</option>
                    }).collect_view()}
                </select>
            </td>
            <td data-testid="source">{move || row.with(|r| r.as_ref().map(source))}</td>
            <td data-testid="state">{move || if disabled() { t(m::users::DISABLED) } else { t(m::users::ACTIVE) }}</td>
            <td data-testid="sessions">{move || row.with(|r| r.as_ref().map(|r| r.sessions))}</td>
            <td>{move || row.with(|r| r.as_ref().map(|r| view! { <Time ms=r.created/> }))}</td>
            <td class="ops">
                <button class="link" on:click=move |_| { actions.disable.dispatch(SetUserDisabled { name: name.get_value(), disabled: !disabled() }); }>
                    {move || if disabled() { t(m::users::ENABLE) } else { t(m::users::DISABLE) }}
                </button>
                <button class="link" on:click=move |_| { actions.end.dispatch(EndUserSessions { name: name.get_value() }); }>{tr!(users::END_SESSIONS)}</button>
                <Show when=local>
                    <input type="password" aria-label=tr!(users::NEW_PASSWORD_LABEL) placeholder=tr!(users::NEW_PASSWORD_PLACEHOLDER) bind:value=new_password/>
                    <label class="inline"><input type="checkbox" aria-label=tr!(users::REVOKE_KEYS_LABEL) bind:checked=revoke_keys/>{tr!(users::REVOKE_KEYS)}</label>
                    <button class="link" on:click=move |_| {
                        actions.password.dispatch(SetUserPassword {
                            name: name.get_value(),
                            password: new_password.get_untracked(),
                            revoke_keys: Some(revoke_keys.get_untracked()),
                        });
                        new_password.set(String::new());
                    }>{tr!(users::SET_PASSWORD)}</button>
                </Show>
                <button class="link danger" on:click=move |_| { actions.delete.dispatch(DeleteUser { name: name.get_value() }); }>{tr!(users::DELETE)}</button>
            </td>
        </tr>
    }
}

/// Where the user comes from, in the page's language (`UserRow::source` says it in English).
fn source(row: &UserRow) -> String {
    match &row.sso_issuer {
        Some(issuer) => tf(Text::new(m::users::SOURCE_SSO).arg("issuer", issuer)),
        None => t(m::users::SOURCE_LOCAL).to_string(),
    }
}

#[component]
fn NewUserForm() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Operator);
    let password = RwSignal::new(String::new());
    let add = ServerAction::<AddUser>::new();
    on_success(add, move || {
        name.set(String::new());
        password.set(String::new());
    });
    // the same rule as the server, while typing
    let password_error = Signal::derive(move || {
        let p = password.get();
        (!p.is_empty())
            .then(|| check_password(&p).err().map(|e| tf(e.text())))
            .flatten()
            .or_else(|| field_refusal(add, Some("password")))
    });
    let other_error = Signal::derive(move || {
        field_refusal(add, Some("name")).or_else(|| field_refusal(add, None))
    });
    view! {
        <section class="card" id="new-user">
            <h2>{tr!(users::NEW_USER)}</h2>
            <div class="form">
                <label for="user-name">{tr!(users::USER_NAME)}</label>
                <input id="user-name" type="text" bind:value=name/>
                <label for="user-role">{tr!(users::ROLE)}</label>
                <select id="user-role" on:change=move |ev| {
                    if let Ok(r) = event_target_value(&ev).parse::<Role>() { role.set(r); }
                }>
                    {[Role::Viewer, Role::Operator, Role::Admin].into_iter().map(|r| view! {
                        <option value=r.name() selected=r == Role::Operator>{move || t(r.word())}</option>
                    }).collect_view()}
                </select>
                <label for="user-password">{tr!(users::PASSWORD)}</label>
                <div>
                    <input id="user-password" type="password" autocomplete="new-password" bind:value=password/>
                    <FieldError message=password_error id="user-password-error"/>
                </div>
            </div>
            <FieldError message=other_error id="new-user-error"/>
            <button id="add-user" class="primary" disabled=move || add.pending().get() on:click=move |_| {
                add.dispatch(AddUser { name: name.get_untracked(), role: role.get_untracked(), password: password.get_untracked() });
            }>{tr!(users::ADD_USER)}</button>
        </section>
    }
}
