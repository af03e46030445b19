//! Users, their passwords (argon2id), sessions, and the back-off that slows password guessing.
//!
//! Sessions are random 256-bit tokens held by the browser in a cookie; the store keeps only
//! their SHA-256, with the user, when it began and when it was last used. A session ends after
//! `session_idle_ms` without use, `session_max_ms` after it began, at logout, and when its
//! user's password changes or the user is disabled or deleted.

use super::{db_err, decode, encode, finish, now_ms, sha256_hex, Store};
use crate::domain::audit::Actor;
use crate::domain::auth::{check_password, check_user_name, Principal, Role};
use crate::domain::error::ApiError;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError as Abort, Transactional};

/// A console user. The password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Session {
    user: String,
    created: u64,
    last_seen: u64,
}

/// A user as the audit log shows it: without the password hash.
fn user_snapshot(user: &User) -> Option<serde_json::Value> {
    super::audit::snapshot_without(user, &["password_hash"])
}

/// The object name of a user in the audit log.
fn user_object(name: &str) -> String {
    // a failed login's name is anyone's text: kept short and printable
    let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    format!("user {name}")
}

/// What a session lookup found.
enum Found {
    Missing,
    Ended,
    Valid(Principal, Session),
}

/// A session's `last_seen` is rewritten at most this often.
const SESSION_TOUCH_MS: u64 = 60_000;
/// Sessions one user may have at once: a new login past it ends their oldest.
pub const MAX_SESSIONS_PER_USER: usize = 20;

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
        let name = check_user_name(name).map_err(|e| ApiError::invalid("name", e))?;
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
        };
        let note = self.note("user.create", user_object(&name))?;
        let result = (&self.inner.users, &self.inner.audit).transaction(|(users, audit)| {
            if users.get(name.as_bytes())?.is_some() {
                return Err(Abort::Abort(ApiError::invalid(
                    "name",
                    format!("A user named {name} already exists."),
                )));
            }
            users.insert(name.as_bytes(), encode(&user))?;
            note.write(audit, None, user_snapshot(&user))?;
            Ok(())
        });
        finish(result)?;
        self.audited();
        self.flush().await?;
        self.publish(super::StoreChange::Users);
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
            Some(u) if matched && !u.disabled => u,
            _ => {
                self.acting(Actor::user(&name, client)).record(
                    "login.failed",
                    user_object(&name),
                    None,
                )?;
                return Err(ApiError::unauthorized("Wrong user name or password."));
            }
        };
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
            .note("login", user_object(&user.name))?;
        let result = (&self.inner.sessions, &self.inner.audit).transaction(|(sessions, audit)| {
            sessions.insert(sha256_hex(&token).as_bytes(), encode(&session))?;
            note.write(audit, None, None)?;
            Ok::<_, Abort<ApiError>>(())
        });
        finish(result)?;
        self.audited();
        self.end_sessions_past_the_cap(&user.name)?;
        self.flush().await?;
        self.publish(super::StoreChange::Users);
        Ok((
            Principal {
                user: user.name,
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

    /// Ends a user's oldest sessions while they have more than `MAX_SESSIONS_PER_USER`.
    fn end_sessions_past_the_cap(&self, name: &str) -> Result<(), ApiError> {
        let mut theirs = self.sessions_of_user(name)?;
        if theirs.len() <= MAX_SESSIONS_PER_USER {
            return Ok(());
        }
        theirs.sort_by_key(|(_, session)| session.created);
        for (key, _) in &theirs[..theirs.len() - MAX_SESSIONS_PER_USER] {
            self.inner.sessions.remove(key).map_err(db_err)?;
        }
        Ok(())
    }

    /// Every session of a user, with its key.
    fn sessions_of_user(&self, name: &str) -> Result<Vec<(sled::IVec, Session)>, ApiError> {
        let mut theirs = Vec::new();
        for entry in self.inner.sessions.iter() {
            let (key, value) = entry.map_err(db_err)?;
            let session: Session = decode(&value)?;
            if session.user == name {
                theirs.push((key, session));
            }
        }
        Ok(theirs)
    }

    /// Who a session token belongs to, if the session is still valid (as of `now`).
    pub fn session_at(&self, token: &str, now: u64) -> Result<Option<Principal>, ApiError> {
        Ok(self
            .session_by_key(&sha256_hex(token), now)?
            .map(|(principal, _)| principal))
    }

    /// The user of the session with digest `key` and when it began (unix ms), if it is
    /// still valid as of `now`, noting its use (a request); an expired one is removed on the
    /// way.
    pub fn session_by_key(
        &self,
        key: &str,
        now: u64,
    ) -> Result<Option<(Principal, u64)>, ApiError> {
        let (principal, mut session) = match self.find_session(key, now)? {
            Found::Valid(principal, session) => (principal, session),
            Found::Missing => return Ok(None),
            Found::Ended => {
                if self.has_space() {
                    self.inner.sessions.remove(key.as_bytes()).map_err(db_err)?;
                }
                return Ok(None);
            }
        };
        // with the storage full, reading goes on without noting the session's use
        if now.saturating_sub(session.last_seen) > SESSION_TOUCH_MS && self.has_space() {
            session.last_seen = now;
            self.inner
                .sessions
                .insert(key.as_bytes(), encode(&session))
                .map_err(db_err)?;
        }
        Ok(Some((principal, session.created)))
    }

    /// Whether the session with digest `key` is still valid as of `now`, without noting a use:
    /// an open live channel must not keep an idle session alive.
    pub fn session_alive(&self, key: &str, now: u64) -> Result<bool, ApiError> {
        Ok(matches!(self.find_session(key, now)?, Found::Valid(..)))
    }

    /// The session with digest `key`, and whether it has ended (idle or too old, or its user
    /// disabled or gone).
    fn find_session(&self, key: &str, now: u64) -> Result<Found, ApiError> {
        let Some(bytes) = self.inner.sessions.get(key.as_bytes()).map_err(db_err)? else {
            return Ok(Found::Missing);
        };
        let session: Session = decode(&bytes)?;
        let config = &self.inner.config;
        let expired = now.saturating_sub(session.last_seen) > config.session_idle_ms
            || now.saturating_sub(session.created) > config.session_max_ms;
        let user = self
            .user(&session.user)?
            .filter(|u| !u.disabled && !expired);
        Ok(match user {
            Some(user) => {
                let principal = Principal {
                    user: user.name,
                    role: user.role,
                };
                Found::Valid(principal, session)
            }
            None => Found::Ended,
        })
    }

    /// Moves a session's start (and last use) `by_ms` into the past, as if it had begun then:
    /// for tests of rules that depend on a session's age.
    pub fn backdate_session(&self, token: &str, by_ms: u64) -> Result<(), ApiError> {
        let key = sha256_hex(token);
        let Some(bytes) = self.inner.sessions.get(key.as_bytes()).map_err(db_err)? else {
            return Err(ApiError::not_found("Session", "(token)"));
        };
        let mut session: Session = decode(&bytes)?;
        session.created = session.created.saturating_sub(by_ms);
        session.last_seen = session.last_seen.saturating_sub(by_ms);
        self.inner
            .sessions
            .insert(key.as_bytes(), encode(&session))
            .map_err(db_err)?;
        Ok(())
    }

    pub fn session(&self, token: &str) -> Result<Option<Principal>, ApiError> {
        self.session_at(token, now_ms())
    }

    /// Ends one session (logout), recorded for its user from the acting client's address.
    pub async fn end_session(&self, token: &str) -> Result<(), ApiError> {
        let key = sha256_hex(token);
        let Some(bytes) = self.inner.sessions.get(key.as_bytes()).map_err(db_err)? else {
            return Ok(()); // ended already: nothing changes
        };
        let session: Session = decode(&bytes)?;
        let note = self
            .acting(Actor {
                user: session.user.clone(),
                client: self.actor().client.clone(),
            })
            .note("logout", user_object(&session.user))?;
        let result = (&self.inner.sessions, &self.inner.audit).transaction(|(sessions, audit)| {
            if sessions.remove(key.as_bytes())?.is_some() {
                note.write(audit, None, None)?;
            }
            Ok::<_, Abort<ApiError>>(())
        });
        finish(result)?;
        self.audited();
        self.flush().await?;
        self.publish(super::StoreChange::Users);
        Ok(())
    }

    /// How many sessions a user has open.
    pub fn sessions_of(&self, name: &str) -> Result<usize, ApiError> {
        Ok(self.sessions_of_user(name)?.len())
    }

    /// Ends every session of a user (an admin's "End sessions").
    pub async fn end_user_sessions(&self, name: &str) -> Result<(), ApiError> {
        let user = self.existing_user(name)?;
        self.record("user.end_sessions", user_object(&user.name), None)?;
        self.end_sessions_of(&user.name)?;
        self.flush().await?;
        self.publish(super::StoreChange::Users);
        Ok(())
    }

    fn existing_user(&self, name: &str) -> Result<User, ApiError> {
        self.user(name)?
            .ok_or_else(|| ApiError::not_found("User", name.trim()))
    }

    /// Changes a user's role or disables it, or deletes it (`None`), keeping at least one
    /// enabled admin. A disabled or deleted user's sessions end.
    async fn change_user(
        &self,
        name: &str,
        action: &str,
        change: impl FnOnce(&mut User),
        delete: bool,
    ) -> Result<Option<User>, ApiError> {
        let _one_at_a_time = self.inner.user_changes.lock().await;
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
            return Err(ApiError::conflict(format!(
                "{} is the last administrator: make another user admin first.",
                user.name
            )));
        }
        let note = self.note(action, user_object(&user.name))?;
        let result = (&self.inner.users, &self.inner.audit).transaction(|(users, audit)| {
            if delete {
                users.remove(user.name.as_bytes())?;
                note.write(audit, user_snapshot(&before), None)?;
            } else {
                users.insert(user.name.as_bytes(), encode(&user))?;
                note.write(audit, user_snapshot(&before), user_snapshot(&user))?;
            }
            Ok::<_, Abort<ApiError>>(())
        });
        finish(result)?;
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

    fn end_sessions_of(&self, name: &str) -> Result<(), ApiError> {
        for (key, _) in self.sessions_of_user(name)? {
            self.inner.sessions.remove(key).map_err(db_err)?;
        }
        Ok(())
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
