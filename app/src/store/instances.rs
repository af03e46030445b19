//! Registered instances (each with its primary ENI), the stations agents discovered, and the
//! allowed holders of an HAVIP.
//!
//! Registering claims the ENI's primary IP in the IP index (so no HAVIP can take it) and its MAC
//! in the MAC index (one instance per MAC), in one transaction, like an HAVIP's allocation.

use super::audit::snapshot;
use super::havips::latest_binding;
use super::kv::{Abort, Transactional};
use super::{db_err, decode, encode, finish, ip_key, lock, new_id, now_ms, Store, StoreChange};
use crate::domain::binding::restrict;
use crate::domain::error::ApiError;
use crate::domain::ids::{EniId, HavipId, SubnetId};
use crate::domain::ip::IpError;
use crate::domain::mac::{check_host_mac, Mac};
use crate::domain::model::{Havip, HistoryEvent, Instance, IpChoice, Station};
use crate::domain::name::check_name;
use crate::i18n::{m, Text};

/// What the register form sends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewInstance {
    pub name: String,
    pub subnet_id: SubnetId,
    pub mac: String,
    pub ip: String,
}

impl Store {
    /// What registering or removing an instance writes in one transaction: its ENI record, the
    /// address and MAC indexes, and the audit log.
    fn instance_trees(&self) -> super::fences::SixTables<'_> {
        let inner = &self.inner;
        let (enis, index, macs) = (&inner.enis, &inner.ip_index, &inner.mac_index);
        (
            enis,
            index,
            macs,
            &inner.subnets,
            &inner.fences,
            &inner.audit,
        )
    }

    pub async fn register_instance(&self, req: NewInstance) -> Result<Instance, ApiError> {
        let name = check_name(&req.name).map_err(|e| e.refusal("name"))?;
        let subnet = self
            .subnet(&req.subnet_id)
            .map_err(|e| e.on_field("subnet"))?;
        let vpc = self.vpc(&subnet.vpc_id)?;
        let mac = check_host_mac(&req.mac).map_err(|e| ApiError::invalid("mac", e))?;
        if let Some(owner) = self.instance_by_mac(mac)? {
            return Err(mac_taken(mac, &owner));
        }
        let ip = self.reserve(&subnet.id, subnet.cidr, &IpChoice::Manual(req.ip.clone()))?;
        let instance = Instance {
            id: new_id(),
            eni_id: new_id(),
            name,
            region_id: vpc.region_id.clone(),
            vpc_id: vpc.id.clone(),
            subnet_id: subnet.id.clone(),
            mac,
            ip,
            created: now_ms(),
        };
        let ip_key = ip_key(&subnet.id, ip);
        let record = encode(&instance);
        let note = self.note("instance.register", &instance.eni_id)?;
        let result =
            self.instance_trees()
                .transaction(|(enis, index, macs, subnets, fences, audit)| {
                    if index.get(&ip_key)?.is_some() {
                        return Err(Abort::Abort(IpError::InUse(ip).refusal("ip")));
                    }
                    super::fences::claim_in(subnets, fences, &subnet.id)?;
                    if let Some(owner) = macs.get(mac.0)? {
                        let owner: Instance = match enis.get(&*owner)? {
                            Some(bytes) => decode(&bytes).map_err(Abort::Abort)?,
                            None => {
                                return Err(Abort::Abort(ApiError::internal("dangling MAC index")))
                            }
                        };
                        return Err(Abort::Abort(mac_taken(mac, &owner)));
                    }
                    index.insert(ip_key.as_slice(), instance.eni_id.as_bytes())?;
                    macs.insert(mac.0, instance.eni_id.as_bytes())?;
                    enis.insert(instance.eni_id.as_bytes(), record.as_slice())?;
                    note.write(audit, None, snapshot(&instance))?;
                    Ok(())
                });
        if let Err(e) = finish(result) {
            // the address stays taken in memory only if someone else really holds it
            if e.field.as_deref() != Some("ip") {
                self.unreserve(&subnet.id, ip);
            }
            return Err(e);
        }
        self.audited();
        self.flush().await?;
        self.publish(StoreChange::Instances {
            region_id: instance.region_id.clone(),
        });
        self.raise_if_nearly_full(&subnet);
        Ok(instance)
    }

    /// Removes an instance; refused while it is an allowed holder of an HAVIP.
    pub async fn deregister_instance(&self, eni_id: &EniId) -> Result<Instance, ApiError> {
        let instance = self.instance(eni_id)?;
        if let Some(h) = self
            .havips()?
            .into_iter()
            .find(|h| h.allowed.contains(eni_id))
        {
            return Err(ApiError::conflict(
                Text::new(m::errors_store::INSTANCE_ALLOWED_HOLDER)
                    .arg("name", &instance.name)
                    .arg("havip_name", &h.name)
                    .arg("havip", &h.id),
            ));
        }
        let note = self.note("instance.deregister", eni_id)?;
        let result =
            self.instance_trees()
                .transaction(|(enis, index, macs, _subnets, _fences, audit)| {
                    enis.remove(instance.eni_id.as_bytes())?;
                    index.remove(ip_key(&instance.subnet_id, instance.ip))?;
                    macs.remove(instance.mac.0)?;
                    note.write(audit, snapshot(&instance), None)?;
                    Ok::<_, Abort<ApiError>>(())
                });
        finish(result)?;
        self.audited();
        self.unreserve(&instance.subnet_id, instance.ip);
        self.flush().await?;
        self.publish(StoreChange::Instances {
            region_id: instance.region_id.clone(),
        });
        Ok(instance)
    }

    pub fn instance(&self, eni_id: &EniId) -> Result<Instance, ApiError> {
        self.get(&self.inner.enis, eni_id)?
            .ok_or_else(|| ApiError::not_found("ENI", eni_id))
    }

    /// Every registered instance, oldest first.
    pub fn instances(&self) -> Result<Vec<Instance>, ApiError> {
        let mut all: Vec<Instance> = self.all(&self.inner.enis)?;
        all.sort_by_key(|i| (i.created, i.eni_id.clone()));
        Ok(all)
    }

    pub fn instance_by_mac(&self, mac: Mac) -> Result<Option<Instance>, ApiError> {
        match self.inner.mac_index.get(mac.0).map_err(db_err)? {
            Some(eni_id) => self.get(&self.inner.enis, &String::from_utf8_lossy(&eni_id)),
            None => Ok(None),
        }
    }

    /// Stations agents saw that are not registered yet: neither their MAC nor their address is
    /// known (an address held by an HAVIP is the HAVIP's, not a host's own).
    pub fn discovered(&self) -> Result<Vec<Station>, ApiError> {
        let mut found = vec![];
        for station in self.stations()? {
            if self.is_unknown_host(&station.subnet_id, station.ip, station.mac)? {
                found.push(station);
            }
        }
        Ok(found)
    }

    /// Neither the address (an HAVIP's or an ENI's) nor the MAC (an instance's) is known: a host
    /// the Instances page lists as discovered.
    pub(super) fn is_unknown_host(
        &self,
        subnet_id: &SubnetId,
        ip: std::net::Ipv4Addr,
        mac: Mac,
    ) -> Result<bool, ApiError> {
        let used = self
            .inner
            .ip_index
            .contains_key(ip_key(subnet_id, ip))
            .map_err(db_err)?;
        let known = self.inner.mac_index.contains_key(mac.0).map_err(db_err)?;
        Ok(!used && !known)
    }

    /// Sets which ENIs may hold the HAVIP (empty: any). Each must be registered in the HAVIP's
    /// subnet. A holder no longer allowed is moved out at once and the change recorded.
    pub async fn set_allowed_holders(
        &self,
        havip_id: &HavipId,
        eni_ids: &[EniId],
    ) -> Result<Havip, ApiError> {
        let havip = self.havip(havip_id)?;
        let mut allowed: Vec<EniId> = vec![];
        let mut macs: Vec<Mac> = vec![];
        for id in eni_ids {
            let instance = self.instance(id).map_err(|e| e.on_field("allowed"))?;
            if instance.subnet_id != havip.subnet_id {
                return Err(ApiError::invalid(
                    "allowed",
                    Text::new(m::errors_store::INSTANCE_OTHER_SUBNET)
                        .arg("name", &instance.name)
                        .arg("eni", &instance.eni_id)
                        .arg("subnet", &havip.subnet_id),
                ));
            }
            if !allowed.contains(&instance.eni_id) {
                allowed.push(instance.eni_id);
                macs.push(instance.mac);
            }
        }
        let now = now_ms();
        let rules = self.inner.config.binding;
        let change = std::cell::Cell::new(None);
        let note = self.note("havip.allowed_holders", havip_id)?;
        // bindings change under this lock only (see `observe`)
        let updated = {
            let mut fresh = lock(&self.inner.fresh);
            let updated = self.update_havip(havip_id, Some(&note), |h| {
                h.allowed = allowed.clone();
                let (next, c) = restrict(
                    &latest_binding(&fresh, h),
                    |m| macs.is_empty() || macs.contains(&m),
                    now,
                    &rules,
                );
                h.binding = next;
                change.set(c);
                Ok(())
            })?;
            fresh.remove(havip_id);
            updated
        };
        if let Some(c) = change.take() {
            let cause = Text::new(m::causes::ALLOWED_HOLDERS_CHANGED);
            let event = HistoryEvent::new(updated.id.clone(), now, c, &cause, String::new());
            self.record_event(event)?;
        }
        self.flush().await?;
        self.publish_havip(&updated, false);
        Ok(updated)
    }

    /// The MACs allowed to hold the HAVIP; `None` when any may.
    pub(super) fn allowed_macs(&self, havip: &Havip) -> Result<Option<Vec<Mac>>, ApiError> {
        if havip.allowed.is_empty() {
            return Ok(None);
        }
        let mut macs = vec![];
        for id in &havip.allowed {
            if let Some(i) = self.get::<Instance>(&self.inner.enis, id)? {
                macs.push(i.mac);
            }
        }
        Ok(Some(macs))
    }
}

fn mac_taken(mac: Mac, owner: &Instance) -> ApiError {
    ApiError::invalid(
        "mac",
        Text::new(m::errors_store::MAC_TAKEN)
            .arg("mac", mac)
            .arg("name", &owner.name)
            .arg("id", &owner.id),
    )
}
