//! Elastic (public) IPs from the operator's pool, bound one-to-one to HAVIPs.

use super::audit::snapshot;
use super::kv::{Abort, Transactional};
use super::{decode, encode, finish, load, new_id, now_ms, Store, StoreChange};
use crate::domain::error::{ApiError, Reason};
use crate::domain::ids::{EipId, HavipId};
use crate::domain::model::{Eip, Havip};
use crate::i18n::{m, Text};
use std::net::Ipv4Addr;

impl Store {
    pub fn eips(&self) -> Result<Vec<Eip>, ApiError> {
        let mut eips: Vec<Eip> = self.all(&self.inner.eips)?;
        eips.sort_by_key(|e| e.ip);
        Ok(eips)
    }

    pub fn eip(&self, id: &EipId) -> Result<Eip, ApiError> {
        self.get(&self.inner.eips, id)?
            .ok_or_else(|| ApiError::not_found("EIP", id))
    }

    /// Takes the lowest free address of the pool (network and broadcast addresses excluded).
    pub async fn allocate_eip(&self) -> Result<Eip, ApiError> {
        let pool = self.inner.config.eip_pool;
        let first = u32::from(pool.network()) + u32::from(pool.prefix_len() < 31);
        let last = u32::from(pool.broadcast()) - u32::from(pool.prefix_len() < 31);
        loop {
            let taken: std::collections::HashSet<Ipv4Addr> =
                self.eips()?.into_iter().map(|e| e.ip).collect();
            let Some(ip) = (first..=last)
                .map(Ipv4Addr::from)
                .find(|ip| !taken.contains(ip))
            else {
                return Err(ApiError::conflict(
                    Text::new(m::errors_store::EIP_POOL_FULL).arg("pool", pool),
                )
                .because(Reason::Full));
            };
            let eip = Eip {
                id: new_id(),
                ip,
                havip_id: None,
                allocated: now_ms(),
            };
            let key = u32::from(ip).to_be_bytes();
            let note = self.note("eip.allocate", &eip.id)?;
            let claimed = (&self.inner.eips, &self.inner.eip_index, &self.inner.audit).transaction(
                |(eips, index, audit)| {
                    if index.get(key)?.is_some() {
                        return Ok(false); // someone else took it meanwhile: pick again
                    }
                    index.insert(key, eip.id.as_bytes())?;
                    eips.insert(eip.id.as_bytes(), encode(&eip))?;
                    note.write(audit, None, snapshot(&eip))?;
                    Ok(true)
                },
            );
            if finish::<bool>(claimed)? {
                self.audited();
                self.flush().await?;
                self.publish(StoreChange::Eips);
                return Ok(eip);
            }
        }
    }

    /// Returns an unbound EIP to the pool.
    pub async fn release_eip(&self, id: &EipId) -> Result<Eip, ApiError> {
        let note = self.note("eip.release", id)?;
        let trees = (&self.inner.eips, &self.inner.eip_index, &self.inner.audit);
        let result = trees.transaction(|(eips, index, audit)| {
            let eip: Eip = load(eips, "EIP", id)?;
            if let Some(h) = &eip.havip_id {
                return Err(Abort::Abort(
                    ApiError::conflict(
                        Text::new(m::errors_store::EIP_BOUND)
                            .arg("eip", eip.ip)
                            .arg("havip", h),
                    )
                    .because(Reason::EipBound),
                ));
            }
            eips.remove(id.as_bytes())?;
            index.remove(u32::from(eip.ip).to_be_bytes())?;
            note.write(audit, snapshot(&eip), None)?;
            Ok(eip)
        });
        let eip = self.commit(result, StoreChange::Eips).await?;
        Ok(eip)
    }

    /// Binds an EIP to an HAVIP: one EIP per HAVIP, one HAVIP per EIP.
    pub async fn bind_eip(&self, eip_id: &EipId, havip_id: &HavipId) -> Result<Havip, ApiError> {
        let note = self.note("eip.bind", eip_id)?;
        let trees = (&self.inner.eips, &self.inner.havips, &self.inner.audit);
        let result = trees.transaction(|(eips, havips, audit)| {
            let mut eip: Eip = load(eips, "EIP", eip_id)?;
            let mut havip: Havip = load(havips, "HAVIP", havip_id)?;
            if let Some(other) = &eip.havip_id {
                return Err(Abort::Abort(
                    ApiError::conflict(
                        Text::new(m::errors_store::EIP_ALREADY_BOUND)
                            .arg("eip", eip.ip)
                            .arg("havip", other),
                    )
                    .because(Reason::EipAlreadyBound),
                ));
            }
            if let Some(ip) = havip.eip {
                return Err(Abort::Abort(
                    ApiError::conflict(
                        Text::new(m::errors_store::HAVIP_HAS_EIP)
                            .arg("havip", &havip.id)
                            .arg("eip", ip),
                    )
                    .because(Reason::EipAlreadyBound),
                ));
            }
            let before = snapshot(&eip);
            eip.havip_id = Some(havip.id.clone());
            havip.eip = Some(eip.ip);
            eips.insert(eip.id.as_bytes(), encode(&eip))?;
            havips.insert(havip.id.as_bytes(), encode(&havip))?;
            note.write(audit, before, snapshot(&eip))?;
            Ok(havip)
        });
        let havip = finish(result)?;
        self.audited();
        self.reindex(&havip.id)?;
        self.flush().await?;
        self.publish_havip(&havip, false);
        self.publish(StoreChange::Eips);
        Ok(havip)
    }

    pub async fn unbind_eip(&self, eip_id: &EipId) -> Result<Eip, ApiError> {
        let note = self.note("eip.unbind", eip_id)?;
        let trees = (&self.inner.eips, &self.inner.havips, &self.inner.audit);
        let result = trees.transaction(|(eips, havips, audit)| {
            let mut eip: Eip = load(eips, "EIP", eip_id)?;
            let before = snapshot(&eip);
            let Some(havip_id) = eip.havip_id.take() else {
                return Err(Abort::Abort(
                    ApiError::conflict(
                        Text::new(m::errors_store::EIP_NOT_BOUND).arg("eip", eip.ip),
                    )
                    .because(Reason::EipNotBound),
                ));
            };
            if let Some(bytes) = havips.get(havip_id.as_bytes())? {
                let mut havip: Havip = decode(&bytes).map_err(Abort::Abort)?;
                havip.eip = None;
                havips.insert(havip.id.as_bytes(), encode(&havip))?;
            }
            eips.insert(eip.id.as_bytes(), encode(&eip))?;
            note.write(audit, before, snapshot(&eip))?;
            Ok((eip, havip_id))
        });
        let (eip, havip_id) = finish(result)?;
        self.audited();
        self.reindex(&havip_id)?;
        self.flush().await?;
        if let Ok(h) = self.havip(&havip_id) {
            self.publish_havip(&h, false);
        }
        self.publish(StoreChange::Eips);
        Ok(eip)
    }
}
