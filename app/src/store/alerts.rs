//! Alert rules, their delivery logs, and the events the store raises for them.
//!
//! Events are raised where the store already decides that something happened (a history event,
//! an agent's presence, a new station, an address taken) and go out on an in-memory channel; the
//! server's dispatcher matches them against the rules and delivers them. A webhook's secret is
//! kept sealed like an API key's SecretKey and shown once, when the rule is added.

use super::audit::snapshot;
use super::kv::{Abort, Transactional};
use super::{db_err, decode, encode, finish, new_id, now_ms, Store};
use crate::domain::alerts::{
    check_rule, check_url_destination, AlertRow, AlertRule, CreatedAlert, Delivery, Event,
    EventType, NewAlertRule, Scope, Target, MAX_RULES,
};
use crate::domain::binding::Change;
use crate::domain::error::ApiError;
use crate::domain::ids::AlertId;
use crate::domain::ip::usable_count;
use crate::domain::mac::Mac;
use crate::domain::model::{Agent, Havip, HistoryEvent, Subnet};
use crate::i18n::{m, Text};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Deliveries kept per rule (the oldest are dropped).
pub const DELIVERIES_KEPT: usize = 50;
/// Share of a subnet's addresses in use at which `subnet.nearly_full` is raised (percent).
pub const DEFAULT_SUBNET_FULL_PERCENT: u8 = 90;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredRule {
    #[serde(flatten)]
    rule: AlertRule,
    /// the webhook secret, sealed (see `api_keys`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_secret: Option<String>,
}

fn rule_object(id: &AlertId) -> String {
    format!("alert {id}")
}

/// A webhook secret as Standard Webhooks writes them: `whsec_` and base64 of 32 random bytes.
fn new_webhook_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

impl Store {
    pub(crate) fn raise(
        &self,
        event_type: EventType,
        subject: String,
        scope: Scope,
        data: serde_json::Value,
    ) {
        let event = Event {
            id: format!("{:032x}", rand::random::<u128>()),
            seq: 0,
            event_type,
            time: now_ms(),
            subject,
            scope,
            data,
        };
        self.send_to_outbox(event);
    }

    /// Raises the event for a holder change just written to an HAVIP's history.
    pub(super) fn raise_change(&self, havip: &Havip, event: &HistoryEvent) {
        let holder = |mac: Mac| self.holder_json(mac);
        let (event_type, details) = match &event.change {
            Change::Bound { mac } => (
                EventType::HolderChanged,
                json!({"from": null, "to": holder(*mac)}),
            ),
            Change::Failover { from, to } => (
                EventType::HolderChanged,
                json!({"from": holder(*from), "to": holder(*to)}),
            ),
            Change::Lost { mac } => (EventType::Lost, json!({"last_holder": holder(*mac)})),
            Change::Conflict { macs } => (
                EventType::ConflictDetected,
                json!({
                    "claimants": macs.iter().map(|m| holder(*m)).collect::<Vec<_>>(),
                    // hosts behind one (virtual) MAC are told apart only by their count
                    "hosts_sharing_mac": crate::domain::binding::shared_mac(macs).map(|_| macs.len()),
                    "summary": event.change.describe(),
                }),
            ),
            Change::Resolved { mac } => (EventType::ConflictCleared, json!({"to": holder(*mac)})),
            Change::Unauthorized { mac } => (
                EventType::UnauthorizedClaim,
                json!({"claimant": holder(*mac)}),
            ),
        };
        let mut data = json!({
            "havip_id": havip.id,
            "name": havip.name,
            "vip": havip.ip,
            "region_id": havip.region_id,
            "vpc_id": havip.vpc_id,
            "subnet_id": havip.subnet_id,
            "change": event.change.describe(),
            "cause": event.cause,
            "agent": event.agent,
            "at": event.at,
        });
        merge(&mut data, details);
        self.count_event(&havip.id, event_type);
        self.raise(event_type, havip.id.to_string(), havip_scope(havip), data);
    }

    /// A MAC with the instance registered for it, when there is one.
    fn holder_json(&self, mac: Mac) -> serde_json::Value {
        match self.instance_by_mac(mac).ok().flatten() {
            Some(i) => {
                json!({"mac": mac, "instance_id": i.id, "instance": i.name, "eni_id": i.eni_id})
            }
            None => json!({"mac": mac}),
        }
    }

    pub(super) fn raise_presence(&self, agent_id: &crate::domain::ids::AgentId, online: bool) {
        if !online && self.is_closing() {
            return; // every agent drops when the console stops: that is no outage
        }
        let Ok(agent) = self.agent(agent_id) else {
            return;
        };
        let event_type = if online {
            EventType::AgentOnline
        } else {
            EventType::AgentOffline
        };
        self.raise(
            event_type,
            agent.id.to_string(),
            Scope::default(),
            agent_json(&agent),
        );
    }

    pub(super) fn raise_discovered(&self, subnet: &Subnet, ip: Ipv4Addr, mac: Mac, agent: &str) {
        let Ok(vpc) = self.vpc(&subnet.vpc_id) else {
            return;
        };
        self.raise(
            EventType::HostDiscovered,
            format!("{}/{ip}", subnet.id),
            Scope {
                region_id: Some(vpc.region_id),
                vpc_id: Some(vpc.id),
                subnet_id: Some(subnet.id.clone()),
                havip_id: None,
            },
            json!({"subnet_id": subnet.id, "ip": ip, "mac": mac, "agent": agent}),
        );
    }

    /// After an address of `subnet` was taken: raises `subnet.nearly_full` when this one
    /// crossed the threshold (once per crossing, not for every address after it).
    pub(super) fn raise_if_nearly_full(&self, subnet: &Subnet) {
        let total = u64::from(usable_count(subnet.cidr));
        let used = total.saturating_sub(u64::from(self.free_count(&subnet.id)));
        let percent = u64::from(self.inner.config.subnet_full_percent);
        let over = |n: u64| n * 100 >= percent * total;
        if total == 0 || !over(used) || over(used.saturating_sub(1)) {
            return;
        }
        let Ok(vpc) = self.vpc(&subnet.vpc_id) else {
            return;
        };
        self.raise(
            EventType::SubnetNearlyFull,
            subnet.id.to_string(),
            Scope {
                region_id: Some(vpc.region_id),
                vpc_id: Some(vpc.id),
                subnet_id: Some(subnet.id.clone()),
                havip_id: None,
            },
            json!({
                "subnet_id": subnet.id, "name": subnet.name, "cidr": subnet.cidr,
                "used": used, "usable": total, "threshold_percent": percent,
            }),
        );
    }

    /// The hook program a rule runs, if hooks are on and it is an executable file there.
    pub fn hook_path(&self, program: &str) -> Result<PathBuf, ApiError> {
        use std::os::unix::fs::PermissionsExt;
        crate::domain::alerts::check_program(program)?;
        let Some(dir) = &self.inner.config.hook_dir else {
            return Err(ApiError::invalid("program", m::errors_store::HOOKS_OFF));
        };
        let path = dir.join(program);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(path),
            _ => Err(ApiError::invalid(
                "program",
                Text::new(m::errors_store::HOOK_MISSING)
                    .arg("program", program)
                    .arg("dir", dir.display()),
            )),
        }
    }

    pub fn hooks_enabled(&self) -> bool {
        self.inner.config.hook_dir.is_some()
    }

    pub fn alert_rules(&self) -> Result<Vec<AlertRule>, ApiError> {
        let mut rules: Vec<AlertRule> = self
            .all::<StoredRule>(&self.inner.alert_rules)?
            .into_iter()
            .map(|s| s.rule)
            .collect();
        rules.sort_by_key(|r| r.created);
        Ok(rules)
    }

    /// Every rule with its latest `recent` deliveries.
    pub fn alert_rows(&self, recent: usize) -> Result<Vec<AlertRow>, ApiError> {
        self.alert_rules()?
            .into_iter()
            .map(|rule| {
                Ok(AlertRow {
                    recent: self.deliveries(&rule.id, recent)?,
                    rule,
                })
            })
            .collect()
    }

    fn stored_rule(&self, id: &AlertId) -> Result<StoredRule, ApiError> {
        self.get::<StoredRule>(&self.inner.alert_rules, id)?
            .ok_or_else(|| ApiError::not_found("Alert rule", id))
    }

    pub fn alert_rule(&self, id: &AlertId) -> Result<AlertRule, ApiError> {
        self.stored_rule(id).map(|s| s.rule)
    }

    /// The secret that signs a webhook rule's deliveries (for the dispatcher only).
    pub fn webhook_secret(&self, id: &AlertId) -> Result<Option<String>, ApiError> {
        self.stored_rule(id)?
            .sealed_secret
            .map(|s| self.unseal(&s))
            .transpose()
    }

    pub async fn create_alert(&self, new: NewAlertRule) -> Result<CreatedAlert, ApiError> {
        check_rule(&new)?;
        let name = crate::domain::name::check_name(&new.name).map_err(|e| e.refusal("name"))?;
        match &new.target {
            Target::Exec { program } => {
                self.hook_path(program)?;
            }
            Target::Webhook { url } => check_url_destination(url, &self.config().webhooks)?,
        }
        self.check_scope(&new.scope)?;
        if self.inner.alert_rules.len() >= MAX_RULES {
            return Err(ApiError::conflict(
                Text::new(m::errors_store::ALERT_RULES_FULL).arg("max", MAX_RULES),
            ));
        }
        let secret = matches!(new.target, Target::Webhook { .. }).then(new_webhook_secret);
        let mut events = new.events.clone();
        events.sort();
        events.dedup();
        let stored = StoredRule {
            rule: AlertRule {
                id: new_id(),
                name,
                target: new.target,
                events,
                scope: new.scope,
                dedup_s: new.dedup_s,
                enabled: true,
                created: now_ms(),
            },
            sealed_secret: secret.as_deref().map(|s| self.seal(s)),
        };
        self.put_rule("alert.create", None, &stored)?;
        self.flush().await?;
        Ok(CreatedAlert {
            rule: stored.rule,
            secret,
        })
    }

    /// Every id a scope names exists (and they are not contradictory).
    fn check_scope(&self, scope: &Scope) -> Result<(), ApiError> {
        let mut region = scope.region_id.clone();
        let mut vpc = scope.vpc_id.clone();
        let mut subnet = scope.subnet_id.clone();
        let clash = || ApiError::invalid("scope", m::errors_store::ALERT_SCOPE_CLASH);
        if let Some(id) = &scope.havip_id {
            let h = self.havip(id).map_err(|e| e.on_field("scope"))?;
            if subnet.as_ref().is_some_and(|s| *s != h.subnet_id) {
                return Err(clash());
            }
            subnet = Some(h.subnet_id);
        }
        if let Some(id) = &subnet {
            let s = self.subnet(id).map_err(|e| e.on_field("scope"))?;
            if vpc.is_some() && vpc.as_ref() != Some(&s.vpc_id) {
                return Err(clash());
            }
            vpc = Some(s.vpc_id);
        }
        if let Some(id) = &vpc {
            let v = self.vpc(id).map_err(|e| e.on_field("scope"))?;
            if region.is_some() && region.as_ref() != Some(&v.region_id) {
                return Err(clash());
            }
            region = Some(v.region_id);
        }
        if let Some(id) = &region {
            self.region(id).map_err(|e| e.on_field("scope"))?;
        }
        Ok(())
    }

    pub async fn set_alert_enabled(
        &self,
        id: &AlertId,
        enabled: bool,
    ) -> Result<AlertRule, ApiError> {
        let before = self.stored_rule(id)?;
        let mut after = before.clone();
        after.rule.enabled = enabled;
        let action = if enabled {
            "alert.enable"
        } else {
            "alert.disable"
        };
        self.put_rule(action, Some(&before), &after)?;
        self.flush().await?;
        Ok(after.rule)
    }

    pub async fn delete_alert(&self, id: &AlertId) -> Result<(), ApiError> {
        let before = self.stored_rule(id)?;
        let note = self.note("alert.delete", rule_object(id))?;
        let result = (&self.inner.alert_rules, &self.inner.audit).transaction(|(rules, audit)| {
            rules.remove(id.as_bytes())?;
            note.write(audit, snapshot(&before.rule), None)?;
            Ok::<_, Abort<ApiError>>(())
        });
        finish(result)?;
        self.audited();
        let mut batch = super::kv::Batch::default();
        for key in self
            .inner
            .alert_deliveries
            .scan_prefix(id.as_bytes())
            .keys()
        {
            batch.remove(key.map_err(db_err)?);
        }
        self.inner
            .alert_deliveries
            .apply_batch(batch)
            .map_err(db_err)?;
        self.flush().await?;
        self.publish(super::StoreChange::Alerts);
        Ok(())
    }

    fn put_rule(
        &self,
        action: &str,
        before: Option<&StoredRule>,
        after: &StoredRule,
    ) -> Result<(), ApiError> {
        let note = self.note(action, rule_object(&after.rule.id))?;
        let record = encode(after);
        let id = after.rule.id.as_bytes();
        let result = (&self.inner.alert_rules, &self.inner.audit).transaction(|(rules, audit)| {
            rules.insert(id, record.as_slice())?;
            note.write(
                audit,
                before.and_then(|b| snapshot(&b.rule)),
                snapshot(&after.rule),
            )?;
            Ok::<_, Abort<ApiError>>(())
        });
        finish(result)?;
        self.audited();
        self.publish(super::StoreChange::Alerts);
        Ok(())
    }

    /// Raises an `alert.test` event for one rule (enabled or not).
    pub fn test_alert(&self, id: &AlertId, user: &str) -> Result<(), ApiError> {
        let rule = self.alert_rule(id)?;
        self.raise(
            EventType::Test,
            rule.id.to_string(),
            Scope::default(),
            json!({"rule_id": rule.id, "rule": rule.name, "requested_by": user}),
        );
        Ok(())
    }

    /// Drops the oldest of a rule's logged deliveries beyond `DELIVERIES_KEPT`.
    pub(super) fn trim_deliveries(&self, id: &AlertId) -> Result<(), ApiError> {
        let keys: Vec<super::kv::Value> = self
            .inner
            .alert_deliveries
            .scan_prefix(id.as_bytes())
            .keys()
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        for old in keys.iter().take(keys.len().saturating_sub(DELIVERIES_KEPT)) {
            self.inner.alert_deliveries.remove(old).map_err(db_err)?;
        }
        Ok(())
    }

    /// A rule's latest deliveries, newest first.
    pub fn deliveries(&self, id: &AlertId, limit: usize) -> Result<Vec<Delivery>, ApiError> {
        self.inner
            .alert_deliveries
            .scan_prefix(id.as_bytes())
            .values()
            .rev()
            .take(limit)
            .map(|v| decode(&v.map_err(db_err)?))
            .collect()
    }
}

fn havip_scope(h: &Havip) -> Scope {
    Scope {
        region_id: Some(h.region_id.clone()),
        vpc_id: Some(h.vpc_id.clone()),
        subnet_id: Some(h.subnet_id.clone()),
        havip_id: Some(h.id.clone()),
    }
}

fn agent_json(agent: &Agent) -> serde_json::Value {
    json!({"agent_id": agent.id, "name": agent.name, "subnet_ids": agent.subnet_ids})
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(into), serde_json::Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}
