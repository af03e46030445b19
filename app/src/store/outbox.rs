//! The alert outbox: every event the store raises is kept (`alert_outbox`) until the
//! dispatcher has matched it to the rules that want it, and each delivery to a rule is kept
//! (`alert_pending`) until it ends: delivered, refused, given up, dropped, or its rule deleted.
//! A console that stops or dies with events not yet matched, or deliveries still being retried,
//! delivers them when it starts again.
//!
//! A delivery may then be made twice (sent, but the console died before its end was written):
//! receivers tell a repeat by the event's id (the webhook's `webhook-id`), which never changes.

use super::kv::{Abort, Transactional};
use super::{db_err, decode, encode, finish, Store};
use crate::domain::alerts::{Delivery, Event, Outgoing};
use crate::domain::error::ApiError;
use crate::domain::ids::AlertId;
use tokio::sync::broadcast;

/// A rule's pending delivery of event `seq`: the rule's id, then the number (so a rule's
/// deliveries read back in the order they were raised).
fn pending_key(rule: &AlertId, seq: u64) -> Vec<u8> {
    let mut key = rule.as_bytes().to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

impl Store {
    /// Numbers the event, keeps it in the outbox if a rule wants it, and hands it to the
    /// dispatcher. While the disk is nearly full it is only handed over (delivered unless the
    /// console stops first).
    pub(super) fn send_to_outbox(&self, mut event: Event) {
        let wanted =
            (self.alert_rules()).map_or(true, |rules| rules.iter().any(|r| r.wants(&event)));
        let kept = wanted
            && self.has_space()
            && self.inner.kv.generate_id().is_ok_and(|seq| {
                event.seq = seq;
                let stored = self
                    .inner
                    .alert_outbox
                    .insert(seq.to_be_bytes(), encode(&event));
                if let Err(e) = &stored {
                    tracing::warn!("alerts: an event could not be kept in the outbox: {e}");
                }
                stored.is_ok()
            });
        if !kept {
            event.seq = 0;
        }
        // nobody listening (no dispatcher, e.g. in the store's tests) is fine: it stays kept
        let _ = self.inner.alerts.send(event);
    }

    /// The events for the dispatcher: those in the outbox (raised but not matched yet: left by
    /// an earlier run, or missed by a receiver that fell behind), and from now on each one as
    /// it is raised. An event may come both ways (the dispatcher skips the second).
    pub fn alert_events(&self) -> Result<(Vec<Event>, broadcast::Receiver<Event>), ApiError> {
        let raised = self.inner.alerts.subscribe();
        let kept = self
            .inner
            .alert_outbox
            .iter()
            .values()
            .map(|v| decode(&v.map_err(db_err)?))
            .collect::<Result<_, _>>()?;
        Ok((kept, raised))
    }

    /// The deliveries an earlier run left unfinished, each rule's in the order raised.
    pub fn pending_deliveries(&self) -> Result<Vec<(AlertId, Outgoing)>, ApiError> {
        let mut pending = vec![];
        for entry in self.inner.alert_pending.iter() {
            let (key, value) = entry.map_err(db_err)?;
            let rule = std::str::from_utf8(&key[..key.len().saturating_sub(8)])
                .ok()
                .and_then(|id| AlertId::parse(id).ok())
                .ok_or_else(|| ApiError::internal("corrupt record: a pending delivery's key"))?;
            pending.push((rule, decode(&value)?));
        }
        Ok(pending)
    }

    /// Event `matched` (`None`: an event held back by the de-duplication, already out of the
    /// outbox) leaves the outbox, and its deliveries `begin`: kept until each ends.
    pub fn deliveries_begin(
        &self,
        matched: Option<u64>,
        begin: &[(AlertId, Outgoing)],
    ) -> Result<(), ApiError> {
        let records: Vec<(Vec<u8>, Vec<u8>)> = begin
            .iter()
            .map(|(rule, out)| (pending_key(rule, out.event.seq), encode(out)))
            .collect();
        let result = (&self.inner.alert_outbox, &self.inner.alert_pending).transaction(
            |(outbox, pending)| {
                if let Some(seq) = matched {
                    outbox.remove(seq.to_be_bytes())?;
                }
                for (key, record) in &records {
                    pending.insert(key.as_slice(), record.as_slice())?;
                }
                Ok::<_, Abort<ApiError>>(())
            },
        );
        finish(result)
    }

    /// Rule `id`'s delivery of event `seq` ended: its outcome goes to the rule's delivery log
    /// (`None`: the rule is gone, nothing to log) in the transaction that ends it. The log's
    /// oldest beyond `DELIVERIES_KEPT` are dropped; while the disk is nearly full nothing is
    /// logged.
    pub fn delivery_ended(
        &self,
        id: &AlertId,
        seq: u64,
        delivery: Option<&Delivery>,
    ) -> Result<(), ApiError> {
        let log = delivery.filter(|_| self.has_space()).map(encode);
        let entry = self.inner.kv.generate_id().map_err(db_err)?;
        let (rules, pending, deliveries) = (
            &self.inner.alert_rules,
            &self.inner.alert_pending,
            &self.inner.alert_deliveries,
        );
        let result = (rules, pending, deliveries).transaction(|(rules, pending, deliveries)| {
            pending.remove(pending_key(id, seq))?;
            let Some(log) = &log else {
                return Ok::<_, Abort<ApiError>>(false);
            };
            // a rule deleted meanwhile keeps no log
            if rules.get(id.as_bytes())?.is_none() {
                return Ok(false);
            }
            deliveries.insert(pending_key(id, entry), log.as_slice())?;
            Ok(true)
        });
        if finish(result)? {
            self.trim_deliveries(id)?;
            self.publish(super::StoreChange::Alerts);
        }
        Ok(())
    }
}
