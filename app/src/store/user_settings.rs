//! What each user chooses for themselves: the time zone their pages show times in, and the
//! language they read them in.

use super::kv::{Abort, Transactional};
use super::users::{user_object, user_snapshot, User};
use super::{decode, encode, Store};
use crate::domain::error::ApiError;
use crate::i18n::{m, Text};

impl Store {
    /// Sets the time zone of user `name` (an IANA name the time-zone database knows; `UTC`
    /// too), recorded in the audit log.
    pub async fn set_time_zone(&self, name: &str, zone: &str) -> Result<(), ApiError> {
        let zone = zone.trim();
        if crate::support::zone(zone, 0).is_none() {
            let shown: String = zone.chars().filter(|c| !c.is_control()).take(64).collect();
            return Err(ApiError::invalid(
                "time_zone",
                Text::new(m::errors_store::TIME_ZONE_UNKNOWN).arg("zone", shown),
            ));
        }
        let zone = zone.to_string();
        self.update_user(name, "user.time_zone", |before| {
            Some(User {
                time_zone: Some(zone.clone()),
                ..before.clone()
            })
        })
        .await
    }

    /// Sets the language of user `name`, recorded in the audit log.
    pub async fn set_language(&self, name: &str, lang: crate::i18n::Lang) -> Result<(), ApiError> {
        self.update_user(name, "user.language", |before| {
            (before.language.as_deref() != Some(lang.tag())).then(|| User {
                language: Some(lang.tag().to_string()),
                ..before.clone()
            })
        })
        .await
    }

    /// Changes user `name` to what `change` makes of them (nothing when it gives none: they
    /// are as asked already), recorded in the audit log as `action`.
    async fn update_user(
        &self,
        name: &str,
        action: &str,
        change: impl Fn(&User) -> Option<User>,
    ) -> Result<(), ApiError> {
        let name = name.trim().to_ascii_lowercase();
        let note = self.note(action, user_object(&name))?;
        let result = (&self.inner.users, &self.inner.audit).transaction(|(users, audit)| {
            let Some(bytes) = users.get(name.as_bytes())? else {
                return Err(Abort::Abort(ApiError::not_found("User", &name)));
            };
            let before: User = decode(&bytes).map_err(Abort::Abort)?;
            let Some(after) = change(&before) else {
                return Ok(());
            };
            users.insert(name.as_bytes(), encode(&after))?;
            note.write(audit, user_snapshot(&before), user_snapshot(&after))?;
            Ok(())
        });
        self.commit(result, super::StoreChange::Users).await
    }
}
