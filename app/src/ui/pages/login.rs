//! The login page and the first start's set-up page. Both are plain HTML forms sent to the
//! server (`POST /login`, `POST /setup`, and `GET /login/sso` to log in with the identity
//! provider), so they work before the page is hydrated; the server answers with the session
//! cookie and a redirect, or back here with `?error=`.

use crate::api::login::login_offers;
use crate::domain::auth::{check_password, check_user_name};
use crate::domain::sso::LocalLogin;
use crate::ui::components::FieldError;
use crate::ui::first_load::FirstLoad;
use crate::ui::loading::loaded;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn query(key: &'static str) -> Memo<Option<String>> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(key).filter(|v| !v.is_empty()))
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let error = query("error");
    let next = query("next");
    let next = move || next.get().unwrap_or_else(|| "/".into());
    let options = FirstLoad::new(|| (), |_| login_offers());
    view! {
        <section class="card narrow" id="login">
            <h1>"Log in"</h1>
            {loaded(options, || (), move |result| {
                let options = result.unwrap_or_default();
                view! {
                    {options.sso.map(|provider| view! {
                        // a plain GET form: it works before the page is hydrated
                        <form method="get" action="/login/sso" class="sso">
                            <input type="hidden" name="next" value=next/>
                            <button id="sso-login" class="primary" type="submit">{format!("Log in with {provider}")}</button>
                        </form>
                    })}
                    {(options.local == LocalLogin::AdminsOnly).then(|| view! {
                        <p class="hint" id="local-admins-only">"Local logins: administrators only."</p>
                    })}
                    {(options.local != LocalLogin::Off).then(|| view! {
                        <form method="post" action="/login" class="form">
                            <input type="hidden" name="next" value=next/>
                            <label for="login-name">"User name"</label>
                            <input id="login-name" name="name" type="text" autocomplete="username" required/>
                            <label for="login-password">"Password"</label>
                            <input id="login-password" name="password" type="password" autocomplete="current-password" required/>
                            <span></span>
                            <button id="login-ok" class="primary" type="submit">"Log in"</button>
                        </form>
                    })}
                }
            })}
            <FieldError message=Signal::derive(move || error.get()) id="login-error"/>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let error = query("error");
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    // the same rules as the server, while typing
    let name_error = Signal::derive(move || {
        let n = name.get();
        (!n.is_empty()).then(|| check_user_name(&n).err()).flatten()
    });
    let password_error = Signal::derive(move || {
        let p = password.get();
        (!p.is_empty())
            .then(|| check_password(&p).err().map(|e| e.to_string()))
            .flatten()
    });
    let again_error = Signal::derive(move || {
        let a = again.get();
        (!a.is_empty() && a != password.get()).then(|| "The passwords differ.".to_string())
    });
    let blocked = move || {
        name_error.get().is_some() || password_error.get().is_some() || again_error.get().is_some()
    };
    view! {
        <section class="card narrow" id="setup">
            <h1>"Create the first administrator"</h1>
            <p class="hint">
                "The console has no user yet. The set-up code is in the console's log, printed when it started."
            </p>
            <form method="post" action="/setup" class="form">
                <label for="setup-code">"Set-up code"</label>
                <input id="setup-code" name="code" type="text" autocomplete="off" required/>
                <label for="setup-name">"User name"</label>
                <div>
                    <input id="setup-name" name="name" type="text" autocomplete="username" required bind:value=name/>
                    <FieldError message=name_error id="setup-name-error"/>
                </div>
                <label for="setup-password">"Password"</label>
                <div>
                    <input id="setup-password" name="password" type="password" autocomplete="new-password" required bind:value=password/>
                    <FieldError message=password_error id="setup-password-error"/>
                </div>
                <label for="setup-again">"Password again"</label>
                <div>
                    <input id="setup-again" type="password" autocomplete="new-password" required bind:value=again/>
                    <FieldError message=again_error id="setup-again-error"/>
                </div>
                <span></span>
                <button id="setup-ok" class="primary" type="submit" disabled=blocked>"Create administrator"</button>
            </form>
            <FieldError message=Signal::derive(move || error.get()) id="setup-error"/>
        </section>
    }
}
