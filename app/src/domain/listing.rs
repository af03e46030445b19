//! Search, filters, sort and paging of the HAVIP list, and its counters. The URL carries the
//! query (`?q=&vpc=&subnet=&status=&sort=&page=`), so a reload or a shared link shows the same view.

use super::binding::Status;
use super::pages::HavipRow;
use serde::{Deserialize, Serialize};

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

pub fn status_key(status: &Status) -> &'static str {
    match status {
        Status::Unbound => "unbound",
        Status::Bound { .. } => "bound",
        Status::Conflict { .. } => "conflict",
    }
}

pub fn counters(rows: &[HavipRow]) -> Counters {
    let mut c = Counters {
        total: rows.len() as u32,
        ..Default::default()
    };
    for r in rows {
        match r.status {
            Status::Unbound => c.unbound += 1,
            Status::Bound { .. } => c.bound += 1,
            Status::Conflict { .. } => c.conflict += 1,
        }
    }
    c
}

/// The rows of the requested page (the page is clamped to the last one) and how many rows
/// match in all, and the page actually shown.
pub fn select(mut rows: Vec<HavipRow>, query: &ListQuery) -> (Vec<HavipRow>, usize, u32) {
    let needle = query.q.trim().to_lowercase();
    rows.retain(|r| {
        (needle.is_empty()
            || r.id.to_lowercase().contains(&needle)
            || r.name.to_lowercase().contains(&needle)
            || r.ip.to_string().contains(&needle))
            && (query.vpc.is_empty() || r.vpc_id == *query.vpc)
            && (query.subnet.is_empty() || r.subnet_id == *query.subnet)
            && (query.status.is_empty() || status_key(&r.status) == query.status)
    });
    match query.sort.as_str() {
        "name" => rows.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        }),
        "ip" => rows.sort_by(|a, b| a.ip.cmp(&b.ip).then(a.subnet_id.cmp(&b.subnet_id))),
        _ => rows.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id))),
    }
    let total = rows.len();
    let last_page = total.saturating_sub(1) / PAGE_SIZE;
    let page = (query.page as usize).min(last_page);
    let shown = rows
        .into_iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    (shown, total, page as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mac::Mac;

    fn row(i: u32, name: &str, status: Status) -> HavipRow {
        HavipRow {
            id: format!("havip-{i:08}").parse().unwrap(),
            name: name.into(),
            status,
            vpc_id: if i.is_multiple_of(2) {
                "vpc-aaaaaaaa".parse().unwrap()
            } else {
                "vpc-bbbbbbbb".parse().unwrap()
            },
            vpc_name: String::new(),
            subnet_id: "subnet-11111111".parse().unwrap(),
            subnet_name: String::new(),
            subnet_cidr: "10.0.0.0/16".parse().unwrap(),
            ip: std::net::Ipv4Addr::from(0x0a00_0000 + 300 - i),
            bound_instance: String::new(),
            unauthorized: vec![],
            watched: true,
            eip: None,
            created: u64::from(i),
        }
    }

    fn rows() -> Vec<HavipRow> {
        (0..45)
            .map(|i| {
                let status = match i % 3 {
                    0 => Status::Unbound,
                    1 => Status::Bound {
                        mac: Mac([2, 0, 0, 0, 0, 1]),
                        since: 0,
                    },
                    _ => Status::Conflict { macs: vec![] },
                };
                row(i, &format!("vip-{:02}", 44 - i), status)
            })
            .collect()
    }

    #[test]
    fn counters_count_each_status() {
        assert_eq!(
            counters(&rows()),
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
        let (page, total, shown) = select(rows(), &ListQuery::default());
        assert_eq!((page.len(), total, shown), (20, 45, 0));
        assert_eq!(page[0].created, 44, "newest first by default");
        let (page, _, shown) = select(
            rows(),
            &ListQuery {
                page: 2,
                ..Default::default()
            },
        );
        assert_eq!((page.len(), shown), (5, 2));
        let (page, _, shown) = select(
            rows(),
            &ListQuery {
                page: 9,
                ..Default::default()
            },
        );
        assert_eq!(
            (page.len(), shown),
            (5, 2),
            "past the end shows the last page"
        );

        let (page, _, _) = select(
            rows(),
            &ListQuery {
                sort: "name".into(),
                ..Default::default()
            },
        );
        assert_eq!(page[0].name, "vip-00");
        let (page, _, _) = select(
            rows(),
            &ListQuery {
                sort: "ip".into(),
                ..Default::default()
            },
        );
        assert!(page.windows(2).all(|w| w[0].ip < w[1].ip));

        let (page, total, _) = select(
            rows(),
            &ListQuery {
                status: "conflict".into(),
                vpc: "vpc-aaaaaaaa".into(),
                ..Default::default()
            },
        );
        assert_eq!(total, 8, "i = 2, 8, ..., 44");
        assert!(page
            .iter()
            .all(|r| r.vpc_id == "vpc-aaaaaaaa" && matches!(r.status, Status::Conflict { .. })));

        let (page, total, _) = select(
            rows(),
            &ListQuery {
                q: "VIP-07".into(),
                ..Default::default()
            },
        );
        assert_eq!((total, page[0].name.as_str()), (1, "vip-07"));
        // addresses are 10.0.1.0-10.0.1.44: "10.0.1.4" matches .4 and .40-.44
        let (_, total, _) = select(
            rows(),
            &ListQuery {
                q: "10.0.1.4".into(),
                ..Default::default()
            },
        );
        assert_eq!(total, 6);
        let (_, total, _) = select(
            rows(),
            &ListQuery {
                q: "havip-00000003".into(),
                ..Default::default()
            },
        );
        assert_eq!(total, 1);
        let (page, total, shown) = select(
            rows(),
            &ListQuery {
                q: "nothing".into(),
                ..Default::default()
            },
        );
        assert_eq!((page.len(), total, shown), (0, 0, 0));
    }
}
