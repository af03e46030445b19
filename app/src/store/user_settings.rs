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
        let name = name.trim().to_ascii_lowercase();
        let note = self.note("user.time_zone", user_object(&name))?;
        let result = (&self.inner.users, &self.inner.audit).transaction(|(users, audit)| {
            let Some(bytes) = users.get(name.as_bytes())? else {
                return Err(Abort::Abort(ApiError::not_found("User", &name)));
            };
            let before: User = decode(&bytes).map_err(Abort::Abort)?;
            let after = User {
                time_zone: Some(zone.to_string()),
                ..before.clone()
            };
            users.insert(name.as_bytes(), encode(&after))?;
            note.write(audit, user_snapshot(&before), user_snapshot(&after))?;
            Ok(())
        });
        self.commit(result, super::StoreChange::Users).await
    }

    /// Sets the language of user `name`, recorded in the audit log.
    pub async fn set_language(&self, name: &str, lang: crate::i18n::Lang) -> Result<(), ApiError> {
        let name = name.trim().to_ascii_lowercase();
        let note = self.note("user.language", user_object(&name))?;
        let result = (&self.inner.users, &self.inner.audit).transaction(|(users, audit)| {
            let Some(bytes) = users.get(name.as_bytes())? else {
                return Err(Abort::Abort(ApiError::not_found("User", &name)));
            };
            let before: User = decode(&bytes).map_err(Abort::Abort)?;
            if before.language.as_deref() == Some(lang.tag()) {
                return Ok(());
            }
            let after = User {
                language: Some(lang.tag().to_string()),
                ..before.clone()
            };
            users.insert(name.as_bytes(), encode(&after))?;
            note.write(audit, user_snapshot(&before), user_snapshot(&after))?;
            Ok(())
        });
        self.commit(result, super::StoreChange::Users).await
    }
}
