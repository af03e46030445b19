//! The login page and the first start's set-up page. Both are plain HTML forms sent to the
//! server (`POST /login`, `POST /setup`, and `GET /login/sso` to log in with the identity
//! provider), so they work before the page is hydrated; the server answers with the session
//! cookie and a redirect, or back here with `?error=`.

use crate::api::login::login_offers;
use crate::domain::auth::{check_password, checked_user_name};
use crate::domain::error::ApiError;
use crate::domain::sso::LocalLogin;
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::components::FieldError;
use crate::ui::first_load::FirstLoad;
use crate::ui::lang::{t, te, tf};
use crate::ui::loading::loaded;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn query(key: &'static str) -> Memo<Option<String>> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(key).filter(|v| !v.is_empty()))
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let next = query("next");
    let next = move || next.get().unwrap_or_else(|| "/".into());
    let options = FirstLoad::new(|| (), |_| login_offers());
    view! {
        <section class="card narrow" id="login">
            <h1>{tr!(login::TITLE)}</h1>
            {loaded(options, || (), move |result| {
                let options = result.unwrap_or_default();
                view! {
                    {options.sso.map(|provider| view! {
                        // a plain GET form: it works before the page is hydrated
                        <form method="get" action="/login/sso" class="sso">
                            <input type="hidden" name="next" value=next/>
                            <button id="sso-login" class="primary" type="submit">{move || tf(Text::new(m::login::SSO_BUTTON).arg("provider", &provider))}</button>
                        </form>
                    })}
                    {(options.local == LocalLogin::AdminsOnly).then(|| view! {
                        <p class="hint" id="local-admins-only">{tr!(login::LOCAL_ADMINS_ONLY)}</p>
                    })}
                    {(options.local != LocalLogin::Off).then(|| view! {
                        <form method="post" action="/login" class="form">
                            <input type="hidden" name="next" value=next/>
                            <label for="login-name">{tr!(login::USER_NAME)}</label>
                            <input id="login-name" name="name" type="text" autocomplete="username" required/>
                            <label for="login-password">{tr!(login::PASSWORD)}</label>
                            <input id="login-password" name="password" type="password" autocomplete="current-password" required/>
                            <span></span>
                            <button id="login-ok" class="primary" type="submit">{tr!(login::LOG_IN)}</button>
                        </form>
                    })}
                }
            })}
            <FieldError message=url_refusal() id="login-error"/>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    // the same rules as the server, while typing
    let name_error = Signal::derive(move || {
        let n = name.get();
        (!n.is_empty())
            .then(|| checked_user_name(&n).err().map(|e| tf(e.text())))
            .flatten()
    });
    let password_error = Signal::derive(move || {
        let p = password.get();
        (!p.is_empty())
            .then(|| check_password(&p).err().map(|e| tf(e.text())))
            .flatten()
    });
    let again_error = Signal::derive(move || {
        let a = again.get();
        (!a.is_empty() && a != password.get()).then(|| t(m::login::PASSWORDS_DIFFER).to_string())
    });
    let blocked = move || {
        name_error.get().is_some() || password_error.get().is_some() || again_error.get().is_some()
    };
    view! {
        <section class="card narrow" id="setup">
            <h1>{tr!(login::SETUP_TITLE)}</h1>
            <p class="hint">{tr!(login::SETUP_HINT)}</p>
            <form method="post" action="/setup" class="form">
                <label for="setup-code">{tr!(login::SETUP_CODE)}</label>
                <input id="setup-code" name="code" type="text" autocomplete="off" required/>
                <label for="setup-name">{tr!(login::USER_NAME)}</label>
                <div>
                    <input id="setup-name" name="name" type="text" autocomplete="username" required bind:value=name/>
                    <FieldError message=name_error id="setup-name-error"/>
                </div>
                <label for="setup-password">{tr!(login::PASSWORD)}</label>
                <div>
                    <input id="setup-password" name="password" type="password" autocomplete="new-password" required bind:value=password/>
                    <FieldError message=password_error id="setup-password-error"/>
                </div>
                <label for="setup-again">{tr!(login::PASSWORD_AGAIN)}</label>
                <div>
                    <input id="setup-again" type="password" autocomplete="new-password" required bind:value=again/>
                    <FieldError message=again_error id="setup-again-error"/>
                </div>
                <span></span>
                <button id="setup-ok" class="primary" type="submit" disabled=blocked>{tr!(login::CREATE_ADMIN)}</button>
            </form>
            <FieldError message=url_refusal() id="setup-error"/>
        </section>
    }
}

/// The refusal the server sent back in the URL (`server::console::login::error_query`): its
/// English (`error`), and its code and arguments, said here in the page's language.
fn url_refusal() -> Signal<Option<String>> {
    let q = use_query_map();
    Signal::derive(move || {
        q.with(|q| {
            let message = q.get("error").filter(|v| !v.is_empty())?;
            let mut refusal = ApiError::unauthorized(message);
            refusal.code = q.get("code");
            for (name, value) in q {
                if let Some(arg) = name.strip_prefix("a.") {
                    refusal.args.insert(arg.to_string(), value.to_string());
                } else if let Some(word) = name.strip_prefix("w.") {
                    refusal.words.insert(word.to_string(), value.to_string());
                }
            }
            Some(te(&refusal))
        })
    })
}
