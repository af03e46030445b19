//! An HAVIP's recent past as a strip of periods (bound to a holder, in conflict, not bound),
//! with its failovers and its availability: the share of the time it was bound without a
//! conflict. Built from the history alone; drawn as SVG on the server and in the browser.

use super::binding::Change;
use super::mac::Mac;
use crate::i18n::{m, Text};
use serde::{Deserialize, Serialize};

/// Events a strip is drawn from at most (the newest); a window with more draws its earliest
/// part as `Held::Flapping`.
pub const MAX_EVENTS: usize = 500;
pub const DAY_MS: u64 = 24 * 3600 * 1000;
pub const WEEK_MS: u64 = 7 * DAY_MS;
/// The list's sparkline of the last 24 hours is drawn this many cells wide (7.2 minutes each;
/// its box is 8 to 15 rem wide): see `Timeline::at_resolution`.
pub const SPARK_CELLS: u64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "held", rename_all = "snake_case")]
pub enum Held {
    Unbound,
    Bound {
        mac: Mac,
    },
    Conflict,
    /// more changes than are drawn
    Flapping,
}

impl Held {
    /// What the HAVIP is after `change`.
    pub fn after(self, change: &Change) -> Held {
        match change {
            Change::Bound { mac } | Change::Resolved { mac } => Held::Bound { mac: *mac },
            Change::Failover { to, .. } => Held::Bound { mac: *to },
            Change::Conflict { .. } => Held::Conflict,
            Change::Lost { .. } => Held::Unbound,
            Change::Unauthorized { .. } => self,
        }
    }

    /// What it is, in English.
    pub fn describe(self) -> String {
        self.text().to_string()
    }

    /// What it is, in the reader's language (the holder named by its MAC).
    pub fn text(self) -> Text {
        match self {
            Held::Unbound => Text::new(m::timeline::NOT_BOUND),
            Held::Bound { mac } => Text::new(m::timeline::BOUND_TO).arg("holder", mac),
            Held::Conflict => Text::new(m::timeline::CONFLICT),
            Held::Flapping => Text::new(m::timeline::FLAPPING),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    pub held: Held,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// the window (unix ms)
    pub from: u64,
    pub to: u64,
    pub segments: Vec<Segment>,
    pub failovers: Vec<u64>,
    /// share of the time since the window began (or the HAVIP was created) bound without a
    /// conflict, in hundredths of a percent (10,000 = all of it); `None` when no time is
    /// covered yet
    pub availability: Option<u32>,
}

impl Timeline {
    /// The strip of `[from, to)` for an HAVIP created at `created`. `before` is the latest
    /// change before the window; `events` are the window's changes, oldest first;
    /// `truncated`: older changes of the window were left out.
    pub fn build(
        from: u64,
        to: u64,
        created: u64,
        before: Option<&Change>,
        events: &[(u64, Change)],
        truncated: bool,
    ) -> Timeline {
        let start = from.max(created).min(to);
        let mut held = match (truncated, before) {
            (true, _) => Held::Flapping,
            (false, Some(change)) => Held::Unbound.after(change),
            (false, None) => Held::Unbound,
        };
        let mut since = start;
        let mut segments = vec![];
        let mut failovers = vec![];
        for (at, change) in events {
            let at = (*at).clamp(start, to);
            if matches!(change, Change::Failover { .. }) {
                failovers.push(at);
            }
            let next = held.after(change);
            if next != held {
                if at > since {
                    segments.push(Segment {
                        start: since,
                        end: at,
                        held,
                    });
                }
                held = next;
                since = at;
            }
        }
        if to > since {
            segments.push(Segment {
                start: since,
                end: to,
                held,
            });
        }
        let bound: u64 = segments
            .iter()
            .filter(|s| matches!(s.held, Held::Bound { .. }))
            .map(|s| s.end - s.start)
            .sum();
        Timeline {
            from,
            to,
            // rounded down: 99.999 % is not 100 %
            availability: (to > start)
                .then(|| (u128::from(bound) * 10_000 / u128::from(to - start)) as u32),
            segments,
            failovers,
        }
    }

    /// The strip as drawn `cells` wide (a sparkline): a run of two or more periods that are
    /// each shorter than a cell becomes one period, drawn as a conflict if one of them was
    /// (the worst shows), else as `Flapping`; of failovers less than a cell apart, the first
    /// is marked. A single short period between longer ones stays. The availability is the
    /// exact one, unchanged.
    pub fn at_resolution(mut self, cells: u64) -> Timeline {
        let cell = (self.to.saturating_sub(self.from) / cells.max(1)).max(1);
        let mut drawn: Vec<Segment> = Vec::with_capacity(self.segments.len());
        // periods in the run of short ones `drawn` ends with
        let mut run = 0usize;
        for s in self.segments {
            let short = s.end - s.start < cell;
            match drawn.last_mut() {
                Some(last) if short && run > 0 => {
                    last.end = s.end;
                    last.held = worst(last.held, s.held);
                    run += 1;
                }
                _ => {
                    drawn.push(s);
                    run = usize::from(short);
                }
            }
        }
        self.segments = drawn;
        let mut marked: Vec<u64> = Vec::with_capacity(self.failovers.len());
        for at in self.failovers {
            if marked.last().is_none_or(|m| at - m >= cell) {
                marked.push(at);
            }
        }
        self.failovers = marked;
        self
    }

    /// "99.95 %" (or "–" before any time is covered).
    pub fn availability_text(&self) -> String {
        match self.availability {
            Some(10_000) => "100 %".into(),
            Some(a) => format!("{}.{:02} %", a / 100, a % 100),
            None => "–".into(),
        }
    }
}

/// Of two states drawn as one period, the one that shows: a conflict, else "too many changes".
fn worst(a: Held, b: Held) -> Held {
    if a == Held::Conflict || b == Held::Conflict {
        Held::Conflict
    } else {
        Held::Flapping
    }
}

/// The colour of a holder's periods: one of a palette of greens and blues, the same for a MAC
/// everywhere.
pub fn holder_colour(mac: Mac) -> &'static str {
    const PALETTE: [&str; 6] = [
        "#2e9d5b", "#2a78c2", "#14867f", "#5b8f2a", "#3f5fbf", "#0f6d4a",
    ];
    let hash = mac
        .0
        .iter()
        .fold(0usize, |h, b| h.wrapping_mul(31) + *b as usize);
    PALETTE[hash % PALETTE.len()]
}

pub fn colour(held: Held) -> &'static str {
    match held {
        Held::Unbound => "#c5cad3",
        Held::Bound { mac } => holder_colour(mac),
        Held::Conflict => "#d93a3a",
        Held::Flapping => "#e89a2c",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(last: u8) -> Mac {
        Mac([2, 0, 0, 0, 0, last])
    }

    /// Each period's (start, end, what).
    fn periods(t: &Timeline) -> Vec<(u64, u64, Held)> {
        t.segments
            .iter()
            .map(|s| (s.start, s.end, s.held))
            .collect()
    }

    #[test]
    fn periods_failovers_and_availability() {
        let (a, b) = (mac(1), mac(2));
        let events = [
            (100, Change::Bound { mac: a }),
            (400, Change::Failover { from: a, to: b }),
            (500, Change::Conflict { macs: vec![a, b] }),
            (600, Change::Resolved { mac: b }),
            (700, Change::Unauthorized { mac: mac(9) }),
            (800, Change::Lost { mac: b }),
        ];
        let t = Timeline::build(0, 1000, 0, None, &events, false);
        assert_eq!(
            periods(&t),
            [
                (0, 100, Held::Unbound),
                (100, 400, Held::Bound { mac: a }),
                (400, 500, Held::Bound { mac: b }),
                (500, 600, Held::Conflict),
                (600, 800, Held::Bound { mac: b }),
                (800, 1000, Held::Unbound),
            ]
        );
        assert_eq!(t.failovers, [400]);
        assert_eq!(t.availability, Some(6_000));
        assert_eq!(t.availability_text(), "60.00 %");
    }

    #[test]
    fn a_sparkline_draws_a_run_of_short_periods_as_one() {
        let (a, b) = (mac(1), mac(2));
        let flip = |at, from, to| (at, Change::Failover { from, to });
        // bound to a for a long time, then six failovers 10 ms apart, then b for a long time
        let mut events = vec![(100, Change::Bound { mac: a })];
        events.extend((0..6).map(|i| {
            let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
            flip(500 + 10 * i, from, to)
        }));
        events.push(flip(560, a, b));
        let exact = Timeline::build(0, 1000, 0, None, &events, false);
        assert_eq!(exact.segments.len(), 9);
        // 20 cells of 50 ms: the 10 ms periods between 500 and 560 are one, "too many changes"
        let drawn = exact.clone().at_resolution(20);
        assert_eq!(
            periods(&drawn),
            [
                (0, 100, Held::Unbound),
                (100, 500, Held::Bound { mac: a }),
                (500, 560, Held::Flapping),
                (560, 1000, Held::Bound { mac: b }),
            ]
        );
        // failovers closer than a cell: the first of them is marked
        assert_eq!(drawn.failovers, [500, 550]);
        assert_eq!(drawn.availability, exact.availability);
        // at a resolution finer than the periods, nothing changes
        assert_eq!(exact.clone().at_resolution(1000), exact);

        // a conflict among short periods shows; one short period alone stays as it is
        let events = [
            (100, Change::Bound { mac: a }),
            (500, Change::Conflict { macs: vec![a, b] }),
            (510, Change::Resolved { mac: a }),
            (520, Change::Lost { mac: a }),
            (530, Change::Bound { mac: a }),
            (800, Change::Lost { mac: a }),
            (810, Change::Bound { mac: a }),
        ];
        let drawn = Timeline::build(0, 1000, 0, None, &events, false).at_resolution(20);
        let held: Vec<Held> = drawn.segments.iter().map(|s| s.held).collect();
        assert_eq!(
            held,
            [
                Held::Unbound,
                Held::Bound { mac: a },
                Held::Conflict,
                Held::Bound { mac: a },
                Held::Unbound,
                Held::Bound { mac: a },
            ]
        );
        assert_eq!((drawn.segments[2].start, drawn.segments[2].end), (500, 530));
    }

    #[test]
    fn the_state_before_the_window_and_the_creation_time_count() {
        let a = mac(1);
        // bound since before the window, nothing since: available all the time
        let t = Timeline::build(1000, 2000, 0, Some(&Change::Bound { mac: a }), &[], false);
        assert_eq!(t.segments.len(), 1);
        assert_eq!(t.availability_text(), "100 %");
        // created half-way through the window: only the time since counts
        let t = Timeline::build(
            1000,
            2000,
            1500,
            None,
            &[(1750, Change::Bound { mac: a })],
            false,
        );
        assert_eq!(t.segments[0].start, 1500);
        assert_eq!(t.availability, Some(5_000));
        // created just now: nothing to say yet
        assert_eq!(
            Timeline::build(0, 10, 10, None, &[], false).availability_text(),
            "–"
        );
        // more changes than drawn: the earliest part is marked, and not counted as available
        let t = Timeline::build(0, 100, 0, None, &[(50, Change::Bound { mac: a })], true);
        assert_eq!(t.segments[0].held, Held::Flapping);
        assert_eq!(t.availability, Some(5_000));
    }
}
