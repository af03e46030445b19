//! API keys for the Tencent-compatible endpoint: a SecretId (`AKID…`, the record's key) and a
//! SecretKey. Checking a TC3 signature needs the SecretKey itself, so it is kept sealed with
//! XChaCha20-Poly1305 under a key in the data directory (`secret.key`, mode 0600): a copy of the
//! database alone reveals no SecretKey. A key acts with its user's role; it stops working when
//! disabled or deleted, or when its user is disabled or deleted.

use super::audit::snapshot;
use super::kv::{Abort, Transactional};
use super::{db_err, decode, encode, now_ms, Store};
use crate::domain::error::ApiError;
use crate::domain::pages::ApiKeyRow;
use crate::i18n::{m, Text};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Keys a user may have at once.
pub const MAX_KEYS_PER_USER: usize = 10;
/// Keys one user may create per hour: a loop of creates and deletes cannot flood the audit
/// log (each is a record).
pub const MAX_KEY_CREATIONS_PER_HOUR: usize = 20;
/// `last_used` is rewritten at most this often.
const TOUCH_MS: u64 = 60_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ApiKey {
    #[serde(flatten)]
    row: ApiKeyRow,
    /// hex(nonce ‖ XChaCha20-Poly1305(SecretKey))
    sealed: String,
}

/// The key that seals SecretKeys: 32 random bytes in `path` (`DIR/secret.key`, or the file of
/// `--secret-key-file` that every replica shares), made on first start,
/// readable by the owner only.
pub(super) fn sealing_key(path: &Path) -> Result<[u8; 32], ApiError> {
    key_file(path, rand::random)
}

/// The key in `path`, readable by its owner only; when there is no such file, it is made with
/// the key `made` gives.
pub(super) fn key_file(path: &Path, made: impl FnOnce() -> [u8; 32]) -> Result<[u8; 32], ApiError> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let denied = |e: std::io::Error| ApiError::internal(format!("{}: {e}", path.display()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            let key = made();
            file.write_all(&key).map_err(denied)?;
            file.sync_all().map_err(denied)?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            use std::os::unix::fs::PermissionsExt;
            let mut key = [0u8; 32];
            let mut file = std::fs::File::open(path).map_err(denied)?;
            let mode = file.metadata().map_err(denied)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(ApiError::internal(format!(
                    "{} may be read by other users (mode {mode:o}); it seals the API keys' secrets: run `chmod 600 {}` and start again",
                    path.display(),
                    path.display()
                )));
            }
            file.read_exact(&mut key).map_err(|e| {
                ApiError::internal(format!("{}: not a 32-byte key: {e}", path.display()))
            })?;
            Ok(key)
        }
        Err(e) => Err(denied(e)),
    }
}

fn random_text(n: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), n)
}

/// The object name of a key in the audit log.
fn key_object(id: &str) -> String {
    format!("key {id}")
}

impl Store {
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.inner.sealing_key).into())
    }

    /// A key for `purpose` (e.g. signing cookies), derived from `secret.key`: stable across
    /// restarts, different for every purpose and every console.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"havip derived key\0");
        hash.update(purpose.as_bytes());
        hash.update([0]);
        hash.update(self.inner.sealing_key);
        hash.finalize().into()
    }

    pub(super) fn seal(&self, secret: &str) -> String {
        let nonce: [u8; 24] = rand::random();
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), secret.as_bytes())
            .expect("sealing never fails for short inputs");
        hex::encode([nonce.as_slice(), &sealed].concat())
    }

    pub(super) fn unseal(&self, sealed: &str) -> Result<String, ApiError> {
        let broken =
            || ApiError::internal("a sealed secret cannot be unsealed (secret.key changed?)");
        let bytes = hex::decode(sealed)
            .ok()
            .filter(|b| b.len() > 24)
            .ok_or_else(broken)?;
        let (nonce, sealed) = bytes.split_at(24);
        let plain = self
            .cipher()
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }

    /// A new key for `user`; returns it with its SecretKey (shown once).
    pub async fn create_api_key(&self, user: &str) -> Result<(ApiKeyRow, String), ApiError> {
        let owner = self
            .user(user)?
            .filter(|u| !u.disabled)
            .ok_or_else(|| ApiError::not_found("User", user.trim()))?;
        if self.api_keys_of(&owner.name)?.len() >= MAX_KEYS_PER_USER {
            return Err(ApiError::conflict(
                Text::new(m::errors_store::API_KEYS_FULL)
                    .arg("user", &owner.name)
                    .arg("max", MAX_KEYS_PER_USER),
            ));
        }
        let secret = random_text(32);
        let row = ApiKeyRow {
            id: format!("AKID{}", random_text(32)),
            user: owner.name,
            created: now_ms(),
            last_used: 0,
            disabled: false,
        };
        let key = ApiKey {
            row: row.clone(),
            sealed: self.seal(&secret),
        };
        let note = self.note("key.create", key_object(&row.id))?;
        let result = (&self.inner.api_keys, &self.inner.audit).transaction(|(keys, audit)| {
            keys.insert(key.row.id.as_bytes(), encode(&key))?;
            note.write(audit, None, snapshot(&key.row))?;
            Ok::<_, Abort<ApiError>>(())
        });
        self.commit(result, super::StoreChange::Users).await?;
        Ok((row, secret))
    }

    /// Counts an attempt by `user` to create a key in the console, refused past
    /// `MAX_KEY_CREATIONS_PER_HOUR` (the command line is not limited). Counted in the store,
    /// so the hour is the same whichever replica is asked.
    pub fn count_key_attempt(&self, user: &str) -> Result<(), ApiError> {
        let now = now_ms();
        let result = (&self.inner.key_creations,).transaction(|(creations,)| {
            let mut times: Vec<u64> = match creations.get(user)? {
                Some(bytes) => decode(&bytes).unwrap_or_default(),
                None => vec![],
            };
            times.retain(|t| now.saturating_sub(*t) < 3_600_000);
            if times.len() >= MAX_KEY_CREATIONS_PER_HOUR {
                let wait_s = (times[0] + 3_600_000).saturating_sub(now).div_ceil(1000);
                return Err(Abort::Abort(ApiError::too_many(
                    Text::new(m::errors_store::API_KEYS_TOO_OFTEN)
                        .arg("user", user)
                        .arg("max", MAX_KEY_CREATIONS_PER_HOUR)
                        .arg("wait", wait_s),
                )));
            }
            times.push(now);
            creations.insert(user.as_bytes(), encode(&times))?;
            Ok(())
        });
        super::finish(result)
    }

    /// Every user's keys, oldest first (for administrators).
    pub fn api_keys_all(&self) -> Result<Vec<ApiKeyRow>, ApiError> {
        let mut rows: Vec<ApiKeyRow> = self
            .all::<ApiKey>(&self.inner.api_keys)?
            .into_iter()
            .map(|k| k.row)
            .collect();
        rows.sort_by_key(|r| r.created);
        Ok(rows)
    }

    /// Who owns a key, if it exists.
    pub fn api_key_owner(&self, id: &str) -> Result<Option<String>, ApiError> {
        Ok(self
            .get::<ApiKey>(&self.inner.api_keys, id)?
            .map(|k| k.row.user))
    }

    /// The keys of one user, oldest first.
    pub fn api_keys_of(&self, user: &str) -> Result<Vec<ApiKeyRow>, ApiError> {
        let mut rows = self.api_keys_all()?;
        rows.retain(|r| r.user == user);
        Ok(rows)
    }

    /// One of `owner`'s keys (someone else's is "not found", as an unknown one is).
    fn owned_key(&self, owner: &str, id: &str) -> Result<ApiKey, ApiError> {
        self.get::<ApiKey>(&self.inner.api_keys, id)?
            .filter(|k| k.row.user == owner)
            .ok_or_else(|| ApiError::not_found("API key", id))
    }

    pub async fn set_api_key_disabled(
        &self,
        owner: &str,
        id: &str,
        disabled: bool,
    ) -> Result<ApiKeyRow, ApiError> {
        let before = self.owned_key(owner, id)?;
        let mut key = before.clone();
        key.row.disabled = disabled;
        let action = if disabled {
            "key.disable"
        } else {
            "key.enable"
        };
        let note = self.note(action, key_object(id))?;
        let result = (&self.inner.api_keys, &self.inner.audit).transaction(|(keys, audit)| {
            keys.insert(id.as_bytes(), encode(&key))?;
            note.write(audit, snapshot(&before.row), snapshot(&key.row))?;
            Ok::<_, Abort<ApiError>>(())
        });
        self.commit(result, super::StoreChange::Users).await?;
        Ok(key.row)
    }

    pub async fn delete_api_key(&self, owner: &str, id: &str) -> Result<(), ApiError> {
        let key = self.owned_key(owner, id)?;
        let note = self.note("key.delete", key_object(id))?;
        let result = (&self.inner.api_keys, &self.inner.audit).transaction(|(keys, audit)| {
            keys.remove(id.as_bytes())?;
            note.write(audit, snapshot(&key.row), None)?;
            Ok::<_, Abort<ApiError>>(())
        });
        self.commit(result, super::StoreChange::Users).await?;
        Ok(())
    }

    /// Removes every key of a user (the user is being deleted).
    pub(super) fn delete_keys_of(&self, user: &str) -> Result<(), ApiError> {
        for row in self.api_keys_of(user)? {
            self.inner
                .api_keys
                .remove(row.id.as_bytes())
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// A key usable for signing now, with its SecretKey: `None` when unknown, disabled, or its
    /// user is disabled or gone.
    pub fn api_key_secret(&self, id: &str) -> Result<Option<(ApiKeyRow, String)>, ApiError> {
        let Some(key) = self.get::<ApiKey>(&self.inner.api_keys, id)? else {
            return Ok(None);
        };
        let owner_ok = self.user(&key.row.user)?.is_some_and(|u| !u.disabled);
        if key.row.disabled || !owner_ok {
            return Ok(None);
        }
        let secret = self.unseal(&key.sealed)?;
        Ok(Some((key.row, secret)))
    }

    /// Notes that a key signed a request that checked out (written at most once a minute, and
    /// never for a signature that failed: a SecretId alone causes no write).
    pub fn api_key_used(&self, id: &str) -> Result<(), ApiError> {
        let Some(mut key) = self.get::<ApiKey>(&self.inner.api_keys, id)? else {
            return Ok(());
        };
        let now = now_ms();
        if now.saturating_sub(key.row.last_used) > TOUCH_MS && self.has_space() {
            key.row.last_used = now;
            self.inner
                .api_keys
                .insert(id.as_bytes(), encode(&key))
                .map_err(db_err)?;
        }
        Ok(())
    }
}
