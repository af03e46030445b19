//! Fences: a counter for a group of records that a rule reads as a whole (a VPC's subnets,
//! the addresses used in a subnet, the regions' names, the enabled administrators). The rule
//! reads the fence, then the group, outside any transaction; the change it allows commits
//! only if the fence has not moved since, and moves it. So two changes decided on one view of
//! the group never both commit, whether they run in one console or in two sharing an etcd
//! prefix: the second decides again on the new view. (A transaction cannot scan a table; a
//! fence stands in for the scan.)

use super::kv::{Abort, TxFailed, TxTable};
use super::{be_u64, db_err, Store};
use crate::domain::error::ApiError;
use crate::domain::ids::{SubnetId, VpcId};

/// The group of a VPC's subnets.
pub(super) fn of_vpc(id: &VpcId) -> String {
    format!("vpc/{id}")
}

/// The group of the addresses used in a subnet (by HAVIPs and instances).
pub(super) fn of_subnet(id: &SubnetId) -> String {
    format!("subnet/{id}")
}

/// Six tables of one transaction (an address claim's).
pub(super) type SixTables<'a> = (
    &'a super::Table,
    &'a super::Table,
    &'a super::Table,
    &'a super::Table,
    &'a super::Table,
    &'a super::Table,
);

/// Inside a transaction that claims an address of `subnet`: the subnet is still there (not
/// deleted meanwhile), and its fence moves on.
pub(super) fn claim_in(
    subnets: &TxTable<'_>,
    fences: &TxTable<'_>,
    subnet: &SubnetId,
) -> Result<(), Abort<ApiError>> {
    if subnets.get(subnet.as_bytes())?.is_none() {
        let gone = ApiError::not_found("Subnet", subnet).on_field("subnet");
        return Err(Abort::Abort(gone));
    }
    Ok(move_on(fences, &of_subnet(subnet))?)
}

/// Inside a transaction that adds to group `name` without deciding on it as a whole (an
/// address claimed): moves its fence, so a rule deciding on the group meanwhile decides again.
pub(super) fn move_on(fences: &TxTable<'_>, name: &str) -> Result<(), TxFailed> {
    let now = fences.get(name)?.map_or(0, |v| be_u64(&v));
    fences.insert(name, (now + 1).to_be_bytes())?;
    Ok(())
}

/// A group's fence as it stood when its rule was checked.
pub(super) struct Fence {
    name: String,
    seen: u64,
}

impl Store {
    /// The fence of `name` now: read it before reading the group its rule checks.
    pub(super) fn fence(&self, name: impl Into<String>) -> Result<Fence, ApiError> {
        let name = name.into();
        let seen = (self.inner.fences.get(&name))
            .map_err(db_err)?
            .map_or(0, |v| be_u64(&v));
        Ok(Fence { name, seen })
    }
}

impl Fence {
    /// Inside the change's transaction: moves the fence on and says true, or says false if
    /// another change moved it since it was read (decide again).
    pub(super) fn pass(&self, fences: &TxTable<'_>) -> Result<bool, TxFailed> {
        let now = fences.get(&self.name)?.map_or(0, |v| be_u64(&v));
        if now != self.seen {
            return Ok(false);
        }
        fences.insert(&self.name, (self.seen + 1).to_be_bytes())?;
        Ok(true)
    }
}
