//! Sessions: random 256-bit tokens held by the browser in a cookie; the store keeps only their
//! SHA-256, with the user, when it began and when it was last used. A session ends after
//! `session_idle_ms` without use, `session_max_ms` after it began, at logout, and when its
//! user's password changes or the user is disabled or deleted.

use super::kv::{Abort, Transactional};
use super::users::user_object;
use super::{db_err, decode, encode, now_ms, sha256_hex, Store};
use crate::domain::audit::Actor;
use crate::domain::auth::Principal;
use crate::domain::error::ApiError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Session {
    pub(super) user: String,
    pub(super) created: u64,
    pub(super) last_seen: u64,
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

impl Store {
    /// Ends a user's oldest sessions while they have more than `MAX_SESSIONS_PER_USER`.
    pub(super) fn end_sessions_past_the_cap(&self, name: &str) -> Result<(), ApiError> {
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
    pub(super) fn sessions_of_user(
        &self,
        name: &str,
    ) -> Result<Vec<(super::kv::Value, Session)>, ApiError> {
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
        let expired = self.expired(&session, now);
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

    fn expired(&self, session: &Session, now: u64) -> bool {
        let config = &self.inner.config;
        now.saturating_sub(session.last_seen) > config.session_idle_ms
            || now.saturating_sub(session.created) > config.session_max_ms
    }

    /// Removes the sessions that ended by time (the leading replica's sweep; a session used
    /// again is removed on that use anyway); how many.
    pub fn forget_expired_sessions(&self, now: u64) -> Result<usize, ApiError> {
        (self.inner.sessions)
            .remove_ended(|value| decode::<Session>(value).map_or(true, |s| self.expired(&s, now)))
            .map_err(db_err)
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
        self.commit(result, super::StoreChange::Users).await?;
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

    pub(super) fn end_sessions_of(&self, name: &str) -> Result<(), ApiError> {
        for (key, _) in self.sessions_of_user(name)? {
            self.inner.sessions.remove(key).map_err(db_err)?;
        }
        Ok(())
    }
}
