//! The audit log's records. A change prepares its `Note` before its transaction (the record's
//! id and who is acting) and writes it inside the transaction, next to the change itself: the
//! log cannot miss a committed change, nor record one that was refused.
//!
//! Key: u64 BE id from sled's id generator (increasing, also across restarts), so the newest
//! record is last. The log keeps `audit_limit` records; the oldest go first.

use super::kv::{TxFailed, TxTable};
use super::{db_err, decode, encode, lock, now_ms, Store};
use crate::domain::audit::{Actor, AuditEntry, AuditPage, AuditQuery};
use crate::domain::error::ApiError;
use serde::Serialize;
use std::sync::atomic::Ordering;

/// Default number of audit records kept.
pub const DEFAULT_AUDIT_LIMIT: u64 = 100_000;

/// An audit record waiting for its change's transaction.
pub(crate) struct Note {
    entry: AuditEntry,
    _writing: Writing,
}

/// A change in progress, from its `Note` until the note is dropped (after the change is
/// committed and flushed). A backup waits until none is in progress (`backup_consistent`).
pub(crate) struct Writing(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Writing {
    fn new(count: &std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Writing {
        count.fetch_add(1, Ordering::SeqCst);
        Writing(count.clone())
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The JSON of an object, for a record's before/after.
pub(crate) fn snapshot<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// The JSON of an object without the fields that hold secrets or their digests.
pub(crate) fn snapshot_without<T: Serialize>(
    value: &T,
    secret_fields: &[&str],
) -> Option<serde_json::Value> {
    let mut json = snapshot(value)?;
    if let Some(object) = json.as_object_mut() {
        for field in secret_fields {
            object.remove(*field);
        }
    }
    Some(json)
}

impl Note {
    /// The same record about `object` (known only once it is made, e.g. a new id).
    pub(crate) fn on(&self, object: impl std::fmt::Display) -> Note {
        let mut entry = self.entry.clone();
        entry.object = object.to_string();
        Note {
            entry,
            _writing: Writing::new(&self._writing.0),
        }
    }

    /// Writes the record with the object `before` and `after` the change, inside the
    /// change's transaction (a retried transaction writes the same record again).
    pub(crate) fn write(
        &self,
        audit: &TxTable<'_>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<(), TxFailed> {
        let mut entry = self.entry.clone();
        entry.before = before;
        entry.after = after;
        audit.insert(entry.id.to_be_bytes(), encode(&entry))?;
        Ok(())
    }

    /// Writes the record on its own, for what is not one transaction (a failed login, sessions
    /// ended one by one).
    fn write_alone(&self, store: &Store, after: Option<serde_json::Value>) -> Result<(), ApiError> {
        let mut entry = self.entry.clone();
        entry.after = after;
        store
            .inner
            .audit
            .insert(entry.id.to_be_bytes(), encode(&entry))
            .map_err(db_err)?;
        Ok(())
    }
}

/// Waits while a backup copies. On tokio's multi-threaded runtime the worker hands its other
/// tasks on first, so the changes the backup waits for can finish.
fn wait_for_backup(paused: &std::sync::atomic::AtomicBool) {
    let wait = || {
        while paused.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    };
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(wait);
    } else {
        wait();
    }
}

impl Store {
    /// The same store, acting for `actor`: its changes are recorded under that name.
    pub fn acting(&self, actor: Actor) -> Store {
        Store {
            inner: self.inner.clone(),
            actor: std::sync::Arc::new(actor),
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Prepares the record of a change about to be made.
    pub(crate) fn note(
        &self,
        action: &str,
        object: impl std::fmt::Display,
    ) -> Result<Note, ApiError> {
        self.ensure_space()?;
        // a backup in progress holds new changes back for the moment of its copy
        let writing = loop {
            let writing = Writing::new(&self.inner.writers);
            if !self.inner.paused.load(Ordering::SeqCst) {
                break writing;
            }
            drop(writing);
            wait_for_backup(&self.inner.paused);
        };
        let id = self.inner.kv.generate_id().map_err(db_err)?;
        Ok(Note {
            entry: AuditEntry {
                id,
                at: now_ms(),
                user: self.actor.user.clone(),
                client: self.actor.client.clone(),
                action: action.into(),
                object: object.to_string(),
                before: None,
                after: None,
            },
            _writing: writing,
        })
    }

    /// Records something that is not a transaction of its own.
    pub(crate) fn record(
        &self,
        action: &str,
        object: impl std::fmt::Display,
        after: Option<serde_json::Value>,
    ) -> Result<(), ApiError> {
        self.note(action, object)?.write_alone(self, after)?;
        self.audited();
        Ok(())
    }

    /// Counts a committed record and drops the oldest past the limit.
    /// The one end of an audited change: its transaction's outcome (the change and its audit
    /// record, written together), then the audit log's count, the flush to disk, and the news
    /// for everyone watching.
    pub(crate) async fn commit<T>(
        &self,
        result: Result<T, super::kv::TxError<ApiError>>,
        change: super::StoreChange,
    ) -> Result<T, ApiError> {
        let value = super::finish(result)?;
        self.audited();
        self.flush().await?;
        self.publish(change);
        Ok(value)
    }

    pub(crate) fn audited(&self) {
        let inner = &self.inner;
        let len = inner.audit_len.fetch_add(1, Ordering::SeqCst) + 1;
        if len > inner.config.audit_limit && self.leads_now() {
            self.trim_audit();
        }
    }

    /// Archives and removes the oldest records beyond the log's limit. Only the leading
    /// replica trims (on its own commits, and every few seconds for the others'), so the
    /// archive is in one place.
    pub fn trim_audit(&self) {
        let inner = &self.inner;
        if inner.audit_len.load(Ordering::SeqCst) <= inner.config.audit_limit {
            return;
        }
        let mut archive = lock(&inner.audit_trim);
        while inner.audit_len.load(Ordering::SeqCst) > inner.config.audit_limit {
            match inner.audit.pop_min() {
                Ok(Some((_, record))) => {
                    inner.audit_len.fetch_sub(1, Ordering::SeqCst);
                    let counter = if archive.append(&record) {
                        &inner.audit_archived
                    } else {
                        &inner.audit_dropped
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("trimming the audit log: {e}");
                    break;
                }
            }
        }
    }

    /// Saves the log's length for the next start (see `stored_len`).
    pub(super) fn save_audit_len(&self) -> Result<(), ApiError> {
        let len = self.inner.audit_len.load(Ordering::SeqCst);
        self.inner
            .meta
            .insert(SAVED_LEN, len.to_be_bytes())
            .map_err(db_err)?;
        Ok(())
    }

    /// A page of the log, newest first.
    pub fn audit(&self, query: &AuditQuery) -> Result<AuditPage, ApiError> {
        let limit = query.limit();
        let end = query.before.unwrap_or(u64::MAX).to_be_bytes();
        let mut entries = Vec::with_capacity(limit);
        let mut next = None;
        for item in self.inner.audit.range(..end).rev() {
            let (_, value) = item.map_err(db_err)?;
            let entry: AuditEntry = decode(&value)?;
            if !query.matches(&entry) {
                continue;
            }
            if entries.len() == limit {
                next = entries.last().map(|e: &AuditEntry| e.id);
                break;
            }
            entries.push(entry);
        }
        Ok(AuditPage { entries, next })
    }

    /// Trimmed records archived, and those lost because they could not be, since start.
    pub fn audit_trimmed(&self) -> (u64, u64) {
        (
            self.inner.audit_archived.load(Ordering::Relaxed),
            self.inner.audit_dropped.load(Ordering::Relaxed),
        )
    }

    pub fn audit_len(&self) -> u64 {
        self.inner.audit_len.load(Ordering::SeqCst)
    }
}

/// The log's length as the console saved it when it last stopped cleanly.
const SAVED_LEN: &str = "audit_len_at_stop";

/// The log's length at open. Counting reads every record, and sled keeps what it read
/// resident (23 MiB for 50,000 records, measured), so a console that stopped cleanly saved the
/// count (`save_audit_len`). The saved count is removed now: after a crash the next start
/// counts again. sled recovers a prefix of what was written, so a record written after this
/// removal is never recovered without it.
pub(super) fn stored_len(meta: &super::Table, audit: &super::Table) -> Result<u64, ApiError> {
    let saved = meta.remove(SAVED_LEN).map_err(db_err)?;
    Ok(match saved.as_deref().map(<[u8; 8]>::try_from) {
        Some(Ok(bytes)) => u64::from_be_bytes(bytes),
        _ => audit.len() as u64,
    })
}
