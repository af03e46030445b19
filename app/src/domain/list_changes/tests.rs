//! The page a change is applied to must equal the page the server would select from scratch,
//! for every change the page takes; and the simple cases (one page, no filter) must be taken.

use super::*;
use crate::domain::binding::Status;
use crate::domain::listing::StatusKey;
use crate::domain::mac::Mac;

/// A small random generator (no dependency, repeatable).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn spark() -> Timeline {
    Timeline::build(0, 1000, 0, None, &[], false)
}

fn status(k: u64) -> Status {
    match k {
        0 => Status::Unbound,
        1 => Status::Bound {
            mac: Mac([2, 0, 0, 0, 0, 1]),
            since: 1,
        },
        _ => Status::Conflict {
            macs: vec![Mac([2, 0, 0, 0, 0, 1]), Mac([2, 0, 0, 0, 0, 2])],
        },
    }
}

fn row(i: u64, name: &str, k: u64) -> HavipRow {
    let vpc = if i.is_multiple_of(2) {
        "vpc-aaaaaaaa"
    } else {
        "vpc-bbbbbbbb"
    };
    HavipRow {
        id: format!("havip-{i:08}").parse().unwrap(),
        name: name.into(),
        status: status(k),
        vpc_id: vpc.parse().unwrap(),
        vpc_name: "VPC".into(),
        subnet_id: "subnet-11111111".parse().unwrap(),
        subnet_name: "Subnet".into(),
        subnet_cidr: "10.0.0.0/16".parse().unwrap(),
        ip: std::net::Ipv4Addr::from(0x0a00_0100 + (i as u32 * 7919) % 500),
        bound_instance: String::new(),
        unauthorized: vec![],
        watched: false,
        eip: None,
        created: 1_000 + i,
    }
}

fn counters(region: &[HavipRow]) -> Counters {
    let mut c = Counters::default();
    for r in region {
        c.add(StatusKey::of(&r.status));
    }
    c
}

/// The page the server selects from the whole region.
fn select(region: &[HavipRow], query: &ListQuery) -> HavipListData {
    let listed: Vec<Listed> = region.iter().map(Listed::of_row).collect();
    let sel = crate::domain::listing::select(&listed, query);
    let rows: Vec<HavipRow> = sel
        .ids
        .iter()
        .map(|id| region.iter().find(|r| r.id == *id).unwrap().clone())
        .collect();
    HavipListData {
        regions: vec![],
        region_id: "region-aaaaaaaa".parse().unwrap(),
        sparks: rows.iter().map(|_| spark()).collect(),
        rows,
        matching: sel.matching as u32,
        page: sel.page,
        counters: sel.counters,
        networks: vec![],
    }
}

/// Applies one random change to the region and returns it as the live channel carries it.
fn change(region: &mut Vec<HavipRow>, next: &mut u64, rng: &mut Rng) -> RowChange {
    let pick = rng.below(4);
    if region.is_empty() || pick == 0 {
        *next += 1;
        let r = row(*next, &format!("n{}", rng.below(40)), rng.below(3));
        region.push(r.clone());
        return RowChange::Row {
            row: Box::new(r),
            spark: spark(),
            counters: counters(region),
            edit: Edit::Created,
        };
    }
    let i = rng.below(region.len() as u64) as usize;
    match pick {
        1 => {
            let gone = region.remove(i);
            RowChange::Removed {
                row: Box::new(gone),
                counters: counters(region),
            }
        }
        2 => {
            region[i].name = format!("n{}", rng.below(40));
            RowChange::Row {
                row: Box::new(region[i].clone()),
                spark: spark(),
                counters: counters(region),
                edit: Edit::Renamed,
            }
        }
        _ => {
            region[i].status = status(rng.below(3));
            RowChange::Row {
                row: Box::new(region[i].clone()),
                spark: spark(),
                counters: counters(region),
                edit: Edit::Other,
            }
        }
    }
}

fn queries() -> Vec<ListQuery> {
    let mut all = vec![];
    for sort in ["", "name", "ip"] {
        for status in ["", "bound", "conflict"] {
            for (q, vpc) in [("", ""), ("n1", ""), ("", "vpc-aaaaaaaa")] {
                for page in [0, 1, 2] {
                    all.push(ListQuery {
                        q: q.into(),
                        vpc: vpc.into(),
                        subnet: String::new(),
                        status: status.into(),
                        sort: sort.into(),
                        page,
                    });
                }
            }
        }
    }
    all
}

#[test]
fn every_change_the_page_takes_leaves_it_as_the_server_would_select_it() {
    let (mut taken, mut reloads) = (0, 0);
    for (n, query) in queries().into_iter().enumerate() {
        let mut rng = Rng(n as u64 + 1);
        let mut next = 0;
        let mut region: Vec<HavipRow> = vec![];
        for _ in 0..30 {
            change(&mut region, &mut next, &mut rng);
        }
        let mut page = select(&region, &query);
        for step in 0..300 {
            let c = change(&mut region, &mut next, &mut rng);
            let expected = select(&region, &query);
            match apply(&mut page, &query, &c) {
                Applied::Done => {
                    taken += 1;
                    assert_eq!(
                        (&page.rows, page.matching, page.counters, page.sparks.len()),
                        (
                            &expected.rows,
                            expected.matching,
                            expected.counters,
                            expected.rows.len()
                        ),
                        "query {query:?}, step {step}, change {c:?}"
                    );
                }
                Applied::Reload => {
                    reloads += 1;
                    page = expected;
                }
            }
        }
    }
    // most changes are taken in place (a page that reloaded for everything would also pass
    // above), even over these queries, a third of which search or filter by VPC
    assert!(taken > reloads, "{taken} taken, {reloads} reloads");
}

#[test]
fn one_unfiltered_page_takes_every_create_rename_and_delete() {
    let mut region: Vec<HavipRow> = (1..=5).map(|i| row(i, &format!("n{i}"), 0)).collect();
    let query = ListQuery::default();
    let mut page = select(&region, &query);
    let (mut next, mut rng) = (5, Rng(9));
    for step in 0..200 {
        // stay within one page, so nothing moves between pages
        let c = loop {
            let mut trial = region.clone();
            let mut trial_next = next;
            let c = change(&mut trial, &mut trial_next, &mut rng);
            if trial.len() <= PAGE_SIZE {
                (region, next) = (trial, trial_next);
                break c;
            }
        };
        assert_eq!(
            apply(&mut page, &query, &c),
            Applied::Done,
            "step {step}: {c:?}"
        );
        let expected = select(&region, &query);
        assert_eq!(
            (&page.rows, page.matching, page.counters),
            (&expected.rows, expected.matching, expected.counters)
        );
    }
}

#[test]
fn a_change_applied_twice_changes_nothing_more() {
    // the page's data may already hold a change its frame then brings again
    let mut region: Vec<HavipRow> = (1..=30).map(|i| row(i, &format!("n{i}"), i % 3)).collect();
    let query = ListQuery::default();
    let (mut next, mut rng) = (30, Rng(3));
    for _ in 0..100 {
        let c = change(&mut region, &mut next, &mut rng);
        let mut page = select(&region, &query);
        let expected = page.clone();
        if apply(&mut page, &query, &c) == Applied::Done {
            assert_eq!(page, expected, "{c:?} applied to a page that had it");
        }
    }
}
