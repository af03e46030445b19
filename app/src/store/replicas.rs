//! The console's other replicas (etcd only): what they commit reaches this one through the
//! backend's watch (`kv::Remote`), and is taken in here as this replica takes in its own
//! changes: the HAVIP list's index, the free addresses and the audit log's length follow the
//! records, each change is published to this replica's browsers and agents, and each alert
//! event raised goes to this replica's dispatcher (which runs while it leads).
//!
//! This runs on the watch's thread, which a commit waits for: it takes no lock a change holds
//! while it commits (the bindings' `fresh`, for one).
//!
//! A replica publishes its own changes where it makes them; the backend hears only the others'
//! (see `kv/etcd.rs`), so each change is published once on each replica. Read-your-writes across
//! replicas: `catch_up` waits until this replica has taken in everything committed before it.

use super::kv::{Remote, RemoteChange};
use super::{db_err, decode, ip_of_key, lock, Inner, Store, StoreChange};
use crate::domain::error::ApiError;
use crate::domain::ids::{RegionId, SubnetId};
use crate::domain::model::{Havip, Instance, Region, Subnet, Vpc};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

impl Store {
    /// Starts taking in what other replicas commit (a no-op on sled).
    pub(super) fn follow_other_replicas(&self) {
        let inner: Weak<Inner> = Arc::downgrade(&self.inner);
        let actor = self.actor.clone();
        self.inner.kv.on_remote(Box::new(move |remote| {
            let Some(inner) = inner.upgrade() else { return };
            let store = Store {
                inner,
                actor: actor.clone(),
            };
            if let Err(e) = store.take_in(remote) {
                tracing::error!("taking in another replica's change: {e}");
            }
        }));
    }

    /// Waits until this replica has taken in every change committed before the call, by any
    /// replica: a page it serves then shows a create another replica has answered.
    pub fn catch_up(&self) -> Result<(), ApiError> {
        self.inner.kv.catch_up().map_err(db_err)
    }

    fn take_in(&self, remote: Remote) -> Result<(), ApiError> {
        let changes = match remote {
            Remote::Changed(changes) => changes,
            Remote::Reset => return self.start_over(),
        };
        let mut published: Vec<StoreChange> = Vec::new();
        for change in &changes {
            if let Some(news) = self.take_in_one(change)? {
                if !published.contains(&news) {
                    published.push(news);
                }
            }
        }
        for news in published {
            self.publish(news);
        }
        Ok(())
    }

    /// Brings this replica's memory in line with one changed record; what to publish.
    fn take_in_one(&self, change: &RemoteChange) -> Result<Option<StoreChange>, ApiError> {
        let (before, after) = (change.before.as_deref(), change.after.as_deref());
        let region = || match after.or(before) {
            Some(bytes) => self.region_of_record(&change.table, bytes),
            None => Ok(None),
        };
        Ok(match change.table.as_str() {
            "havips" => self.take_in_havip(before, after)?,
            "ip_index" => {
                self.take_in_address(&change.key, after.is_some());
                None
            }
            "subnets" => {
                self.take_in_subnet(before, after)?;
                region()?.map(|region_id| StoreChange::Network { region_id })
            }
            "regions" | "vpcs" => region()?.map(|region_id| StoreChange::Network { region_id }),
            // a station is news only when it is new (its sightings are not)
            "enis" | "stations" if change.table == "enis" || before.is_none() => {
                region()?.map(|region_id| StoreChange::Instances { region_id })
            }
            "agents" | "presence" => Some(StoreChange::Agents),
            "eips" => Some(StoreChange::Eips),
            "users" | "sessions" => Some(StoreChange::Users),
            "alert_rules" | "alert_deliveries" => Some(StoreChange::Alerts),
            // an event another replica raised: for this one's dispatcher, if it leads
            "alert_outbox" => {
                if let (None, Some(raised)) = (before, after) {
                    let _ = self.inner.alerts.send(decode(raised)?);
                }
                None
            }
            "audit" => {
                self.take_in_audit_record(before.is_none(), after.is_none());
                None
            }
            _ => None,
        })
    }

    fn take_in_havip(
        &self,
        before: Option<&[u8]>,
        after: Option<&[u8]>,
    ) -> Result<Option<StoreChange>, ApiError> {
        let before: Option<Havip> = before.map(decode).transpose()?;
        let after: Option<Havip> = after.map(decode).transpose()?;
        let Some(id) = after.as_ref().or(before.as_ref()).map(|h| h.id.clone()) else {
            return Ok(None);
        };
        self.reindex(&id)?;
        Ok(match (before, after) {
            (None, Some(created)) => Some(StoreChange::HavipCreated {
                region_id: created.region_id,
                havip_id: created.id,
                subnet_id: created.subnet_id,
            }),
            // (a binding this replica heard fresher is ignored once the stored one differs, see
            // `latest_binding`; its lock is not taken here, as a change holds it while it
            // commits, which waits for this very thread)
            (Some(old), Some(new)) => Some(StoreChange::Havip {
                region_id: new.region_id,
                havip_id: new.id,
                renamed: old.name != new.name,
            }),
            (Some(deleted), None) => Some(StoreChange::HavipDeleted {
                region_id: deleted.region_id.clone(),
                havip_id: deleted.id.clone(),
                subnet_id: deleted.subnet_id.clone(),
                havip: Box::new(deleted),
            }),
            (None, None) => None,
        })
    }

    /// An address (`subnet_id ‖ ip`) taken or given back on another replica.
    fn take_in_address(&self, key: &[u8], taken: bool) {
        let Some(split) = key.len().checked_sub(4) else {
            return;
        };
        let Ok(subnet_id) = String::from_utf8_lossy(&key[..split]).parse::<SubnetId>() else {
            return;
        };
        let ip = ip_of_key(key);
        if let Some(ranges) = lock(&self.inner.free).get_mut(&subnet_id) {
            if taken {
                ranges.claim(ip);
            } else {
                ranges.release(ip);
            }
        }
    }

    fn take_in_subnet(&self, before: Option<&[u8]>, after: Option<&[u8]>) -> Result<(), ApiError> {
        match (before, after) {
            (None, Some(added)) => {
                let subnet: Subnet = decode(added)?;
                let ranges = self.free_ranges_of(&subnet)?;
                lock(&self.inner.free).insert(subnet.id, ranges);
            }
            (Some(removed), None) => {
                let subnet: Subnet = decode(removed)?;
                lock(&self.inner.free).remove(&subnet.id);
            }
            _ => {}
        }
        Ok(())
    }

    fn take_in_audit_record(&self, added: bool, removed: bool) {
        let len = &self.inner.audit_len;
        if added {
            len.fetch_add(1, Ordering::SeqCst);
        } else if removed {
            // never below zero: a trim this replica already counted
            let _ = len.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        }
    }

    /// The region a network or instance record is in (a subnet's through its VPC, which may be
    /// gone already).
    fn region_of_record(&self, table: &str, bytes: &[u8]) -> Result<Option<RegionId>, ApiError> {
        Ok(match table {
            "regions" => Some(decode::<Region>(bytes)?.id),
            "vpcs" => Some(decode::<Vpc>(bytes)?.region_id),
            "subnets" => {
                let subnet: Subnet = decode(bytes)?;
                self.vpc(&subnet.vpc_id).ok().map(|vpc| vpc.region_id)
            }
            "enis" => Some(decode::<Instance>(bytes)?.region_id),
            "stations" => {
                let station: crate::domain::model::Station = decode(bytes)?;
                let subnet = self.subnet(&station.subnet_id).ok();
                subnet.and_then(|s| self.vpc(&s.vpc_id).ok().map(|vpc| vpc.region_id))
            }
            _ => None,
        })
    }

    /// The watch started over: everything in memory is built again from the records, and
    /// every page and agent loads again.
    fn start_over(&self) -> Result<(), ApiError> {
        self.build_list_index()?;
        self.rebuild_free_ranges()?;
        let len = self.inner.audit.len() as u64;
        self.inner.audit_len.store(len, Ordering::SeqCst);
        self.publish(StoreChange::Resync);
        Ok(())
    }
}
