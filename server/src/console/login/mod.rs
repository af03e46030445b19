//! The routes that change who is logged in: `POST /login`, `/logout`, `/setup`.
//!
//! A login is checked in this order, cheapest first, so nothing an outsider sends costs the
//! console more than the back-off allows:
//! 1. the name is validated (1–64 of `a-z 0-9 . _ -`; anything else is refused with 400, never
//!    hashed, logged or audited), the password's length too;
//! 2. the throttle (`throttle`) lets the attempt through or refuses it with 429 and
//!    `Retry-After`: refused attempts are counted in `/metrics`, not written to the audit log;
//! 3. the password is checked (argon2id, at most one check per core at once);
//! 4. a success starts a session and gives the browser a device cookie (`device`).

pub mod device;
pub mod next;
pub mod throttle;

use crate::console::access::{
    add_cookie, cookie, encode, session_cookie, session_cookie_name, set_cookie, Access, Client,
    Https,
};
use crate::console::refusal::Refusal;
use app::domain::audit::Actor;
use app::domain::auth::{checked_user_name, Principal, PASSWORD_MAX_BYTES};
use app::domain::error::ApiError;
use app::domain::sso::LocalLogin;
use app::i18n::{m, Text};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Form, Router};
use cookie::SameSite;
use serde::Deserialize;
use throttle::{Key, Refused};

/// The device cookie's name over plain HTTP, and over HTTPS (see `SECURE_SESSION_COOKIE`).
pub const DEVICE_COOKIE: &str = "havip_device";
pub const SECURE_DEVICE_COOKIE: &str = "__Host-havip_device";

fn device_cookie_name(https: bool) -> &'static str {
    if https {
        SECURE_DEVICE_COOKIE
    } else {
        DEVICE_COOKIE
    }
}

pub fn routes(access: Access) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/setup", post(setup))
        .with_state(access)
}

/// A browser's form gets a redirect (back to the form with the message on failure); a script
/// gets JSON and the status.
fn answer(
    browser: bool,
    result: Result<(Principal, String), ApiError>,
    https: bool,
    back_to: &str,
    next: String,
) -> Response {
    match result {
        Ok((principal, token)) => {
            let mut response = if browser {
                Redirect::to(&next).into_response()
            } else {
                axum::Json(principal).into_response()
            };
            add_cookie(&mut response, session_cookie(&token, https));
            response
        }
        Err(e) if browser => Redirect::to(&format!(
            "{back_to}?{}&next={}",
            error_query(&e),
            encode(&next)
        ))
        .into_response(),
        Err(e) => Refusal(e).into_response(),
    }
}

/// The language `user` chose before, if any, brought back by their login: its cookie (the
/// pages are rendered in the cookie's language), in this browser too.
pub(crate) fn add_language_cookie(store: &app::store::Store, user: &str, response: &mut Response) {
    let chosen = (store.user(user).ok().flatten())
        .and_then(|u| u.language)
        .and_then(|tag| app::i18n::Lang::from_tag(&tag));
    if let Some(lang) = chosen {
        add_cookie(response, app::api::language::language_cookie(lang));
    }
}

/// A refusal as the login and set-up pages read it from their URL: `error` (its English, as
/// before), and its code with its arguments (`code`, `a.NAME`, words as `w.NAME`), which the
/// page says in its own language. No secret is ever in a refusal.
pub(crate) fn error_query(e: &ApiError) -> String {
    let mut query = format!("error={}", encode(&e.message));
    if let Some(code) = &e.code {
        query.push_str(&format!("&code={}", encode(code)));
        for (name, value) in e.args.iter() {
            query.push_str(&format!("&a.{}={}", encode(name), encode(value)));
        }
        for (name, word) in e.words.iter() {
            query.push_str(&format!("&w.{}={}", encode(name), encode(word)));
        }
    }
    query
}

fn from_browser(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

fn refused(refusal: Refused) -> ApiError {
    let reason = match refusal {
        Refused::BackOff(_) => "back_off",
        Refused::Busy => "busy",
        Refused::Unavailable => "unavailable",
    };
    crate::console::metrics::LOGINS_REFUSED
        .get_or_create(&vec![("reason", reason.to_string())])
        .inc();
    let wait = refusal.retry_after_s();
    match refusal {
        Refused::BackOff(_) => {
            ApiError::too_many(Text::new(m::errors_console::LOGINS_FAILED).arg("wait", wait))
        }
        Refused::Busy => {
            ApiError::too_many(Text::new(m::errors_console::LOGINS_BUSY).arg("wait", wait))
        }
        Refused::Unavailable => ApiError::unavailable(m::errors_console::LOGINS_UNAVAILABLE),
    }
}

async fn login(
    State(access): State<Access>,
    Extension(client): Extension<Client>,
    Extension(Https(https)): Extension<Https>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let browser = from_browser(&headers);
    let next = next::safe_next(form.next.as_deref());
    if access.local_login == LocalLogin::Off {
        let off = match &access.sso {
            Some(s) => Text::new(m::errors_console::LOCAL_LOGINS_OFF).arg("provider", &s.name),
            None => Text::new(m::errors_console::LOCAL_LOGINS_OFF_SSO),
        };
        let e = ApiError::forbidden(off);
        return answer(browser, Err(e), https, "/login", next);
    }
    let name = match checked_user_name(&form.name) {
        Ok(name) => name.to_ascii_lowercase(),
        Err(e) => {
            return answer(
                browser,
                Err(ApiError::invalid("name", e)),
                https,
                "/login",
                next,
            )
        }
    };
    if form.password.len() > PASSWORD_MAX_BYTES {
        let e = ApiError::invalid("password", m::errors_store::WRONG_LOGIN);
        return answer(browser, Err(e), https, "/login", next);
    }
    let now = app::support::now_ms();
    let device = cookie(&headers, device_cookie_name(https))
        .and_then(|value| access.device_key.device_for(&value, &name, now / 1000));
    let keys = match &device {
        Some(device) => vec![Key::Device(device.clone())],
        None => vec![Key::Name(name.clone()), Key::network(client.0)],
    };
    let attempt = match access.throttle.attempt(keys, device.is_some(), now).await {
        Ok(attempt) => attempt,
        Err(refusal) => {
            let mut response = answer(browser, Err(refused(refusal)), https, "/login", next);
            if let Ok(value) = HeaderValue::from_str(&refusal.retry_after_s().to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
    };
    let result = (access.store)
        .local_login(&name, &form.password, client.0, access.local_login)
        .await;
    match &result {
        Ok((p, _)) => tracing::info!(user = ?p.user, "login"),
        Err(e) => tracing::info!(user = ?name, "login refused: {}", e.message),
    }
    let succeeded = result.is_ok();
    if succeeded {
        attempt.succeeded();
    } else {
        drop(attempt);
    }
    let user = result.as_ref().ok().map(|(p, _)| p.user.clone());
    let mut response = answer(browser, result, https, "/login", next);
    if let Some(user) = user {
        add_language_cookie(&access.store, &user, &mut response);
    }
    if succeeded {
        let value = access.device_key.issue(&name, now / 1000);
        let max_age = device::LIFETIME_S;
        let name = device_cookie_name(https);
        add_cookie(
            &mut response,
            set_cookie(name, &value, max_age, https, SameSite::Strict),
        );
    }
    response
}

async fn logout(
    State(access): State<Access>,
    Extension(client): Extension<Client>,
    Extension(Https(https)): Extension<Https>,
    headers: HeaderMap,
) -> Response {
    let name = session_cookie_name(https);
    let mut single_sign_on = false;
    if let Some(token) = cookie(&headers, name) {
        single_sign_on = signed_on(&access, &token);
        // recorded for the session's user, from this address
        let store = access.store.acting(Actor::user("", client.0));
        if let Err(e) = store.end_session(&token).await {
            return Refusal(e).into_response();
        }
    }
    // a person who logged in with single sign-on is logged out at the provider too, where it
    // offers that; they come back to the login page
    let provider_logout = match (&access.sso, single_sign_on) {
        (Some(sso), true) => sso.end_session_url().await,
        _ => None,
    };
    let mut response = if from_browser(&headers) {
        let to = provider_logout.map_or_else(|| "/login".to_string(), |url| url.to_string());
        Redirect::to(&to).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    add_cookie(&mut response, set_cookie(name, "", 0, https, SameSite::Lax));
    response
}

/// Whether the session of `token` is of a user who logs in with single sign-on.
fn signed_on(access: &Access, token: &str) -> bool {
    let key = app::support::sha256_hex(token);
    let now = app::support::now_ms();
    let principal = access.store.session_by_key(&key, now).ok().flatten();
    principal
        .and_then(|(p, _)| access.store.user(&p.user).ok().flatten())
        .is_some_and(|user| user.sso.is_some())
}

#[derive(Deserialize)]
struct SetupForm {
    code: String,
    name: String,
    password: String,
}

/// Creates the first administrator, given the set-up code from the console's log.
async fn setup(
    State(access): State<Access>,
    Extension(client): Extension<Client>,
    Extension(Https(https)): Extension<Https>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    let result = async {
        // the right code is taken (used up) at once, so two requests cannot both use it; it is
        // put back if the administrator cannot be created (a refused name or password)
        let taken = {
            let mut slot = app::support::lock(&access.setup_code);
            let right = slot
                .as_deref()
                .is_some_and(|c| app::support::same_secret(c, form.code.trim()));
            if slot.is_none() {
                return Err(ApiError::conflict(m::errors_store::SET_UP_ALREADY));
            }
            if !right {
                return Err(ApiError::unauthorized(m::errors_console::SETUP_CODE_WRONG));
            }
            slot.take()
        };
        if let Err(e) = access
            .store
            .acting(Actor::user(form.name.trim(), client.0))
            .create_first_admin(&form.name, &form.password)
            .await
        {
            *app::support::lock(&access.setup_code) = taken;
            return Err(e);
        }
        tracing::info!(user = ?form.name.trim(), "first administrator created");
        access
            .store
            .login(&form.name, &form.password, client.0)
            .await
    }
    .await;
    answer(from_browser(&headers), result, https, "/setup", "/".into())
}
