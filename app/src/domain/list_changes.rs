//! A change of one HAVIP, applied in place to the page of the list a browser shows (the live
//! channel carries it, see `api::live`): the row is replaced, placed or taken out, and the
//! counters and the pager follow, without asking the server for the page again.
//!
//! The page knows only its own rows, so a change it cannot place exactly asks for the page
//! again (`Applied::Reload`): when rows move between pages (a row enters or leaves before this
//! page, or leaves it while later pages have rows to move up), or when the query searches or
//! filters by more than the status and a row outside the page may have entered or left it
//! (then the region's counters do not say how many match).

use super::ids::HavipId;
use super::listing::{order, Counters, ListQuery, Listed, PAGE_SIZE};
use super::pages::{HavipListData, HavipRow};
use super::timeline::Timeline;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// What became of one HAVIP, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowChange {
    /// Created, or changed: its row now, its last 24 hours, and its region's counters.
    Row {
        row: Box<HavipRow>,
        spark: Timeline,
        counters: Counters,
        edit: Edit,
    },
    /// Deleted: its last row (where it stood), and its region's counters.
    Removed {
        row: Box<HavipRow>,
        counters: Counters,
    },
}

/// What kind of change a `RowChange::Row` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Edit {
    Created,
    /// its name changed (what the list searches and sorts by)
    Renamed,
    /// its binding, EIP or allowed holders: only its status can move it in or out of a query
    Other,
}

/// Whether the page took the change, or must be loaded again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    Reload,
}

impl RowChange {
    pub fn id(&self) -> &HavipId {
        match self {
            RowChange::Row { row, .. } | RowChange::Removed { row, .. } => &row.id,
        }
    }
}

/// Applies `change` to `data`, the page `query` asks for (see the module for when it cannot).
pub fn apply(data: &mut HavipListData, query: &ListQuery, change: &RowChange) -> Applied {
    let page = Page::new(data, query);
    let (matching, clamped) = (data.matching, data.page != query.page);
    let counters = match change {
        RowChange::Row { counters, .. } | RowChange::Removed { counters, .. } => *counters,
    };
    let applied = match change {
        RowChange::Row {
            row, spark, edit, ..
        } => page.put(data, row, spark, *edit, &counters),
        RowChange::Removed { row, .. } => page.remove(data, row, &counters),
    };
    // a page asked for past the end shows the last one (`select`): which one that is changes
    // with the count; and a later page left empty shows an earlier one
    let moved = (clamped && data.matching != matching) || (data.rows.is_empty() && data.page > 0);
    if applied == Applied::Done && moved {
        return Applied::Reload;
    }
    if applied == Applied::Done {
        data.counters = counters;
    }
    applied
}

/// Where the page stands in the query's result.
struct Page<'q> {
    query: &'q ListQuery,
    order: fn(&&Listed, &&Listed) -> Ordering,
    /// rows match the query on pages before this one
    before: bool,
    /// rows match the query on pages after this one
    after: bool,
}

impl<'q> Page<'q> {
    fn new(data: &HavipListData, query: &'q ListQuery) -> Page<'q> {
        let start = data.page as usize * PAGE_SIZE;
        Page {
            query,
            order: order(&query.sort),
            before: data.page > 0,
            after: data.matching as usize > start + data.rows.len(),
        }
    }

    /// How many match now, from the region's counters: known unless the query narrows by more
    /// than the status. (Counted, not added to: right even if the page already had the change.)
    fn counted(&self, counters: &Counters) -> Option<u32> {
        if self.query.narrows() {
            return None;
        }
        counters.of_status(&self.query.status)
    }

    /// Where `row` goes among the page's rows: `None` when it belongs to another page.
    fn place(&self, data: &HavipListData, row: &HavipRow) -> Option<usize> {
        let new = Listed::of_row(row);
        let at = data
            .rows
            .partition_point(|r| (self.order)(&&Listed::of_row(r), &&new) == Ordering::Less);
        let belongs_before = at == 0 && self.before;
        let belongs_after = at == data.rows.len() && self.after;
        (!belongs_before && !belongs_after).then_some(at)
    }

    fn put(
        &self,
        data: &mut HavipListData,
        row: &HavipRow,
        spark: &Timeline,
        edit: Edit,
        counters: &Counters,
    ) -> Applied {
        let listed = Listed::of_row(row);
        let keeps = self.query.keeps(&listed);
        let shown = data.rows.iter().position(|r| r.id == row.id);
        if let Some(i) = shown {
            let same_place =
                (self.order)(&&Listed::of_row(&data.rows[i]), &&listed) == Ordering::Equal;
            if keeps && same_place {
                data.rows[i] = row.clone();
                set_spark(data, i, spark.clone());
                return Applied::Done;
            }
            // it moves or leaves: the page keeps its place only if no later row moves up
            if self.after {
                return Applied::Reload;
            }
            take_out(data, i);
            if !keeps {
                let fewer = data.matching.saturating_sub(1);
                data.matching = self.counted(counters).unwrap_or(fewer);
                return Applied::Done;
            }
            return match self.place(data, row) {
                Some(at) => {
                    put_in(data, at, row, spark);
                    Applied::Done
                }
                None => Applied::Reload,
            };
        }
        // not on this page: did it enter the query, leave it, or neither?
        let counted = self.counted(counters);
        let entered = match edit {
            Edit::Created => keeps,
            // its name decides whether the search keeps it, and its place when sorted by name
            Edit::Renamed if self.query.narrows() || self.query.sort == "name" => {
                return Applied::Reload
            }
            // nothing it is searched, filtered or sorted by changed, but maybe its status
            Edit::Renamed => false,
            Edit::Other if self.query.status.is_empty() => false,
            Edit::Other => match counted {
                Some(m) if m > data.matching && keeps => true,
                Some(m) if m < data.matching && !keeps && self.after_place(data, row) => {
                    data.matching = m;
                    false
                }
                Some(m) if m == data.matching => false,
                _ => return Applied::Reload,
            },
        };
        if !entered {
            return Applied::Done;
        }
        match self.place(data, row) {
            Some(at) => {
                put_in(data, at, row, spark);
                data.matching = counted.unwrap_or(data.matching + 1);
                if data.rows.len() > PAGE_SIZE {
                    take_out(data, PAGE_SIZE);
                }
                Applied::Done
            }
            // after this page: only the count changes
            None if self.after_place(data, row) => {
                data.matching = counted.unwrap_or(data.matching + 1);
                Applied::Done
            }
            None => Applied::Reload,
        }
    }

    /// Whether `row` sorts after the page's last row (so it does not move this page's rows).
    fn after_place(&self, data: &HavipListData, row: &HavipRow) -> bool {
        let new = Listed::of_row(row);
        data.rows
            .last()
            .is_some_and(|last| (self.order)(&&Listed::of_row(last), &&new) == Ordering::Less)
    }

    fn remove(&self, data: &mut HavipListData, row: &HavipRow, counters: &Counters) -> Applied {
        if let Some(i) = data.rows.iter().position(|r| r.id == row.id) {
            if self.after {
                return Applied::Reload;
            }
            take_out(data, i);
            let fewer = data.matching.saturating_sub(1);
            data.matching = self.counted(counters).unwrap_or(fewer);
            return Applied::Done;
        }
        if !self.query.keeps(&Listed::of_row(row)) {
            return Applied::Done;
        }
        // a matching row elsewhere: after this page, only the count changes
        match self.counted(counters) {
            Some(m) if self.after_place(data, row) => {
                data.matching = m;
                Applied::Done
            }
            _ => Applied::Reload,
        }
    }
}

fn set_spark(data: &mut HavipListData, i: usize, spark: Timeline) {
    if let Some(s) = data.sparks.get_mut(i) {
        *s = spark;
    }
}

fn take_out(data: &mut HavipListData, i: usize) {
    data.rows.remove(i);
    if i < data.sparks.len() {
        data.sparks.remove(i);
    }
}

fn put_in(data: &mut HavipListData, at: usize, row: &HavipRow, spark: &Timeline) {
    data.rows.insert(at, row.clone());
    if at <= data.sparks.len() {
        data.sparks.insert(at, spark.clone());
    }
}

#[cfg(test)]
mod tests;
