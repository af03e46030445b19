//! Search, filters, sort and paging of the HAVIP list, and its counters. The URL carries the
//! query (`?q=&vpc=&subnet=&status=&sort=&page=`), so a reload or a shared link shows the same view.

use super::binding::Status;
use super::ids::{HavipId, IdTail, SubnetId, VpcId};
use super::model::Havip;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::net::Ipv4Addr;

pub const PAGE_SIZE: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// matches ID, name or IP (case-insensitive substring)
    pub q: String,
    pub vpc: String,
    pub subnet: String,
    /// "unbound", "bound" or "conflict"; empty for all
    pub status: String,
    /// "name", "ip", "created" (default, newest first)
    pub sort: String,
    /// zero-based
    pub page: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub total: u32,
    pub bound: u32,
    pub unbound: u32,
    pub conflict: u32,
}

impl Counters {
    /// Counts one more HAVIP in `status`.
    pub fn add(&mut self, status: StatusKey) {
        self.total += 1;
        *self.of(status) += 1;
    }

    /// Counts one HAVIP less in `status`.
    pub fn remove(&mut self, status: StatusKey) {
        let count = self.of(status);
        *count = count.saturating_sub(1);
        self.total = self.total.saturating_sub(1);
    }

    fn of(&mut self, status: StatusKey) -> &mut u32 {
        match status {
            StatusKey::Unbound => &mut self.unbound,
            StatusKey::Bound => &mut self.bound,
            StatusKey::Conflict => &mut self.conflict,
        }
    }

    /// How many of the region the status filter `status` ("", "bound"…) keeps.
    pub fn of_status(&self, status: &str) -> Option<u32> {
        match status {
            "" => Some(self.total),
            "bound" => Some(self.bound),
            "unbound" => Some(self.unbound),
            "conflict" => Some(self.conflict),
            _ => None,
        }
    }
}

/// The three states the list filters and counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKey {
    Unbound,
    Bound,
    Conflict,
}

impl StatusKey {
    pub fn of(status: &Status) -> StatusKey {
        match status {
            Status::Unbound => StatusKey::Unbound,
            Status::Bound { .. } => StatusKey::Bound,
            Status::Conflict { .. } => StatusKey::Conflict,
        }
    }

    /// How the URL's `status=` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKey::Unbound => "unbound",
            StatusKey::Bound => "bound",
            StatusKey::Conflict => "conflict",
        }
    }
}

/// What the list searches, filters, sorts and counts by: a few fields of one HAVIP. The store
/// keeps one per HAVIP in memory, so a page of a 50,000-HAVIP region decodes only its own 20
/// records. Compact (56 bytes and the search text): IDs are kept as their 8-byte tails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    id: IdTail,
    vpc: IdTail,
    subnet: IdTail,
    pub ip: Ipv4Addr,
    pub created: u64,
    pub status: StatusKey,
    /// where the name ends in `haystack`
    name_end: u16,
    /// lowercase "name\nid\nip", what the search looks in; names hold no line breaks
    /// (`check_name` refuses control characters)
    haystack: Box<str>,
}

impl Listed {
    pub fn new(h: &Havip) -> Listed {
        let (haystack, name_end) = haystack(&h.name, &h.id, h.ip);
        Listed {
            id: h.id.tail(),
            vpc: h.vpc_id.tail(),
            subnet: h.subnet_id.tail(),
            ip: h.ip,
            created: h.created,
            status: StatusKey::of(&h.binding.status()),
            name_end,
            haystack,
        }
    }

    /// What the list knows of a row it shows (a live change carries rows, not records).
    pub fn of_row(row: &crate::domain::pages::HavipRow) -> Listed {
        let (haystack, name_end) = haystack(&row.name, &row.id, row.ip);
        Listed {
            id: row.id.tail(),
            vpc: row.vpc_id.tail(),
            subnet: row.subnet_id.tail(),
            ip: row.ip,
            created: row.created,
            status: StatusKey::of(&row.status),
            name_end,
            haystack,
        }
    }

    pub fn id(&self) -> HavipId {
        HavipId::from_tail(self.id)
    }

    /// The key of its HAVIP in the index.
    pub fn key(&self) -> IdTail {
        self.id
    }

    /// The tail of its subnet's ID.
    pub fn subnet_tail(&self) -> IdTail {
        self.subnet
    }

    fn name_lowercase(&self) -> &str {
        self.haystack
            .get(..usize::from(self.name_end))
            .unwrap_or_default()
    }
}

impl ListQuery {
    /// Whether its search and filters keep `listed` (for one HAVIP; a pass over a region
    /// prepares them once, see `select`).
    pub fn keeps(&self, listed: &Listed) -> bool {
        Filter::new(self).keeps(listed)
    }

    /// Whether it searches or filters by more than the status: then the counters of the region
    /// do not say how many match.
    pub fn narrows(&self) -> bool {
        !self.q.trim().is_empty() || !self.vpc.is_empty() || !self.subnet.is_empty()
    }
}

/// A query's search and filters, prepared once for a pass over a region.
struct Filter<'q> {
    /// the search, trimmed and lowercased: the ID, the name or the IP contains it
    needle: String,
    /// `None`: any; `Some(None)`: the query names no valid ID, so nothing matches
    vpc: Option<Option<IdTail>>,
    subnet: Option<Option<IdTail>>,
    status: &'q str,
}

impl<'q> Filter<'q> {
    fn new(query: &'q ListQuery) -> Filter<'q> {
        Filter {
            needle: lowercase(query.q.trim()),
            vpc: (!query.vpc.is_empty()).then(|| VpcId::parse(&query.vpc).ok().map(|id| id.tail())),
            subnet: (!query.subnet.is_empty())
                .then(|| SubnetId::parse(&query.subnet).ok().map(|id| id.tail())),
            status: &query.status,
        }
    }

    fn keeps(&self, listed: &Listed) -> bool {
        (self.needle.is_empty()
            || (!self.needle.contains('\n') && listed.haystack.contains(self.needle.as_str())))
            && self.vpc.is_none_or(|vpc| vpc == Some(listed.vpc))
            && self
                .subnet
                .is_none_or(|subnet| subnet == Some(listed.subnet))
            && (self.status.is_empty() || listed.status.as_str() == self.status)
    }
}

/// `text` in lower case, by Unicode's rules: in the browser by its own `toLowerCase`, on the
/// server by `str::to_lowercase`. Rust's case tables, with the sort `Text::wire_args` no longer
/// does, were 12.6 KB gzipped of the browser's first page.
fn lowercase(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    return js_sys::JsString::from(text).to_lower_case().into();
    #[cfg(not(feature = "hydrate"))]
    text.to_lowercase()
}

/// `Listed::haystack` and where its name ends (IDs and addresses have no capitals).
fn haystack(name: &str, id: &HavipId, ip: Ipv4Addr) -> (Box<str>, u16) {
    let name = lowercase(name);
    let name_end = u16::try_from(name.len()).unwrap_or(u16::MAX);
    (format!("{name}\n{id}\n{ip}").into(), name_end)
}

/// The list's order for `sort`: "name", "ip", or newest first. Ties are broken by ID, so every
/// order is total and a page never shows a row twice.
pub fn order(sort: &str) -> fn(&&Listed, &&Listed) -> Ordering {
    match sort {
        "name" => |a, b| {
            a.name_lowercase()
                .cmp(b.name_lowercase())
                .then_with(|| a.id.cmp(&b.id))
        },
        "ip" => |a, b| {
            a.ip.cmp(&b.ip)
                .then_with(|| a.subnet.cmp(&b.subnet))
                .then_with(|| a.id.cmp(&b.id))
        },
        _ => |a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)),
    }
}

/// One page of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// the HAVIPs of the page, in order
    pub ids: Vec<HavipId>,
    /// how many match the query in all
    pub matching: usize,
    /// the page shown: the one asked for, or the last one if that is past the end
    pub page: u32,
    /// every HAVIP of the region, by status (whatever the query)
    pub counters: Counters,
}

/// Searches, filters, counts and pages the HAVIPs of a region (only the page is sorted, see
/// `window`).
pub fn select<'a>(all: impl IntoIterator<Item = &'a Listed>, query: &ListQuery) -> Selection {
    let filter = Filter::new(query);
    let mut counters = Counters::default();
    let mut kept: Vec<&Listed> = vec![];
    for listed in all {
        counters.add(listed.status);
        if filter.keeps(listed) {
            kept.push(listed);
        }
    }
    let matching = kept.len();
    let page = (query.page as usize).min(matching.saturating_sub(1) / PAGE_SIZE);
    let shown = window(kept, order(&query.sort), page * PAGE_SIZE, PAGE_SIZE);
    Selection {
        ids: shown.iter().map(|l| l.id()).collect(),
        matching,
        page: page as u32,
        counters,
    }
}

/// The entries at `offset..offset + limit` in `order`: two selections (the window's end, then
/// its start), then only the window is sorted, so any window of 50,000 costs a few passes.
pub fn window(
    mut all: Vec<&Listed>,
    order: fn(&&Listed, &&Listed) -> Ordering,
    offset: usize,
    limit: usize,
) -> Vec<&Listed> {
    let end = offset.saturating_add(limit).min(all.len());
    let start = offset.min(end);
    if end < all.len() {
        all.select_nth_unstable_by(end, order);
        all.truncate(end);
    }
    if start > 0 && start < all.len() {
        all.select_nth_unstable_by(start, order);
    }
    all.drain(..start);
    all.sort_unstable_by(order);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(i: u32, name: &str, status: StatusKey) -> Listed {
        let id: HavipId = format!("havip-{i:08}").parse().unwrap();
        let ip = Ipv4Addr::from(0x0a00_0000 + 300 - i);
        let (haystack, name_end) = haystack(name, &id, ip);
        let vpc: VpcId = if i.is_multiple_of(2) {
            "vpc-aaaaaaaa".parse().unwrap()
        } else {
            "vpc-bbbbbbbb".parse().unwrap()
        };
        Listed {
            haystack,
            name_end,
            id: id.tail(),
            vpc: vpc.tail(),
            subnet: SubnetId::parse("subnet-11111111").unwrap().tail(),
            ip,
            created: u64::from(i),
            status,
        }
    }

    fn all() -> Vec<Listed> {
        (0..45)
            .map(|i| {
                let status = match i % 3 {
                    0 => StatusKey::Unbound,
                    1 => StatusKey::Bound,
                    _ => StatusKey::Conflict,
                };
                listed(i, &format!("VIP-{:02}", 44 - i), status)
            })
            .collect()
    }

    fn query(edit: impl FnOnce(&mut ListQuery)) -> ListQuery {
        let mut q = ListQuery::default();
        edit(&mut q);
        q
    }

    /// The page's entries, looked up by the selection's ids.
    fn shown<'a>(all: &'a [Listed], s: &Selection) -> Vec<&'a Listed> {
        s.ids
            .iter()
            .map(|id| all.iter().find(|l| l.id() == *id).unwrap())
            .collect()
    }

    #[test]
    fn listed_takes_what_the_list_needs_from_the_record() {
        use crate::domain::binding::BindingState;
        let h = Havip {
            id: "havip-abcdefgh".parse().unwrap(),
            name: "Web VIP".into(),
            region_id: "region-aaaaaaaa".parse().unwrap(),
            vpc_id: "vpc-aaaaaaaa".parse().unwrap(),
            subnet_id: "subnet-11111111".parse().unwrap(),
            ip: "10.0.0.7".parse().unwrap(),
            created: 5,
            binding: BindingState::default(),
            eip: None,
            allowed: vec![],
        };
        let l = Listed::new(&h);
        assert_eq!(l.name_lowercase(), "web vip");
        assert_eq!(l.status, StatusKey::Unbound);
        for needle in ["web", "abcdefgh", "10.0.0.7", "vip\nhavip"] {
            let expected = !needle.contains('\n');
            assert_eq!(
                Filter::new(&query(|q| q.q = needle.into())).keeps(&l),
                expected,
                "{needle:?}"
            );
        }
        assert_eq!(l.id(), h.id);
        for (vpc, subnet, kept) in [
            ("vpc-aaaaaaaa", "subnet-11111111", true),
            ("", "", true),
            ("vpc-bbbbbbbb", "", false),
            ("", "subnet-22222222", false),
            ("not-a-vpc", "", false),
            ("", "subnet-1111111", false),
        ] {
            let q = query(|q| {
                q.vpc = vpc.into();
                q.subnet = subnet.into();
            });
            assert_eq!(Filter::new(&q).keeps(&l), kept, "{vpc:?} {subnet:?}");
        }
    }

    #[test]
    fn counters_count_each_status_of_the_whole_region() {
        let all = all();
        let s = select(&all, &query(|q| q.q = "nothing".into()));
        assert_eq!(
            s.counters,
            Counters {
                total: 45,
                bound: 15,
                unbound: 15,
                conflict: 15
            }
        );
    }

    #[test]
    fn paging_sorting_and_filters() {
        let all = all();
        let s = select(&all, &ListQuery::default());
        assert_eq!((s.ids.len(), s.matching, s.page), (20, 45, 0));
        assert_eq!(shown(&all, &s)[0].created, 44, "newest first by default");
        let s = select(&all, &query(|q| q.page = 2));
        assert_eq!((s.ids.len(), s.page), (5, 2));
        let s = select(&all, &query(|q| q.page = 9));
        assert_eq!(
            (s.ids.len(), s.page),
            (5, 2),
            "past the end shows the last page"
        );

        let s = select(&all, &query(|q| q.sort = "name".into()));
        assert_eq!(shown(&all, &s)[0].name_lowercase(), "vip-00");
        let s = select(&all, &query(|q| q.sort = "ip".into()));
        assert!(shown(&all, &s).windows(2).all(|w| w[0].ip < w[1].ip));

        let s = select(
            &all,
            &query(|q| {
                q.status = "conflict".into();
                q.vpc = "vpc-aaaaaaaa".into();
            }),
        );
        assert_eq!(s.matching, 8, "i = 2, 8, ..., 44");
        assert!(shown(&all, &s)
            .iter()
            .all(|l| VpcId::from_tail(l.vpc) == "vpc-aaaaaaaa" && l.status == StatusKey::Conflict));

        let s = select(&all, &query(|q| q.q = "vip-07".into()));
        assert_eq!(
            (s.matching, shown(&all, &s)[0].name_lowercase()),
            (1, "vip-07")
        );
        // addresses are 10.0.1.0-10.0.1.44: "10.0.1.4" matches .4 and .40-.44
        assert_eq!(
            select(&all, &query(|q| q.q = "10.0.1.4".into())).matching,
            6
        );
        assert_eq!(
            select(&all, &query(|q| q.q = "HAVIP-00000003".into())).matching,
            1
        );
        let s = select(&all, &query(|q| q.q = "nothing".into()));
        assert_eq!((s.ids.len(), s.matching, s.page), (0, 0, 0));
    }

    /// The selection sorts only up to the end of the page: every page of every order must be
    /// exactly that page of the fully sorted list.
    #[test]
    fn every_page_equals_the_fully_sorted_list() {
        let mut all = vec![];
        let mut seed = 7u32;
        for i in 0..997 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let mut l = listed(i, &format!("n{}", seed % 50), StatusKey::Bound);
            l.created = u64::from(seed % 100);
            l.ip = Ipv4Addr::from(seed % 300);
            all.push(l);
        }
        for sort in ["", "name", "ip"] {
            let mut sorted: Vec<&Listed> = all.iter().collect();
            sorted.sort_by(order(sort));
            let pages = all.len().div_ceil(PAGE_SIZE);
            for page in 0..pages {
                let s = select(
                    &all,
                    &query(|q| {
                        q.sort = sort.into();
                        q.page = page as u32;
                    }),
                );
                let expected: Vec<HavipId> = sorted
                    .iter()
                    .skip(page * PAGE_SIZE)
                    .take(PAGE_SIZE)
                    .map(|l| l.id())
                    .collect();
                assert_eq!(s.ids, expected, "sort {sort:?}, page {page}");
            }
            // any window, as the Tencent API's Offset and Limit ask
            for (offset, limit) in [
                (0, 1),
                (37, 53),
                (990, 100),
                (997, 5),
                (2000, 20),
                (0, usize::MAX),
            ] {
                let got: Vec<HavipId> = window(all.iter().collect(), order(sort), offset, limit)
                    .into_iter()
                    .map(|l| l.id())
                    .collect();
                let expected: Vec<HavipId> = sorted
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|l| l.id())
                    .collect();
                assert_eq!(got, expected, "sort {sort:?}, window {offset}+{limit}");
            }
        }
    }
}
