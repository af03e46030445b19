//! HAVIPs: allocation, rename, delete, listing.
//!
//! Allocation picks a candidate from the in-memory free ranges (marking it taken there, so
//! concurrent creates pick different candidates) and then claims it in one sled transaction
//! that inserts the IP-index key only if it is absent, checks the VPC quota and writes the
//! HAVIP. The transaction is the authority; the memory is only the fast path.

use super::audit::{snapshot, Note};
use super::client_tokens::{ClientToken, Earlier};
use super::kv::{Abort, Transactional, TxError};
use super::{be_u32, db_err, decode, encode, finish, ip_key, lock, new_id, now_ms};
use super::{Store, StoreChange};
use crate::domain::binding::BindingState;
use crate::domain::error::{ApiError, Reason};
use crate::domain::ids::{HavipId, SubnetId, VpcId};
use crate::domain::ip::{check_manual_ip, IpError};
use crate::domain::model::{Havip, IpChoice, MacNames, NewHavip};
use crate::domain::name::check_name;
use crate::domain::pages::HavipRow;
use crate::i18n::{m, Text};
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

enum ClaimError {
    Taken,
    Refused(ApiError),
    /// the request's `ClientToken` made an HAVIP before
    Earlier(Earlier),
}

/// What a create answers: the HAVIP it made, or the one its `ClientToken` made before.
#[derive(Debug)]
pub enum Created {
    New(Box<Havip>),
    Earlier(Earlier),
}

impl Store {
    /// What claiming or freeing an HAVIP's address writes in one transaction: the records, the
    /// address index, the per-VPC counts, the subnet (checked), its fence and the audit log.
    fn address_trees(&self) -> super::fences::SixTables<'_> {
        let inner = &self.inner;
        (
            &inner.havips,
            &inner.ip_index,
            &inner.havip_counts,
            &inner.subnets,
            &inner.fences,
            &inner.audit,
        )
    }

    /// An HAVIP with its latest binding (times claims were last heard included).
    pub fn havip(&self, id: &HavipId) -> Result<Havip, ApiError> {
        self.havip_if_any(id)?
            .ok_or_else(|| ApiError::not_found("HAVIP", id))
    }

    /// An HAVIP, or None if there is none with this id.
    pub fn havip_if_any(&self, id: &HavipId) -> Result<Option<Havip>, ApiError> {
        let stored: Option<Havip> = self.get(&self.inner.havips, id)?;
        Ok(stored.map(|mut havip| {
            havip.binding = latest_binding(&lock(&self.inner.fresh), &havip);
            havip
        }))
    }

    /// An HAVIP as stored: its binding as of the last change anyone can see.
    pub(super) fn stored_havip(&self, id: &HavipId) -> Result<Havip, ApiError> {
        self.get(&self.inner.havips, id)?
            .ok_or_else(|| ApiError::not_found("HAVIP", id))
    }

    pub fn havips(&self) -> Result<Vec<Havip>, ApiError> {
        self.all(&self.inner.havips)
    }

    pub fn havip_count(&self, vpc_id: &VpcId) -> Result<u32, ApiError> {
        Ok(self
            .inner
            .havip_counts
            .get(vpc_id)
            .map_err(db_err)?
            .map_or(0, |v| be_u32(&v)))
    }

    pub async fn create_havip(&self, req: NewHavip) -> Result<Havip, ApiError> {
        match self.create_havip_once(req, None).await? {
            Created::New(havip) => Ok(*havip),
            Created::Earlier(_) => unreachable!("a create without a ClientToken"),
        }
    }

    /// A create that, given a `ClientToken`, claims it in the create's transaction: a token
    /// used within a day answers its earlier create instead, on whichever replica.
    pub async fn create_havip_once(
        &self,
        req: NewHavip,
        token: Option<&ClientToken>,
    ) -> Result<Created, ApiError> {
        if let Some(earlier) = token
            .map(|t| self.client_token(&t.key))
            .transpose()?
            .flatten()
        {
            return Ok(Created::Earlier(earlier));
        }
        let name = check_name(&req.name).map_err(|e| e.refusal("name"))?;
        let vpc = self.vpc(&req.vpc_id).map_err(|e| e.on_field("vpc"))?;
        if vpc.region_id != req.region_id {
            return Err(ApiError::invalid(
                "vpc",
                Text::new(m::errors_store::VPC_OTHER_REGION).arg("vpc", &vpc.id),
            ));
        }
        let subnet = self
            .subnet(&req.subnet_id)
            .map_err(|e| e.on_field("subnet"))?;
        if subnet.vpc_id != vpc.id {
            return Err(ApiError::invalid(
                "subnet",
                Text::new(m::errors_store::SUBNET_OTHER_VPC)
                    .arg("subnet", &subnet.id)
                    .arg("vpc", &vpc.id),
            ));
        }
        let quota = self.inner.config.havip_quota_per_vpc;
        if self.havip_count(&vpc.id)? >= quota {
            return Err(quota_error(quota));
        }
        let note = self.note("havip.create", "(new)")?;
        loop {
            let ip = self.reserve(&subnet.id, subnet.cidr, &req.ip)?;
            let havip = Havip {
                id: new_id(),
                name: name.clone(),
                region_id: vpc.region_id.clone(),
                vpc_id: vpc.id.clone(),
                subnet_id: subnet.id.clone(),
                ip,
                created: now_ms(),
                binding: Default::default(),
                eip: None,
                allowed: vec![],
            };
            match self.claim(&havip, quota, &note, token) {
                Ok(()) => {
                    self.audited();
                    self.reindex(&havip.id)?;
                    self.flush().await?;
                    self.raise_if_nearly_full(&subnet);
                    self.publish(StoreChange::HavipCreated {
                        region_id: havip.region_id.clone(),
                        havip_id: havip.id.clone(),
                        subnet_id: havip.subnet_id.clone(),
                    });
                    return Ok(Created::New(Box::new(havip)));
                }
                // the index had it although memory did not: memory now knows; try the next one
                Err(ClaimError::Taken) if req.ip == IpChoice::Automatic => continue,
                Err(ClaimError::Taken) => return Err(IpError::InUse(ip).refusal("ip")),
                Err(ClaimError::Refused(e)) => {
                    self.unreserve(&subnet.id, ip);
                    return Err(e);
                }
                Err(ClaimError::Earlier(earlier)) => {
                    self.unreserve(&subnet.id, ip);
                    return Ok(Created::Earlier(earlier));
                }
            }
        }
    }

    /// Picks the address (lowest free, or the validated manual one) and marks it taken in memory.
    pub(super) fn reserve(
        &self,
        subnet_id: &SubnetId,
        cidr: ipnet::Ipv4Net,
        choice: &IpChoice,
    ) -> Result<Ipv4Addr, ApiError> {
        let mut free = lock(&self.inner.free);
        let ranges = free
            .get_mut(subnet_id)
            // a subnet deleted a moment ago
            .ok_or_else(|| ApiError::not_found("Subnet", subnet_id).on_field("subnet"))?;
        let ip = match choice {
            IpChoice::Automatic => ranges.lowest().ok_or_else(|| {
                ApiError::invalid(
                    "subnet",
                    Text::new(m::errors_store::SUBNET_FULL).arg("cidr", cidr),
                )
                .because(Reason::Full)
            })?,
            IpChoice::Manual(text) => check_manual_ip(text, cidr, |ip| !ranges.is_free(ip))
                .map_err(|e| e.refusal("ip"))?,
        };
        ranges.claim(ip);
        Ok(ip)
    }

    pub(super) fn unreserve(&self, subnet_id: &SubnetId, ip: Ipv4Addr) {
        if let Some(r) = lock(&self.inner.free).get_mut(subnet_id) {
            r.release(ip);
        }
    }

    /// The authoritative claim: index key absent, quota not reached, then write all three.
    fn claim(
        &self,
        havip: &Havip,
        quota: u32,
        note: &Note,
        token: Option<&ClientToken>,
    ) -> Result<(), ClaimError> {
        let key = ip_key(&havip.subnet_id, havip.ip);
        let record = encode(havip);
        let note = note.on(&havip.id);
        let (havips, index, counts, subnets, fences, audit) = self.address_trees();
        let tables = (
            havips,
            index,
            counts,
            subnets,
            fences,
            audit,
            &self.inner.client_tokens,
        );
        let result =
            tables.transaction(|(havips, index, counts, subnets, fences, audit, tokens)| {
                if let Some(token) = token {
                    if let Some(earlier) = super::client_tokens::claim_in(tokens, token, &havip.id)?
                    {
                        return Err(Abort::Abort(ClaimError::Earlier(earlier)));
                    }
                }
                if index.get(&key)?.is_some() {
                    return Err(Abort::Abort(ClaimError::Taken));
                }
                super::fences::claim_in(subnets, fences, &havip.subnet_id).map_err(
                    |e| match e {
                        Abort::Abort(refusal) => Abort::Abort(ClaimError::Refused(refusal)),
                        Abort::Failed(failed) => Abort::Failed(failed),
                    },
                )?;
                let count = counts
                    .get(havip.vpc_id.as_bytes())?
                    .map_or(0, |v| be_u32(&v));
                if count >= quota {
                    return Err(Abort::Abort(ClaimError::Refused(quota_error(quota))));
                }
                index.insert(key.as_slice(), havip.id.as_bytes())?;
                counts.insert(havip.vpc_id.as_bytes(), (count + 1).to_be_bytes())?;
                havips.insert(havip.id.as_bytes(), record.as_slice())?;
                note.write(audit, None, snapshot(havip))?;
                Ok(())
            });
        result.map_err(|e| match e {
            TxError::Abort(c) => c,
            TxError::Storage(e) => ClaimError::Refused(db_err(e)),
        })
    }

    pub async fn rename_havip(&self, id: &HavipId, name: &str) -> Result<Havip, ApiError> {
        let name = check_name(name).map_err(|e| e.refusal("name"))?;
        let note = self.note("havip.rename", id)?;
        let updated = self.update_havip(id, Some(&note), |h| {
            h.name = name.clone();
            Ok(())
        })?;
        self.flush().await?;
        self.publish_havip(&updated, true);
        Ok(updated)
    }

    /// Read-modify-write of one HAVIP record, atomic against concurrent updates; a user's
    /// change is recorded in the audit log (`note`), an observation is not (it has its history).
    pub(crate) fn update_havip(
        &self,
        id: &HavipId,
        note: Option<&Note>,
        change: impl Fn(&mut Havip) -> Result<(), ApiError>,
    ) -> Result<Havip, ApiError> {
        let (havip, _) = self.update_havip_when(id, note, |h| change(h).map(|()| true))?;
        Ok(havip)
    }

    /// `update_havip` whose `change` may find nothing to write (false): then nothing is
    /// written, and the record is answered as read. It runs again when another writer (another
    /// replica) changed the record first. Whether it wrote comes with the record.
    pub(crate) fn update_havip_when(
        &self,
        id: &HavipId,
        note: Option<&Note>,
        change: impl Fn(&mut Havip) -> Result<bool, ApiError>,
    ) -> Result<(Havip, bool), ApiError> {
        let result = (&self.inner.havips, &self.inner.audit).transaction(|(havips, audit)| {
            let Some(bytes) = havips.get(id)? else {
                return Err(Abort::Abort(ApiError::not_found("HAVIP", id)));
            };
            let before: Havip = decode(&bytes).map_err(Abort::Abort)?;
            let mut havip = before.clone();
            if !change(&mut havip).map_err(Abort::Abort)? {
                return Ok((before, false));
            }
            havips.insert(id.as_bytes(), encode(&havip))?;
            if let Some(note) = note {
                note.write(audit, snapshot(&before), snapshot(&havip))?;
            }
            Ok((havip, true))
        });
        let (havip, written) = finish(result)?;
        if written {
            if note.is_some() {
                self.audited();
            }
            self.reindex(id)?;
        }
        Ok((havip, written))
    }

    /// Deletes an HAVIP and its history; refused while an EIP is bound.
    pub async fn delete_havip(&self, id: &HavipId) -> Result<Havip, ApiError> {
        let note = self.note("havip.delete", id)?;
        let result = self.address_trees().transaction(
            |(havips, index, counts, _subnets, _fences, audit)| {
                let Some(bytes) = havips.get(id)? else {
                    return Err(Abort::Abort(ApiError::not_found("HAVIP", id)));
                };
                let havip: Havip = decode(&bytes).map_err(Abort::Abort)?;
                if let Some(eip) = havip.eip {
                    return Err(Abort::Abort(
                        ApiError::conflict(
                            Text::new(m::errors_store::HAVIP_EIP_BOUND)
                                .arg("havip", &havip.id)
                                .arg("eip", eip),
                        )
                        .because(Reason::EipBound),
                    ));
                }
                havips.remove(id.as_bytes())?;
                index.remove(ip_key(&havip.subnet_id, havip.ip))?;
                let count = counts
                    .get(havip.vpc_id.as_bytes())?
                    .map_or(0, |v| be_u32(&v));
                counts.insert(
                    havip.vpc_id.as_bytes(),
                    count.saturating_sub(1).to_be_bytes(),
                )?;
                note.write(audit, snapshot(&havip), None)?;
                Ok(havip)
            },
        );
        let havip = finish(result)?;
        self.audited();
        self.reindex(id)?;
        self.unreserve(&havip.subnet_id, havip.ip);
        lock(&self.inner.fresh).remove(&havip.id);
        // the record is gone, so no observation can add to its history any more
        self.remove_history(&havip.id)?;
        self.flush().await?;
        self.publish(StoreChange::HavipDeleted {
            region_id: havip.region_id.clone(),
            havip_id: havip.id.clone(),
            subnet_id: havip.subnet_id.clone(),
            havip: Box::new(havip.clone()),
        });
        Ok(havip)
    }

    /// Rows for these HAVIPs: VPCs, subnets, instance names and agent coverage are looked up
    /// once for all of them.
    pub fn rows(&self, havips: &[Havip]) -> Result<Vec<HavipRow>, ApiError> {
        let watched = self.watched_subnets()?;
        let names = self.mac_names()?;
        let mut vpcs = HashMap::new();
        let mut subnets = HashMap::new();
        havips
            .iter()
            .map(|h| {
                if !vpcs.contains_key(&h.vpc_id) {
                    vpcs.insert(h.vpc_id.clone(), self.vpc(&h.vpc_id)?);
                }
                if !subnets.contains_key(&h.subnet_id) {
                    subnets.insert(h.subnet_id.clone(), self.subnet(&h.subnet_id)?);
                }
                Ok(HavipRow::new(
                    h,
                    &vpcs[&h.vpc_id],
                    &subnets[&h.subnet_id],
                    &names,
                    watched.contains(&h.subnet_id),
                ))
            })
            .collect()
    }

    pub fn row(&self, h: &Havip) -> Result<HavipRow, ApiError> {
        let watched: HashSet<SubnetId> = self.watched_subnets()?;
        Ok(HavipRow::new(
            h,
            &self.vpc(&h.vpc_id)?,
            &self.subnet(&h.subnet_id)?,
            &self.mac_names()?,
            watched.contains(&h.subnet_id),
        ))
    }

    /// Every registered instance by MAC, to name holders.
    pub fn mac_names(&self) -> Result<MacNames, ApiError> {
        Ok(MacNames::new(self.instances()?))
    }
}

fn quota_error(quota: u32) -> ApiError {
    ApiError::invalid(
        "vpc",
        Text::new(m::errors_store::HAVIP_QUOTA).arg("quota", quota),
    )
    .because(Reason::Quota)
}

/// The binding kept in memory for `havip` while it only refreshes the stored one, else the
/// stored one (after a restart, or once something else changed it).
pub(super) fn latest_binding(
    fresh: &HashMap<HavipId, BindingState>,
    havip: &Havip,
) -> BindingState {
    match fresh.get(&havip.id) {
        Some(latest) if latest.durable() == havip.binding.durable() => latest.clone(),
        _ => havip.binding.clone(),
    }
}
