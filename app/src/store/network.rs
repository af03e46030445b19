//! Regions, VPCs and subnets.

use super::audit::snapshot;
use super::fences::{self, Fence};
use super::kv::{Abort, Transactional};
use super::{encode, lock, new_id, now_ms, FreeRanges, Store, StoreChange};
use crate::domain::cidr::{check_subnet_cidr, check_vpc_cidr};
use crate::domain::error::{ApiError, Reason};
use crate::domain::ids::{RegionId, SubnetId, VpcId};
use crate::domain::ip::{usable_count, usable_range};
use crate::domain::model::{Instance, Region, Subnet, Vpc};
use crate::domain::name::check_name;
use crate::domain::pages::{SubnetView, VpcView};
use crate::i18n::{m, Text};
use ipnet::Ipv4Net;
use std::collections::HashMap;

pub(super) fn full_ranges(cidr: Ipv4Net) -> FreeRanges {
    let (first, last) = usable_range(cidr);
    FreeRanges::new(first, last)
}

impl Store {
    /// The free addresses of every subnet, from the records: the HAVIPs' addresses as the list
    /// index (built just before) holds them, and the instances'. The ip_index tree says the same
    /// (`havip check` compares them) and stays the authority at every claim; it is not read here,
    /// since sled would keep every page of it resident.
    pub(super) fn rebuild_free_ranges(&self) -> Result<(), ApiError> {
        // held throughout, as the list index's build holds its own
        let mut rebuilt = lock(&self.inner.free);
        let mut free: HashMap<SubnetId, FreeRanges> = self
            .all::<Subnet>(&self.inner.subnets)?
            .into_iter()
            .map(|s| (s.id, full_ranges(s.cidr)))
            .collect();
        let mut claim = |subnet: &SubnetId, ip| {
            if let Some(ranges) = free.get_mut(subnet) {
                ranges.claim(ip);
            }
        };
        for listed in lock(&self.inner.list).values().flat_map(|r| r.listed()) {
            claim(&SubnetId::from_tail(listed.subnet_tail()), listed.ip);
        }
        for instance in self.all::<Instance>(&self.inner.enis)? {
            claim(&instance.subnet_id, instance.ip);
        }
        *rebuilt = free;
        Ok(())
    }

    /// A subnet's free addresses, from the address index.
    pub(super) fn free_ranges_of(&self, subnet: &Subnet) -> Result<FreeRanges, ApiError> {
        let mut ranges = full_ranges(subnet.cidr);
        for key in self.inner.ip_index.scan_prefix(subnet.id.as_bytes()).keys() {
            ranges.claim(super::ip_of_key(&key.map_err(super::db_err)?));
        }
        Ok(ranges)
    }

    /// The first start: one region with one VPC and two subnets, so the console is usable at
    /// once. One transaction, with the schema version: of several replicas starting at once on
    /// an empty etcd prefix, one seeds, and the others find its records.
    pub(super) fn seed(&self) -> Result<(), ApiError> {
        let region = Region {
            id: new_id(),
            name: "Default".into(),
        };
        let vpc = Vpc {
            id: new_id(),
            region_id: region.id.clone(),
            name: "Default-VPC".into(),
            cidr: "172.16.0.0/16".parse().expect("literal"),
            created: now_ms(),
        };
        let subnets = [
            ("Default-Subnet-16", "172.16.16.0/24"),
            ("Default-Subnet-17", "172.16.17.0/24"),
        ]
        .map(|(name, cidr)| Subnet {
            id: new_id(),
            vpc_id: vpc.id.clone(),
            name: name.into(),
            cidr: cidr.parse().expect("literal"),
            created: now_ms(),
        });
        let notes = [
            self.note("region.create", &region.id)?,
            self.note("vpc.create", &vpc.id)?,
            self.note("subnet.create", &subnets[0].id)?,
            self.note("subnet.create", &subnets[1].id)?,
        ];
        let inner = &self.inner;
        let tables = (
            &inner.meta,
            &inner.regions,
            &inner.vpcs,
            &inner.subnets,
            &inner.audit,
        );
        let result = tables.transaction(|(meta, regions, vpcs, subnet_table, audit)| {
            if meta.get("schema_version")?.is_some() {
                return Ok(false);
            }
            meta.insert("schema_version", super::SCHEMA_VERSION.to_be_bytes())?;
            regions.insert(region.id.as_bytes(), encode(&region))?;
            notes[0].write(audit, None, snapshot(&region))?;
            vpcs.insert(vpc.id.as_bytes(), encode(&vpc))?;
            notes[1].write(audit, None, snapshot(&vpc))?;
            for (subnet, note) in subnets.iter().zip(&notes[2..]) {
                subnet_table.insert(subnet.id.as_bytes(), encode(subnet))?;
                note.write(audit, None, snapshot(subnet))?;
            }
            Ok::<_, Abort<ApiError>>(true)
        });
        if super::finish(result)? {
            notes.iter().for_each(|_| self.audited());
        }
        Ok(())
    }

    /// Writes a new record, with its audit record (`action`) in the same transaction.
    fn put<T: serde::Serialize>(
        &self,
        tree: &super::Table,
        action: &str,
        id: &str,
        value: &T,
    ) -> Result<(), ApiError> {
        self.put_fenced(None, tree, action, id, value).map(drop)
    }

    /// `put`, if `fence` has not moved since the rule that allowed it read its group; false
    /// (nothing written) if it has.
    fn put_fenced<T: serde::Serialize>(
        &self,
        fence: Option<&Fence>,
        tree: &super::Table,
        action: &str,
        id: &str,
        value: &T,
    ) -> Result<bool, ApiError> {
        let note = self.note(action, id)?;
        let tables = (tree, &self.inner.fences, &self.inner.audit);
        let result = tables.transaction(|(tree, fences, audit)| {
            if let Some(fence) = fence {
                if !fence.pass(fences)? {
                    return Ok(false);
                }
            }
            tree.insert(id, encode(value))?;
            note.write(audit, None, snapshot(value))?;
            Ok::<_, Abort<ApiError>>(true)
        });
        let written = super::finish(result)?;
        if written {
            self.audited();
        }
        Ok(written)
    }

    pub fn regions(&self) -> Result<Vec<Region>, ApiError> {
        let mut regions: Vec<Region> = self.all(&self.inner.regions)?;
        regions.sort_by(|a, b| (a.name != "Default", &a.name).cmp(&(b.name != "Default", &b.name)));
        Ok(regions)
    }

    pub fn region(&self, id: &RegionId) -> Result<Region, ApiError> {
        self.get(&self.inner.regions, id)?
            .ok_or_else(|| ApiError::not_found("Region", id))
    }

    pub fn vpc(&self, id: &VpcId) -> Result<Vpc, ApiError> {
        self.get(&self.inner.vpcs, id)?
            .ok_or_else(|| ApiError::not_found("VPC", id))
    }

    pub fn subnet(&self, id: &SubnetId) -> Result<Subnet, ApiError> {
        self.get(&self.inner.subnets, id)?
            .ok_or_else(|| ApiError::not_found("Subnet", id))
    }

    pub fn subnets_of(&self, vpc_id: &VpcId) -> Result<Vec<Subnet>, ApiError> {
        let mut subnets: Vec<Subnet> = self.all::<Subnet>(&self.inner.subnets)?;
        subnets.retain(|s| s.vpc_id == *vpc_id);
        subnets.sort_by_key(|s| s.cidr);
        Ok(subnets)
    }

    pub fn free_count(&self, subnet_id: &SubnetId) -> u32 {
        lock(&self.inner.free)
            .get(subnet_id)
            .map_or(0, FreeRanges::free_count)
    }

    pub async fn create_region(&self, name: &str) -> Result<Region, ApiError> {
        let name = check_name(name).map_err(|e| e.refusal("name"))?;
        let region = loop {
            // region names are unique: checked against every region, fenced
            let fence = self.fence("regions")?;
            if self
                .regions()?
                .iter()
                .any(|r| r.name.eq_ignore_ascii_case(&name))
            {
                return Err(ApiError::invalid(
                    "name",
                    Text::new(m::errors_store::REGION_NAME_TAKEN).arg("name", &name),
                ));
            }
            let region = Region {
                id: new_id(),
                name: name.clone(),
            };
            let table = &self.inner.regions;
            if self.put_fenced(Some(&fence), table, "region.create", &region.id, &region)? {
                break region;
            }
        };
        self.flush().await?;
        self.publish(StoreChange::Network {
            region_id: region.id.clone(),
        });
        Ok(region)
    }

    pub async fn create_vpc(
        &self,
        region_id: &RegionId,
        name: &str,
        cidr: &str,
    ) -> Result<Vpc, ApiError> {
        let name = check_name(name).map_err(|e| e.refusal("name"))?;
        let cidr = check_vpc_cidr(cidr).map_err(|e| ApiError::invalid("cidr", e))?;
        let region = self.region(region_id)?;
        let vpc = Vpc {
            id: new_id(),
            region_id: region.id,
            name,
            cidr,
            created: now_ms(),
        };
        self.put(&self.inner.vpcs, "vpc.create", &vpc.id, &vpc)?;
        self.flush().await?;
        self.publish(StoreChange::Network {
            region_id: vpc.region_id.clone(),
        });
        Ok(vpc)
    }

    pub async fn create_subnet(
        &self,
        vpc_id: &VpcId,
        name: &str,
        cidr: &str,
    ) -> Result<Subnet, ApiError> {
        let name = check_name(name).map_err(|e| e.refusal("name"))?;
        let vpc = self.vpc(vpc_id)?;
        let subnet = loop {
            // subnets of a VPC never overlap: checked against its subnets, fenced
            let fence = self.fence(fences::of_vpc(vpc_id))?;
            let siblings: Vec<Ipv4Net> = self
                .subnets_of(vpc_id)?
                .into_iter()
                .map(|s| s.cidr)
                .collect();
            let cidr = check_subnet_cidr(cidr, vpc.cidr, &siblings)
                .map_err(|e| ApiError::invalid("cidr", e))?;
            let subnet = Subnet {
                id: new_id(),
                vpc_id: vpc.id.clone(),
                name: name.clone(),
                cidr,
                created: now_ms(),
            };
            let table = &self.inner.subnets;
            if self.put_fenced(Some(&fence), table, "subnet.create", &subnet.id, &subnet)? {
                // (not held while committing: on etcd, the commit waits for the thread that
                // takes in other replicas' changes, which takes this lock)
                lock(&self.inner.free).insert(subnet.id.clone(), full_ranges(cidr));
                break subnet;
            }
        };
        self.flush().await?;
        self.publish(StoreChange::Network {
            region_id: vpc.region_id,
        });
        Ok(subnet)
    }

    /// Deletes a subnet nothing uses: no HAVIP or instance has an address in it, no agent
    /// reports for it.
    pub async fn delete_subnet(&self, id: &SubnetId) -> Result<Subnet, ApiError> {
        let subnet = self.subnet(id)?;
        let vpc = self.vpc(&subnet.vpc_id)?;
        let in_use = |text: Text| ApiError::conflict(text.arg("id", id)).because(Reason::InUse);
        if let Some(agent) = self
            .agents()?
            .into_iter()
            .find(|a| !a.revoked && a.subnet_ids.contains(id))
        {
            return Err(in_use(
                Text::new(m::errors_store::SUBNET_WATCHED).arg("agent", &agent.name),
            ));
        }
        let note = self.note("subnet.delete", id)?;
        loop {
            // unused: no address of it in the index, fenced (claims move the fence)
            let fence = self.fence(fences::of_subnet(id))?;
            {
                // the address map goes first, so no create here can reserve an address of it
                let mut free = lock(&self.inner.free);
                if self
                    .inner
                    .ip_index
                    .scan_prefix(id.as_bytes())
                    .next()
                    .is_some()
                {
                    return Err(in_use(Text::new(m::errors_store::SUBNET_IN_USE)));
                }
                free.remove(id);
            }
            let tables = (&self.inner.subnets, &self.inner.fences, &self.inner.audit);
            let result = tables.transaction(|(subnets, fences, audit)| {
                if !fence.pass(fences)? {
                    return Ok(false);
                }
                subnets.remove(id.as_bytes())?;
                note.write(audit, super::audit::snapshot(&subnet), None)?;
                Ok::<_, Abort<ApiError>>(true)
            });
            if super::finish(result)? {
                break;
            }
            // an address was claimed meanwhile: the subnet's map comes back, the check again
            lock(&self.inner.free).insert(id.clone(), self.free_ranges_of(&subnet)?);
        }
        self.audited();
        self.flush().await?;
        self.publish(StoreChange::Network {
            region_id: vpc.region_id,
        });
        Ok(subnet)
    }

    /// Deletes a VPC without subnets.
    pub async fn delete_vpc(&self, id: &VpcId) -> Result<Vpc, ApiError> {
        let vpc = self.vpc(id)?;
        let note = self.note("vpc.delete", id)?;
        loop {
            // empty: no subnet, fenced (a subnet made meanwhile moves the fence)
            let fence = self.fence(fences::of_vpc(id))?;
            if !self.subnets_of(id)?.is_empty() {
                return Err(ApiError::conflict(
                    Text::new(m::errors_store::VPC_HAS_SUBNETS).arg("id", id),
                )
                .because(Reason::InUse));
            }
            let inner = &self.inner;
            let tables = (
                &inner.vpcs,
                &inner.havip_counts,
                &inner.fences,
                &inner.audit,
            );
            let result = tables.transaction(|(vpcs, counts, fences, audit)| {
                if !fence.pass(fences)? {
                    return Ok(false);
                }
                vpcs.remove(id.as_bytes())?;
                counts.remove(id.as_bytes())?;
                note.write(audit, super::audit::snapshot(&vpc), None)?;
                Ok::<_, Abort<ApiError>>(true)
            });
            if super::finish(result)? {
                break;
            }
        }
        self.audited();
        self.flush().await?;
        self.publish(StoreChange::Network {
            region_id: vpc.region_id.clone(),
        });
        Ok(vpc)
    }

    /// VPCs of a region with their subnets, free address counts and HAVIP usage.
    pub fn network_view(&self, region_id: &RegionId) -> Result<Vec<VpcView>, ApiError> {
        let mut vpcs: Vec<Vpc> = self.all::<Vpc>(&self.inner.vpcs)?;
        vpcs.retain(|v| v.region_id == *region_id);
        vpcs.sort_by_key(|v| v.created);
        vpcs.into_iter()
            .map(|vpc| {
                let subnets = self
                    .subnets_of(&vpc.id)?
                    .into_iter()
                    .map(|subnet| SubnetView {
                        free: self.free_count(&subnet.id),
                        usable: usable_count(subnet.cidr),
                        subnet,
                    })
                    .collect();
                Ok(VpcView {
                    havips: self.havip_count(&vpc.id)?,
                    quota: self.inner.config.havip_quota_per_vpc,
                    subnets,
                    vpc,
                })
            })
            .collect()
    }
}
