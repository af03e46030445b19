//! Single sign-on with an OpenID Connect provider (Keycloak, Microsoft Entra ID, Okta, …):
//! `GET /login/sso` sends the browser to the provider, `GET /login/sso/callback` takes it
//! back. The person's user is made at their first login, and takes the role their groups
//! give at every login (`app::domain::sso::GroupRoles`); a user disabled in havip stays
//! refused. Every refusal goes back to the login page with its message and changes nothing
//! else; the audit log has the provider's subject when known, never a token.
//!
//! The callback is checked, in this order: the login state cookie (this browser started this
//! login, within 10 minutes, signed by this console), its `state` against the one sent back,
//! the `state`'s first use (a replayed callback is refused on every replica), the provider's
//! own `error`, the code's exchange with the PKCE verifier, then the ID token (`provider`).
//! Refusals before the code's exchange are logged and counted (`havip_sso_refused`), not
//! audited: anyone can send them. Those after it are in the audit log too.

mod args;
mod provider;
pub mod state;

pub use args::OidcArgs;

use crate::console::access::{add_cookie, cookie, encode, session_cookie, set_cookie, Access};
use crate::console::access::{Client, Https};
use crate::console::login::next::safe_next;
use app::domain::error::{ApiError, Says};
use app::domain::sso::GroupRoles;
use app::i18n::{m, Text};
use app::store::{SsoIdentity, SsoPerson};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use cookie::SameSite;
use provider::{Failure, Provider};
use serde::Deserialize;
use state::{state_cookie_name, StateKey};

/// The path the provider sends browsers back to (`--oidc-redirect-url` ends with it).
pub const CALLBACK_PATH: &str = "/login/sso/callback";
pub const START_PATH: &str = "/login/sso";

/// Single sign-on as configured.
pub struct Sso {
    /// the name on the login page's button
    pub name: String,
    provider: Provider,
    roles: GroupRoles,
    state_key: StateKey,
    /// the console's login page, for the provider's logout to come back to
    login_page: url::Url,
}

impl Sso {
    /// Reads the provider's metadata in the background (a provider that is down at start
    /// is asked again at the first login).
    pub fn discover_in_background(self: &std::sync::Arc<Self>) {
        let sso = self.clone();
        tokio::spawn(async move {
            match sso.provider.discover().await {
                Err(Failure::Unreachable(e)) => {
                    tracing::warn!("the identity provider cannot be reached yet: {e}")
                }
                Err(Failure::Refused(e)) => {
                    tracing::warn!("the identity provider cannot be reached yet: {e}")
                }
                Ok(()) => {}
            }
        });
    }

    /// Where a browser ending its session here is sent to end it at the provider too.
    pub async fn end_session_url(&self) -> Option<url::Url> {
        self.provider.end_session_url(self.login_page.clone()).await
    }

    /// The provider's origins, for the pages' `form-action` (logging out sends the browser
    /// there).
    pub fn origins(&self) -> Vec<String> {
        self.provider.origins()
    }
}

pub fn routes(access: Access) -> Router {
    Router::new()
        .route(START_PATH, get(start))
        .route(CALLBACK_PATH, get(callback))
        .with_state(access)
}

/// Back to the login page with `message` (and the page the person wanted), the login state
/// cookie cleared.
fn back_to_login(says: impl Says, next: &str, https: bool) -> Response {
    back_to_error(&said(says), next, https)
}

/// A refusal, in its words (its code and arguments, for the login page's language).
fn said(says: impl Says) -> ApiError {
    ApiError::unauthorized(says)
}

/// Back to the login page with the error `said` (see `back_to_login`).
fn back_to_error(said: &ApiError, next: &str, https: bool) -> Response {
    let mut response = Redirect::to(&format!(
        "/login?{}&next={}",
        crate::console::login::error_query(said),
        encode(next)
    ))
    .into_response();
    let name = state_cookie_name(https);
    add_cookie(&mut response, set_cookie(name, "", 0, https, SameSite::Lax));
    response
}

fn unreachable(sso: &Sso, detail: &str) -> Text {
    tracing::warn!("the identity provider cannot be reached: {detail}");
    Text::new(m::errors_sso::UNREACHABLE).arg("provider", &sso.name)
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn start(
    State(access): State<Access>,
    Extension(Https(https)): Extension<Https>,
    Query(query): Query<StartQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    let Some(sso) = access.sso.clone() else {
        return back_to_login(m::errors_sso::NOT_CONFIGURED, &next, https);
    };
    let now_s = app::support::now_ms() / 1000;
    match sso.provider.start(next.clone(), now_s).await {
        Ok((url, login)) => {
            let mut response = Redirect::to(url.as_str()).into_response();
            let value = sso.state_key.seal(&login);
            let name = state_cookie_name(https);
            add_cookie(
                &mut response,
                set_cookie(name, &value, state::LIFETIME_S, https, SameSite::Lax),
            );
            response
        }
        Err(Failure::Unreachable(e)) => back_to_login(unreachable(&sso, &e), &next, https),
        Err(Failure::Refused(e)) => back_to_login(unreachable(&sso, &e.to_string()), &next, https),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(access): State<Access>,
    Extension(client): Extension<Client>,
    Extension(Https(https)): Extension<Https>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(sso) = access.sso.clone() else {
        return back_to_login(m::errors_sso::NOT_CONFIGURED, "/", https);
    };
    let store = &access.store;
    // A refusal is counted and logged; those past the code's exchange (which needs a real
    // login at the provider) are also written to the audit log. Before it, anyone may send
    // anything, and the audit log must not be filled by strangers.
    let refuse = |reason: Reason, identity: Option<&SsoIdentity>, why: ApiError, next: &str| {
        crate::console::metrics::SSO_REFUSED
            .get_or_create(&vec![("reason", reason.name().to_string())])
            .inc();
        tracing::info!(subject = ?identity.map(|i| &i.subject), "single sign-on refused: {why}");
        if reason.audited() {
            if let Err(e) = store.sso_refused(identity, &why.message, client.0) {
                tracing::warn!("recording a refused single sign-on: {}", e.message);
            }
        }
        back_to_error(&why, next, https)
    };
    let now_s = app::support::now_ms() / 1000;
    let Some(login) = cookie(&headers, state_cookie_name(https))
        .and_then(|value| sso.state_key.open(&value, now_s))
    else {
        return refuse(
            Reason::State,
            None,
            said(m::errors_sso::NOT_STARTED_HERE),
            "/",
        );
    };
    let next = login.next.clone();
    let sent_back = query.state.as_deref().unwrap_or_default();
    if !app::support::same_secret(&login.state, sent_back) {
        return refuse(
            Reason::State,
            None,
            said(m::errors_sso::STATE_MISMATCH),
            &next,
        );
    }
    let forget_after = i64::try_from(login.until).unwrap_or(i64::MAX);
    match store.first_use_of_login_state(&login.state, forget_after, now_s as i64) {
        Ok(true) => {}
        Ok(false) => {
            return refuse(Reason::State, None, said(m::errors_sso::USED), &next);
        }
        Err(e) => return back_to_error(&e, &next, https),
    }
    if let Some(error) = &query.error {
        let description = query.error_description.as_deref().unwrap_or_default();
        let text: String = format!("{error} {description}")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let why = Text::new(m::errors_sso::PROVIDER_REFUSED).arg("reason", text.trim());
        return refuse(Reason::Provider, None, said(why), &next);
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return refuse(Reason::Provider, None, said(m::errors_sso::NO_CODE), &next);
    };
    let person = match sso.provider.finish(code, &login).await {
        Ok(person) => person,
        Err(Failure::Unreachable(e)) => return back_to_login(unreachable(&sso, &e), &next, https),
        Err(Failure::Refused(why)) => return refuse(Reason::Token, None, said(why), &next),
    };
    let identity = SsoIdentity {
        issuer: person.issuer,
        subject: person.subject,
    };
    let Some(role) = sso.roles.role(&person.groups) else {
        // the provider no longer puts them in a group that may log in: the sessions they
        // opened before end too (their API keys stay until an administrator disables them)
        if let Ok(Some(user)) = store.sso_user(&identity) {
            let acting = store.acting(app::domain::audit::Actor::user(
                "(single sign-on)",
                client.0,
            ));
            if let Err(e) = acting.end_user_sessions(&user.name).await {
                tracing::warn!("ending the sessions of {}: {}", user.name, e.message);
            }
        }
        let why = said(m::errors_sso::NO_GROUP);
        return refuse(Reason::Group, Some(&identity), why, &next);
    };
    let person = SsoPerson {
        identity,
        name_hints: person.name_hints,
        role,
    };
    match store.sso_login(&person, client.0).await {
        Ok((principal, token)) => {
            tracing::info!(user = ?principal.user, role = %principal.role, "single sign-on");
            let mut response = Redirect::to(&next).into_response();
            add_cookie(&mut response, session_cookie(&token, https));
            crate::console::login::add_language_cookie(store, &principal.user, &mut response);
            let name = state_cookie_name(https);
            add_cookie(&mut response, set_cookie(name, "", 0, https, SameSite::Lax));
            response
        }
        Err(e) if e.kind == app::domain::error::ErrorKind::Forbidden => {
            // disabled in havip (recorded by the store, with the person's subject)
            refuse(Reason::Disabled, None, e, &next)
        }
        Err(e) => back_to_error(&e, &next, https),
    }
}

/// Why a single sign-on was refused (for the metric, and whether the audit log has it).
#[derive(Clone, Copy)]
enum Reason {
    /// no login state of this browser, a `state` that does not match, or one used already
    State,
    /// the provider's own error, or no code
    Provider,
    /// the code or the ID token refused
    Token,
    /// in no group that may log in
    Group,
    /// disabled in havip
    Disabled,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::State => "state",
            Reason::Provider | Reason::Token => "provider",
            Reason::Group => "group",
            Reason::Disabled => "disabled",
        }
    }

    /// Past the code's exchange: a real login at the provider was needed to get here. (A
    /// disabled user's refusal is written by the store itself.)
    fn audited(self) -> bool {
        matches!(self, Reason::Token | Reason::Group)
    }
}
