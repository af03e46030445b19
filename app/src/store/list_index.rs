//! The HAVIP list's index, in memory: per region, what searching, filtering, sorting and
//! counting need of each HAVIP (`Listed`), so a page decodes only its own records, however
//! many the region holds.
//!
//! Built from the havips tree when the store opens. Every change that writes an HAVIP record
//! calls `reindex` after its transaction: it reads the record again under the index's lock, so
//! whichever of two racing changes reindexes last reads what the later one committed, and the
//! index ends as the tree is. The tree stays the authority.

use super::{lock, Store};
use crate::domain::error::ApiError;
use crate::domain::ids::{HavipId, IdTail, RegionId};
use crate::domain::listing::{order, select, window, Counters, ListQuery, Listed, Selection};
use crate::domain::model::Havip;
use crate::domain::pages::HavipRow;
use std::collections::HashMap;

/// region -> its HAVIPs
pub(super) type ListIndex = HashMap<RegionId, RegionList>;

/// A region's HAVIPs by their IDs' tails, and how many there are in each status (kept as
/// they change: the live channel sends the counters with every change, at any size).
#[derive(Default)]
pub(super) struct RegionList {
    entries: HashMap<IdTail, Listed>,
    counters: Counters,
}

impl RegionList {
    fn insert(&mut self, listed: Listed) {
        self.counters.add(listed.status);
        if let Some(old) = self.entries.insert(listed.key(), listed) {
            self.counters.remove(old.status);
        }
    }

    pub(super) fn listed(&self) -> impl Iterator<Item = &Listed> {
        self.entries.values()
    }

    fn remove(&mut self, key: &IdTail) {
        if let Some(old) = self.entries.remove(key) {
            self.counters.remove(old.status);
        }
    }
}

/// One page of the list, ready to show.
pub struct ListPage {
    /// the page's records, and their rows in the same order
    pub havips: Vec<Havip>,
    pub rows: Vec<HavipRow>,
    pub matching: usize,
    pub page: u32,
    pub counters: Counters,
}

impl Store {
    pub(super) fn build_list_index(&self) -> Result<(), ApiError> {
        // held throughout: a reindex meanwhile (another replica's change) waits, then reads
        // what is newer than what this read
        let mut built = lock(&self.inner.list);
        let mut index = ListIndex::new();
        for value in self.inner.havips.iter().values() {
            let havip: Havip = super::decode(&value.map_err(super::db_err)?)?;
            index
                .entry(havip.region_id.clone())
                .or_default()
                .insert(Listed::new(&havip));
        }
        *built = index;
        Ok(())
    }

    /// Brings the index in line with the HAVIP's record (or its absence) now.
    pub(super) fn reindex(&self, id: &HavipId) -> Result<(), ApiError> {
        let mut index = lock(&self.inner.list);
        match self.get::<Havip>(&self.inner.havips, id)? {
            Some(havip) => {
                index
                    .entry(havip.region_id.clone())
                    .or_default()
                    .insert(Listed::new(&havip));
            }
            None => index
                .values_mut()
                .for_each(|region| region.remove(&id.tail())),
        }
        Ok(())
    }

    /// The page `query` asks for of a region's HAVIPs: chosen in the index, then only its
    /// rows decoded.
    pub fn havip_page(
        &self,
        region_id: &RegionId,
        query: &ListQuery,
    ) -> Result<ListPage, ApiError> {
        let Selection {
            ids,
            matching,
            page,
            counters,
        } = {
            let index = lock(&self.inner.list);
            select(
                index.get(region_id).into_iter().flat_map(|r| r.listed()),
                query,
            )
        };
        let mut havips = vec![];
        for id in &ids {
            // one deleted since it was chosen is left out
            havips.extend(self.havip_if_any(id)?);
        }
        Ok(ListPage {
            rows: self.rows(&havips)?,
            havips,
            matching,
            page,
            counters,
        })
    }

    /// Every HAVIP of the region, counted by status.
    pub fn region_counters(&self, region_id: &RegionId) -> Counters {
        let index = lock(&self.inner.list);
        index.get(region_id).map(|r| r.counters).unwrap_or_default()
    }

    /// The ids at `offset..offset + limit` of a region's HAVIPs, newest first, and how many
    /// the region has, from the index.
    pub fn havip_ids_newest_first(
        &self,
        region_id: &RegionId,
        offset: usize,
        limit: usize,
    ) -> (Vec<HavipId>, usize) {
        let index = lock(&self.inner.list);
        let all: Vec<&Listed> = index
            .get(region_id)
            .map(|r| r.listed().collect())
            .unwrap_or_default();
        let total = all.len();
        let shown = window(all, order("created"), offset, limit);
        (shown.into_iter().map(Listed::id).collect(), total)
    }
}
