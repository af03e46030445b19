//! Users who log in with single sign-on: made at their first login, their role taken again
//! from the provider's groups at every login, never a local password.

use super::kv::{Abort, Transactional};
use super::users::{user_object, user_snapshot, SsoIdentity, User};
use super::{encode, finish, now_ms, sha256_hex, Store};
use crate::domain::audit::Actor;
use crate::domain::auth::{Principal, Role};
use crate::domain::error::ApiError;
use crate::domain::sso::sso_user_name;
use crate::i18n::{m, Text};

/// A person the provider vouched for (their ID token checked), and the role their groups give.
#[derive(Debug, Clone)]
pub struct SsoPerson {
    pub identity: SsoIdentity,
    /// where their user name comes from at the first login: `preferred_username`, `email`
    pub name_hints: Vec<String>,
    pub role: Role,
}

/// What the audit log says of a person at the provider: who they are there, never a token.
fn identity_detail(identity: &SsoIdentity, more: serde_json::Value) -> serde_json::Value {
    let mut detail = serde_json::json!({
        "issuer": identity.issuer,
        "subject": identity.subject,
    });
    if let (Some(detail), serde_json::Value::Object(more)) = (detail.as_object_mut(), more) {
        detail.extend(more);
    }
    detail
}

impl Store {
    /// The user of `identity`, if they logged in before.
    pub fn sso_user(&self, identity: &SsoIdentity) -> Result<Option<User>, ApiError> {
        let users: Vec<User> = self.all(&self.inner.users)?;
        Ok(users.into_iter().find(|u| u.sso.as_ref() == Some(identity)))
    }

    /// Logs `person` in: their user is made at the first login (a name no local user has) and
    /// takes the role their groups give now, at every login. A disabled user stays refused.
    pub async fn sso_login(
        &self,
        person: &SsoPerson,
        client: Option<std::net::IpAddr>,
    ) -> Result<(Principal, String), ApiError> {
        let acting = self.acting(Actor::user("(single sign-on)", client));
        let user = loop {
            // one user per person, also when two replicas see their first login at once
            let fence = self.fence("users")?;
            let users: Vec<User> = self.all(&self.inner.users)?;
            let before = users
                .iter()
                .find(|u| u.sso.as_ref() == Some(&person.identity))
                .cloned();
            let user = match &before {
                Some(user) if user.disabled => {
                    let detail = identity_detail(
                        &person.identity,
                        serde_json::json!({"reason": "disabled in havip"}),
                    );
                    self.acting(Actor::user(&user.name, client)).record(
                        "login.sso_refused",
                        user_object(&user.name),
                        Some(detail),
                    )?;
                    return Err(ApiError::forbidden(
                        Text::new(m::errors_store::SSO_USER_DISABLED).arg("user", &user.name),
                    ));
                }
                Some(user) if user.role == person.role => break user.clone(),
                Some(user) => User {
                    role: person.role,
                    ..user.clone()
                },
                None => {
                    let hints: Vec<&str> = person.name_hints.iter().map(String::as_str).collect();
                    let tag = sha256_hex(&format!(
                        "{}\n{}",
                        person.identity.issuer, person.identity.subject
                    ));
                    let name =
                        sso_user_name(&hints, &tag, |name| users.iter().any(|u| u.name == name));
                    User {
                        name,
                        role: person.role,
                        disabled: false,
                        created: now_ms(),
                        password_hash: String::new(),
                        sso: Some(person.identity.clone()),
                        time_zone: None,
                        language: None,
                    }
                }
            };
            let action = if before.is_some() {
                "user.role"
            } else {
                "user.create"
            };
            let note = acting.note(action, user_object(&user.name))?;
            let tables = (&self.inner.users, &self.inner.fences, &self.inner.audit);
            let result = tables.transaction(|(users, fences, audit)| {
                if !fence.pass(fences)? {
                    return Ok(false);
                }
                if before.is_none() && users.get(user.name.as_bytes())?.is_some() {
                    // a local user was made with this name a moment ago: choose again
                    return Ok(false);
                }
                users.insert(user.name.as_bytes(), encode(&user))?;
                let was = before.as_ref().and_then(user_snapshot);
                note.write(audit, was, user_snapshot(&user))?;
                Ok::<_, Abort<ApiError>>(true)
            });
            if finish(result)? {
                self.audited();
                break user;
            }
        };
        let detail = identity_detail(&person.identity, serde_json::json!({"role": user.role}));
        self.start_session(&user, client, "login.sso", Some(detail))
            .await
    }

    /// Records a refused single sign-on: who the provider said the person is (when it got
    /// that far) and why, never a token.
    pub fn sso_refused(
        &self,
        identity: Option<&SsoIdentity>,
        reason: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<(), ApiError> {
        let reason = serde_json::json!({"reason": reason});
        let (object, detail) = match identity {
            Some(identity) => (
                format!("sso subject {}", printable(&identity.subject)),
                identity_detail(identity, reason),
            ),
            None => ("sso".to_string(), reason),
        };
        self.acting(Actor::user("(single sign-on)", client)).record(
            "login.sso_refused",
            object,
            Some(detail),
        )
    }
}

/// At most 128 characters of `text`, without control characters (the audit log's object).
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(128).collect()
}
