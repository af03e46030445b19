//! A person's time zone, as the pages need it: its name and its offsets from UTC over the years
//! the console shows (a few years back, a year ahead). The server reads them from the time-zone
//! database (`jiff`, see `api::account`) and sends them with the page, so the browser formats
//! every time as the server did, without a time-zone database of its own.

use super::model::format_time;
use crate::i18n::{m, Text};
use serde::{Deserialize, Serialize};

/// One stretch of time with one offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Unix seconds it begins at (the first span begins at the start of time)
    pub from: i64,
    /// seconds east of UTC
    pub offset: i32,
    /// the zone's abbreviation then (`CST`, `CET`, `+08`), as the time-zone database has it
    pub abbreviation: String,
}

/// A time zone: its IANA name and its offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    /// sorted by `from`; never empty
    pub spans: Vec<Span>,
    /// the person chose it (false: UTC, as nobody chose one yet)
    pub chosen: bool,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            spans: vec![Span {
                from: i64::MIN,
                offset: 0,
                abbreviation: "UTC".into(),
            }],
            chosen: false,
        }
    }

    /// The span in force at Unix millisecond `ms`.
    fn span_at(&self, ms: u64) -> Option<&Span> {
        let s = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
        let after = self.spans.partition_point(|span| span.from <= s);
        self.spans.get(after.saturating_sub(1))
    }

    /// `ms` as the zone's wall-clock time and its abbreviation: `2026-12-03 08:30:00 CST`.
    pub fn format(&self, ms: u64) -> String {
        let Some(span) = self.span_at(ms) else {
            return format!("{} UTC", format_time(ms));
        };
        let local = (ms as i64)
            .saturating_add(i64::from(span.offset) * 1000)
            .max(0) as u64;
        format!("{} {}", format_time(local), span.abbreviation)
    }

    /// What the time's tooltip says: UTC, and the zone with its offset (in English).
    pub fn explain(&self, ms: u64) -> String {
        self.explain_text(ms).to_string()
    }

    /// The time's tooltip, for the page's language: `2026-12-03 00:30:00 UTC · Asia/Shanghai
    /// (UTC+08:00)`.
    pub fn explain_text(&self, ms: u64) -> Text {
        let offset = self.span_at(ms).map_or(0, |s| s.offset);
        let sign = if offset < 0 { '-' } else { '+' };
        let minutes = offset.unsigned_abs() / 60;
        Text::new(m::account::TIME_TOOLTIP)
            .arg("time", format_time(ms))
            .arg("zone", &self.name)
            .arg(
                "offset",
                format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60),
            )
    }
}

/// `ms` in ISO 8601 UTC, for `<time datetime>`.
pub fn iso_utc(ms: u64) -> String {
    format!("{}Z", format_time(ms).replace(' ', "T"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> Zone {
        Zone {
            name: "Asia/Shanghai".into(),
            spans: vec![Span {
                from: i64::MIN,
                offset: 8 * 3600,
                abbreviation: "CST".into(),
            }],
            chosen: true,
        }
    }

    #[test]
    fn times_in_a_zone_with_the_zone_named_and_utc_explained() {
        // 2026-12-03 00:30:00 UTC
        let at = 1_796_257_800_000;
        assert_eq!(Zone::utc().format(at), "2026-12-03 00:30:00 UTC");
        assert_eq!(shanghai().format(at), "2026-12-03 08:30:00 CST");
        assert_eq!(
            shanghai().explain(at),
            "2026-12-03 00:30:00 UTC · Asia/Shanghai (UTC+08:00)"
        );
        assert_eq!(iso_utc(at), "2026-12-03T00:30:00Z");
    }

    #[test]
    fn the_offset_in_force_at_each_moment() {
        // New York in 2026: EST until 8 March 07:00 UTC, EDT until 1 November 06:00 UTC
        let zone = Zone {
            name: "America/New_York".into(),
            spans: vec![
                Span {
                    from: i64::MIN,
                    offset: -5 * 3600,
                    abbreviation: "EST".into(),
                },
                Span {
                    from: 1_772_953_200,
                    offset: -4 * 3600,
                    abbreviation: "EDT".into(),
                },
                Span {
                    from: 1_793_512_800,
                    offset: -5 * 3600,
                    abbreviation: "EST".into(),
                },
            ],
            chosen: true,
        };
        assert_eq!(zone.format(1_772_953_199_000), "2026-03-08 01:59:59 EST");
        assert_eq!(zone.format(1_772_953_200_000), "2026-03-08 03:00:00 EDT");
        assert_eq!(zone.format(1_793_512_800_000), "2026-11-01 01:00:00 EST");
        assert_eq!(
            zone.explain(1_780_000_000_000),
            "2026-05-28 20:26:40 UTC · America/New_York (UTC-04:00)"
        );
    }
}
