//! Users, their passwords (argon2id), sessions, and the back-off that slows password guessing.
//!
//! Sessions are random 256-bit tokens held by the browser in a cookie; the store keeps only
//! their SHA-256, with the user, when it began and when it was last used. A session ends after
//! `session_idle_ms` without use, `session_max_ms` after it began, at logout, and when its
//! user's password changes or the user is disabled or deleted.

use super::{db_err, decode, encode, finish, lock, now_ms, sha256_hex, Store};
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

/// Failed logins for one user name or one client address.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Failures {
    count: u32,
    last: u64,
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

/// A session's `last_seen` is rewritten at most this often.
const SESSION_TOUCH_MS: u64 = 60_000;
/// Failures older than this are forgotten: the back-off never locks anyone out for good.
const FAILURES_FORGOTTEN_MS: u64 = 15 * 60_000;

/// How long to wait after `failures` failed logins in a row: none after the first two, then
/// 1 s, 2 s, 4 s … up to 5 minutes.
pub fn login_delay_ms(failures: u32) -> u64 {
    match failures {
        0..=2 => 0,
        n => (1000u64 << (n - 3).min(16)).min(300_000),
    }
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
    super::give_back_freed_memory();
    hashed
}

fn password_matches(password: &str, hash: &str) -> bool {
    let matched = PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    });
    super::give_back_freed_memory();
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

    /// Sets a new password and ends every session of the user.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), ApiError> {
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
        self.flush().await?;
        self.publish(super::StoreChange::Users);
        Ok(())
    }

    /// Checks a name and password; on success starts a session and returns its token. Failed
    /// attempts slow the next ones, per name and per client address; the refusal never says
    /// which of the two was wrong.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<(Principal, String), ApiError> {
        let name = name.trim().to_ascii_lowercase();
        let keys = [
            format!("user:{name}"),
            client.map_or_else(|| "addr:unknown".into(), |a| format!("addr:{a}")),
        ];
        let now = now_ms();
        let wait = keys
            .iter()
            .map(|k| self.wait_before_login(k, now))
            .max()
            .unwrap_or(0);
        if wait > 0 {
            return Err(ApiError::too_many(format!(
                "Too many failed logins; try again in {} s.",
                wait.div_ceil(1000)
            )));
        }
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
                let mut failures = lock(&self.inner.login_failures);
                for k in keys {
                    let f = failures.entry(k).or_default();
                    if now.saturating_sub(f.last) > FAILURES_FORGOTTEN_MS {
                        f.count = 0;
                    }
                    f.count += 1;
                    f.last = now;
                }
                drop(failures);
                self.acting(Actor::user(&name, client)).record(
                    "login.failed",
                    user_object(&name),
                    None,
                )?;
                return Err(ApiError::unauthorized("Wrong user name or password."));
            }
        };
        {
            let mut failures = lock(&self.inner.login_failures);
            for k in &keys {
                failures.remove(k);
            }
        }
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

    fn wait_before_login(&self, key: &str, now: u64) -> u64 {
        let failures = lock(&self.inner.login_failures);
        match failures.get(key) {
            Some(f) if now.saturating_sub(f.last) <= FAILURES_FORGOTTEN_MS => {
                (f.last + login_delay_ms(f.count)).saturating_sub(now)
            }
            _ => 0,
        }
    }

    /// Who a session token belongs to, if the session is still valid (as of `now`).
    pub fn session_at(&self, token: &str, now: u64) -> Result<Option<Principal>, ApiError> {
        let key = sha256_hex(token);
        let Some(bytes) = self.inner.sessions.get(key.as_bytes()).map_err(db_err)? else {
            return Ok(None);
        };
        let mut session: Session = decode(&bytes)?;
        let config = &self.inner.config;
        let expired = now.saturating_sub(session.last_seen) > config.session_idle_ms
            || now.saturating_sub(session.created) > config.session_max_ms;
        let user = self.user(&session.user)?.filter(|u| !u.disabled);
        let Some(user) = user.filter(|_| !expired) else {
            if self.has_space() {
                self.inner.sessions.remove(key.as_bytes()).map_err(db_err)?;
            }
            return Ok(None);
        };
        // with the storage full, reading goes on without noting the session's use
        if now.saturating_sub(session.last_seen) > SESSION_TOUCH_MS && self.has_space() {
            session.last_seen = now;
            self.inner
                .sessions
                .insert(key.as_bytes(), encode(&session))
                .map_err(db_err)?;
        }
        Ok(Some(Principal {
            user: user.name,
            role: user.role,
        }))
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
        let mut n = 0;
        for value in self.inner.sessions.iter().values() {
            let session: Session = decode(&value.map_err(db_err)?)?;
            n += usize::from(session.user == name);
        }
        Ok(n)
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
        for entry in self.inner.sessions.iter() {
            let (key, value) = entry.map_err(db_err)?;
            let session: Session = decode(&value)?;
            if session.user == name {
                self.inner.sessions.remove(key).map_err(db_err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_logins_back_off_exponentially_up_to_five_minutes() {
        let delays: Vec<u64> = (0..=14).map(login_delay_ms).collect();
        assert_eq!(&delays[..7], &[0, 0, 0, 1000, 2000, 4000, 8000]);
        assert_eq!(login_delay_ms(11), 256_000);
        assert_eq!(login_delay_ms(12), 300_000);
        assert_eq!(login_delay_ms(1000), 300_000);
    }

    #[test]
    fn passwords_are_hashed_with_argon2id_and_verified() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse battery!", &hash));
        assert!(!password_matches("x", "not a hash"));
    }
}
