//! Each HAVIP's history of holder changes: appended as agents report, counted, trimmed to the
//! configured limit, paged and summed up as a timeline.

use super::kv::{Abort, Transactional};
use super::{be_u64, db_err, decode, encode, finish, Store};
use crate::domain::binding::Change;
use crate::domain::error::ApiError;
use crate::domain::ids::HavipId;
use crate::domain::model::{Havip, HistoryEvent};
use crate::domain::timeline::{Timeline, DAY_MS, MAX_EVENTS, SPARK_CELLS};

fn event_key(havip_id: &str, at: u64, seq: u64) -> Vec<u8> {
    let mut key = havip_id.as_bytes().to_vec();
    key.extend_from_slice(&at.to_be_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

impl Store {
    /// Appends an event to an HAVIP's history and counts it; beyond the configured limit the
    /// oldest events are dropped.
    pub(super) fn record_event(&self, event: HistoryEvent) -> Result<(), ApiError> {
        let seq = self.inner.kv.generate_id().map_err(db_err)?;
        let key = event_key(&event.havip_id, event.at, seq);
        let record = encode(&event);
        let id = event.havip_id.as_bytes();
        let result =
            (&self.inner.events, &self.inner.history_counts).transaction(|(events, counts)| {
                let n = counts.get(id)?.map_or(0, |v| be_u64(&v));
                events.insert(key.as_slice(), record.as_slice())?;
                counts.insert(id, (n + 1).to_be_bytes())?;
                Ok::<_, Abort<ApiError>>(n + 1)
            });
        let count = finish(result)?;
        if count > self.inner.config.history_limit {
            self.trim_history(&event.havip_id, self.inner.config.history_limit)?;
        }
        if let Ok(havip) = self.stored_havip(&event.havip_id) {
            self.raise_change(&havip, &event);
        }
        Ok(())
    }

    /// Drops the oldest events of an HAVIP until at most `keep` remain.
    pub(super) fn trim_history(&self, havip_id: &HavipId, keep: u64) -> Result<(), ApiError> {
        loop {
            let Some(oldest) = self
                .inner
                .events
                .scan_prefix(havip_id.as_bytes())
                .keys()
                .next()
                .transpose()
                .map_err(db_err)?
            else {
                return Ok(());
            };
            let id = havip_id.as_bytes();
            let result =
                (&self.inner.events, &self.inner.history_counts).transaction(|(events, counts)| {
                    let n = counts.get(id)?.map_or(0, |v| be_u64(&v));
                    if n <= keep {
                        return Ok(false);
                    }
                    if events.remove(&oldest)?.is_some() {
                        counts.insert(id, (n - 1).to_be_bytes())?;
                    }
                    Ok::<_, Abort<ApiError>>(true)
                });
            if !finish(result)? {
                return Ok(());
            }
        }
    }

    /// Removes an HAVIP's whole history (after the HAVIP itself is gone, so nothing adds to it).
    pub(super) fn remove_history(&self, havip_id: &HavipId) -> Result<(), ApiError> {
        let mut batch = super::kv::Batch::default();
        for key in self.inner.events.scan_prefix(havip_id.as_bytes()).keys() {
            batch.remove(key.map_err(db_err)?);
        }
        self.inner.events.apply_batch(batch).map_err(db_err)?;
        self.inner
            .history_counts
            .remove(havip_id.as_bytes())
            .map_err(db_err)?;
        Ok(())
    }

    /// Holder changes of one HAVIP, newest first: `limit` of them after skipping `offset`.
    pub fn history(
        &self,
        havip_id: &HavipId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<HistoryEvent>, ApiError> {
        self.inner
            .events
            .scan_prefix(havip_id.as_bytes())
            .rev()
            .skip(offset)
            .take(limit)
            .map(|e| decode(&e.map_err(db_err)?.1))
            .collect()
    }

    /// The HAVIP's strip of `[to - span, to)` (see `Timeline`): read from the time index of
    /// its history, at most `MAX_EVENTS` of the window's newest events decoded.
    pub fn timeline(&self, havip: &Havip, span: u64, to: u64) -> Result<Timeline, ApiError> {
        let from = to.saturating_sub(span);
        let id = havip.id.as_bytes();
        let key = |at: u64| event_key(&havip.id, at, 0);
        let mut window: Vec<(u64, Change)> = vec![];
        let mut truncated = false;
        for entry in self.inner.events.range(key(from)..key(to)).rev() {
            if window.len() == MAX_EVENTS {
                truncated = true;
                break;
            }
            let event: HistoryEvent = decode(&entry.map_err(db_err)?.1)?;
            window.push((event.at, event.change));
        }
        window.reverse();
        let before = match self.inner.events.range(id.to_vec()..key(from)).next_back() {
            Some(entry) => Some(decode::<HistoryEvent>(&entry.map_err(db_err)?.1)?.change),
            None => None,
        };
        Ok(Timeline::build(
            from,
            to,
            havip.created,
            before.as_ref(),
            &window,
            truncated,
        ))
    }

    /// The list's sparkline of the HAVIP: its last 24 hours, at the list's resolution.
    pub fn spark(&self, havip: &Havip, now: u64) -> Result<Timeline, ApiError> {
        Ok(self
            .timeline(havip, DAY_MS, now)?
            .at_resolution(SPARK_CELLS))
    }

    /// How many events an HAVIP's history holds (a kept counter, not a scan).
    pub fn history_len(&self, havip_id: &HavipId) -> Result<u64, ApiError> {
        Ok(self
            .inner
            .history_counts
            .get(havip_id.as_bytes())
            .map_err(db_err)?
            .map_or(0, |v| be_u64(&v)))
    }
}
