//! Users and their passwords (argon2id); a login starts a session (`sessions`).

use super::kv::{Abort, Transactional};
use super::sessions::Session;
use super::{db_err, decode, encode, finish, now_ms, sha256_hex, Store};
use crate::domain::audit::Actor;
use crate::domain::auth::{check_password, checked_user_name, Principal, Role};
use crate::domain::error::ApiError;
use crate::domain::sso::LocalLogin;
use crate::i18n::{m, Text};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};

/// A console user. The password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_hash: String,
    /// who this user is at the identity provider, for a user made by single sign-on (who has
    /// no local password)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoIdentity>,
    /// the IANA time zone the user's pages show times in (None: UTC, nothing chosen yet)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The language they read the console in (`Lang::tag`), once they chose one.
    #[serde(default)]
    pub language: Option<String>,
}

/// A person at an OpenID provider: its issuer and their subject there (`iss`, `sub`), which
/// together never change or pass to someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
}

/// A user as the audit log shows it: without the password hash.
pub(super) fn user_snapshot(user: &User) -> Option<serde_json::Value> {
    super::audit::snapshot_without(user, &["password_hash"])
}

/// The object name of a user in the audit log.
pub(super) fn user_object(name: &str) -> String {
    // a failed login's name is anyone's text: kept short and printable
    let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    format!("user {name}")
}

fn hash_password(password: &str) -> Result<String, ApiError> {
    // 16 random bytes from the OS-seeded generator the store uses for every secret
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| ApiError::internal(format!("salt: {e}")))?;
    let hashed = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")));
    // each argon2 check works in 19 MiB it allocates and frees (+39 MiB resident after 63
    // logins, measured, before this)
    crate::support::give_back_freed_memory();
    hashed
}

fn password_matches(password: &str, hash: &str) -> bool {
    let matched = PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    });
    crate::support::give_back_freed_memory();
    matched
}

/// The same work as checking a real password, for names that do not exist: the answer's
/// timing does not tell which names are users.
fn waste_a_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash =
        DUMMY.get_or_init(|| hash_password("not the password of anyone").unwrap_or_default());
    let _ = password_matches(password, hash);
}

impl Store {
    pub fn user_count(&self) -> Result<usize, ApiError> {
        Ok(self.inner.users.len())
    }

    pub fn user(&self, name: &str) -> Result<Option<User>, ApiError> {
        let name = name.trim().to_ascii_lowercase();
        self.get(&self.inner.users, &name)
    }

    /// Every user, without password hashes.
    pub fn users(&self) -> Result<Vec<User>, ApiError> {
        let mut users: Vec<User> = self.all(&self.inner.users)?;
        for u in &mut users {
            u.password_hash.clear();
        }
        users.sort_by_key(|u| u.created);
        Ok(users)
    }

    /// Adds a user; the name must be new.
    pub async fn create_user(
        &self,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<User, ApiError> {
        self.add_user(name, password, role, false).await
    }

    /// The first administrator, made on the set-up page: exactly once, also when the set-up
    /// pages of several replicas are used at once (the console's `set_up` mark is written in
    /// the same transaction, and refused when there).
    pub async fn create_first_admin(&self, name: &str, password: &str) -> Result<User, ApiError> {
        let set_up = || ApiError::conflict(m::errors_store::SET_UP_ALREADY);
        if self.user_count()? > 0 {
            return Err(set_up());
        }
        self.add_user(name, password, Role::Admin, true).await
    }

    async fn add_user(
        &self,
        name: &str,
        password: &str,
        role: Role,
        first: bool,
    ) -> Result<User, ApiError> {
        let name = checked_user_name(name).map_err(|e| ApiError::invalid("name", e))?;
        check_password(password).map_err(|e| ApiError::invalid("password", e))?;
        let password = password.to_string();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(db_err)??;
        let user = User {
            name: name.clone(),
            role,
            disabled: false,
            created: now_ms(),
            password_hash,
            sso: None,
            time_zone: None,
            language: None,
        };
        let note = self.note("user.create", user_object(&name))?;
        let tables = (&self.inner.users, &self.inner.audit, &self.inner.meta);
        let result = tables.transaction(|(users, audit, meta)| {
            if first && meta.insert("set_up", [1])?.is_some() {
                let set_up = m::errors_store::SET_UP_ALREADY;
                return Err(Abort::Abort(ApiError::conflict(set_up)));
            }
            if users.get(name.as_bytes())?.is_some() {
                return Err(Abort::Abort(ApiError::invalid(
                    "name",
                    Text::new(m::errors_store::USER_NAME_TAKEN).arg("name", &name),
                )));
            }
            users.insert(name.as_bytes(), encode(&user))?;
            note.write(audit, None, user_snapshot(&user))?;
            Ok(())
        });
        self.commit(result, super::StoreChange::Users).await?;
        let mut shown = user;
        shown.password_hash.clear();
        Ok(shown)
    }

    /// Sets a new password and ends every session of the user; with `revoke_keys`, their API
    /// keys are deleted too (whoever knew the old password may have made one).
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        revoke_keys: bool,
    ) -> Result<(), ApiError> {
        check_password(password).map_err(|e| ApiError::invalid("password", e))?;
        let name = name.trim().to_ascii_lowercase();
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(db_err)??;
        let note = self.note("user.password", user_object(&name))?;
        let result = (&self.inner.users, &self.inner.audit).transaction(|(users, audit)| {
            let Some(bytes) = users.get(name.as_bytes())? else {
                return Err(Abort::Abort(ApiError::not_found("User", &name)));
            };
            let mut user: User = decode(&bytes).map_err(Abort::Abort)?;
            if user.sso.is_some() {
                return Err(Abort::Abort(ApiError::conflict(
                    Text::new(m::errors_store::USER_SSO_NO_PASSWORD).arg("name", &name),
                )));
            }
            user.password_hash = hash.clone();
            users.insert(name.as_bytes(), encode(&user))?;
            note.write(audit, None, user_snapshot(&user))?;
            Ok(())
        });
        finish(result)?;
        self.audited();
        self.end_sessions_of(&name)?;
        if revoke_keys {
            for key in self.api_keys_of(&name)? {
                self.delete_api_key(&name, &key.id).await?;
            }
        }
        self.flush().await?;
        self.publish(super::StoreChange::Users);
        Ok(())
    }

    /// Checks a name and password; on success starts a session and returns its token. A
    /// failure is recorded in the audit log (with the name tried) and answers the same for an
    /// unknown name as for a wrong password, after the same work. How often a client may try
    /// is decided in front of this, by the HTTP login's throttle.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<(Principal, String), ApiError> {
        self.local_login(name, password, client, LocalLogin::All)
            .await
    }

    /// `login`, for the local users `local` allows: any other user, even with the right
    /// password, gets the same answer as a wrong one (the login page says who may log in
    /// locally), and the audit log says why.
    pub async fn local_login(
        &self,
        name: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
        local: LocalLogin,
    ) -> Result<(Principal, String), ApiError> {
        let name = name.trim().to_ascii_lowercase();
        let user = self.user(&name)?;
        let password = password.to_string();
        let matched = {
            let user = user.clone();
            tokio::task::spawn_blocking(move || match &user {
                Some(u) => password_matches(&password, &u.password_hash),
                None => {
                    waste_a_check(&password);
                    false
                }
            })
            .await
            .map_err(db_err)?
        };
        let user = match user {
            Some(u) if matched && !u.disabled && local.allows(u.role) => u,
            other => {
                let action = match other {
                    Some(u) if matched && !u.disabled => "login.local_refused",
                    _ => "login.failed",
                };
                self.acting(Actor::user(&name, client))
                    .record(action, user_object(&name), None)?;
                return Err(ApiError::unauthorized(m::errors_store::WRONG_LOGIN));
            }
        };
        self.start_session(&user, client, "login", None).await
    }

    /// Starts a session of `user` (recorded as `action`, with `detail`): its token.
    pub(super) async fn start_session(
        &self,
        user: &User,
        client: Option<std::net::IpAddr>,
        action: &str,
        detail: Option<serde_json::Value>,
    ) -> Result<(Principal, String), ApiError> {
        let now = now_ms();
        let token = format!(
            "hvs_{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        );
        let session = Session {
            user: user.name.clone(),
            created: now,
            last_seen: now,
        };
        let note = self
            .acting(Actor::user(&user.name, client))
            .note(action, user_object(&user.name))?;
        let result = (&self.inner.sessions, &self.inner.audit).transaction(|(sessions, audit)| {
            sessions.insert(sha256_hex(&token).as_bytes(), encode(&session))?;
            note.write(audit, None, detail.clone())?;
            Ok::<_, Abort<ApiError>>(())
        });
        finish(result)?;
        self.audited();
        self.end_sessions_past_the_cap(&user.name)?;
        self.flush().await?;
        self.publish(super::StoreChange::Users);
        Ok((
            Principal {
                user: user.name.clone(),
                role: user.role,
            },
            token,
        ))
    }

    /// Whether `password` is the enabled user `name`'s (asked again before sensitive changes).
    pub async fn password_is(&self, name: &str, password: &str) -> Result<bool, ApiError> {
        let Some(user) = self.user(name)?.filter(|u| !u.disabled) else {
            return Ok(false);
        };
        let password = password.to_string();
        tokio::task::spawn_blocking(move || password_matches(&password, &user.password_hash))
            .await
            .map_err(db_err)
    }

    pub(super) fn existing_user(&self, name: &str) -> Result<User, ApiError> {
        self.user(name)?
            .ok_or_else(|| ApiError::not_found("User", name.trim()))
    }

    /// Changes a user's role or disables it, or deletes it (`None`), keeping at least one
    /// enabled admin. A disabled or deleted user's sessions end.
    async fn change_user(
        &self,
        name: &str,
        action: &str,
        change: impl Fn(&mut User),
        delete: bool,
    ) -> Result<Option<User>, ApiError> {
        let mut user = loop {
            // an enabled admin always stays: checked against every user, fenced
            let fence = self.fence("users")?;
            let mut user = self.existing_user(name)?;
            let before = user.clone();
            change(&mut user);
            let admins_left = self
                .all::<User>(&self.inner.users)?
                .into_iter()
                .filter(|u| u.name != user.name && u.role == Role::Admin && !u.disabled)
                .count()
                + usize::from(!delete && user.role == Role::Admin && !user.disabled);
            if admins_left == 0 {
                return Err(ApiError::conflict(
                    Text::new(m::errors_store::LAST_ADMIN).arg("name", &user.name),
                ));
            }
            let note = self.note(action, user_object(&user.name))?;
            let tables = (&self.inner.users, &self.inner.fences, &self.inner.audit);
            let result = tables.transaction(|(users, fences, audit)| {
                if !fence.pass(fences)? {
                    return Ok(false);
                }
                if delete {
                    users.remove(user.name.as_bytes())?;
                    note.write(audit, user_snapshot(&before), None)?;
                } else {
                    users.insert(user.name.as_bytes(), encode(&user))?;
                    note.write(audit, user_snapshot(&before), user_snapshot(&user))?;
                }
                Ok::<_, Abort<ApiError>>(true)
            });
            if finish(result)? {
                break user;
            }
        };
        self.audited();
        if delete || user.disabled {
            self.end_sessions_of(&user.name)?;
        }
        if delete {
            self.delete_keys_of(&user.name)?;
        }
        self.flush().await?;
        self.publish(super::StoreChange::Users);
        user.password_hash.clear();
        Ok((!delete).then_some(user))
    }

    pub async fn set_user_role(&self, name: &str, role: Role) -> Result<User, ApiError> {
        let user = self
            .change_user(name, "user.role", |u| u.role = role, false)
            .await?;
        Ok(user.expect("not deleted"))
    }

    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<User, ApiError> {
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        let user = self
            .change_user(name, action, |u| u.disabled = disabled, false)
            .await?;
        Ok(user.expect("not deleted"))
    }

    pub async fn delete_user(&self, name: &str) -> Result<(), ApiError> {
        self.change_user(name, "user.delete", |_| {}, true)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_argon2id_and_verified() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse battery!", &hash));
        assert!(!password_matches("x", "not a hash"));
    }
}
