//! The timeline strip (detail page) and sparkline (list) of an HAVIP: SVG drawn from a
//! `Timeline`, so the server renders it and it shows before the page is hydrated.

use crate::domain::mac::Mac;
use crate::domain::model::MacNames;
use crate::domain::timeline::{colour, holder_colour, Held, Timeline};
use crate::i18n::{m, Text};
use crate::tr;
use crate::ui::lang::{signal_of, tf};
use crate::ui::zone::local_time;
use leptos::prelude::*;

/// Width of the drawing's coordinate space (the SVG stretches to its box), in hundredths: the
/// coordinates are written with two decimals from whole numbers (no float formatting, 18 KB of
/// code before optimisation, in the browser's first module).
const SPAN: u64 = 100_000;

/// Where `at` falls on the strip, in hundredths of the coordinate space.
fn x(t: &Timeline, at: u64) -> u64 {
    let width = t.to.saturating_sub(t.from).max(1);
    let offset = at.saturating_sub(t.from).min(width);
    // an offset in milliseconds times SPAN outgrows u64 only past 5,800 years
    offset.saturating_mul(SPAN) / width
}

/// A coordinate in hundredths, as SVG reads it: `12.05`.
fn coordinate(hundredths: u64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// What a period is, its holder named by instance when registered.
fn what(held: Held, names: &MacNames) -> Text {
    match held {
        Held::Bound { mac } => Text::new(m::timeline::BOUND_TO).arg("holder", names.label(mac)),
        other => other.text(),
    }
}

/// The strip: one rectangle per period (hover: what and when), a mark per failover.
pub fn strip(t: &Timeline, names: &MacNames, height: u32, testid: &'static str) -> impl IntoView {
    let h = height.to_string();
    let periods = t
        .segments
        .iter()
        .map(|s| {
            let (x0, x1) = (x(t, s.start), x(t, s.end));
            let held = what(s.held, names);
            let period = Text::new(m::timeline::PERIOD)
                .arg("from", local_time(s.start))
                .arg("to", local_time(s.end));
            let title = move || tf(period.clone().arg("what", tf(held.clone())));
            view! {
                <rect x=coordinate(x0) y="0" width=coordinate((x1 - x0).max(50)) height=h.clone()
                    fill=colour(s.held) data-held=held_kind(s.held)>
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let failovers = t
        .failovers
        .iter()
        .map(|at| {
            let x = coordinate(x(t, *at));
            let title = Text::new(m::timeline::FAILOVER_AT)
                .arg("at", local_time(*at));
            view! {
                <line class="failover" x1=x.clone() x2=x y1="0" y2=h.clone() stroke="#1d2330" stroke-width="3">
                    <title>{move || tf(title.clone())}</title>
                </line>
            }
        })
        .collect_view();
    let availability = Text::new(m::timeline::AVAILABILITY_OF).arg("value", t.availability_text());
    let label = move || tf(availability.clone());
    view! {
        <svg class="timeline" data-testid=testid viewBox=format!("0 0 {} {height}", SPAN / 100) preserveAspectRatio="none"
            role="img" aria-label=label>
            {periods}
            {failovers}
        </svg>
    }
}

fn held_kind(held: Held) -> &'static str {
    match held {
        Held::Unbound => "unbound",
        Held::Bound { .. } => "bound",
        Held::Conflict => "conflict",
        Held::Flapping => "flapping",
    }
}

/// The holders a strip shows, each with its colour.
fn legend(timelines: &[Timeline], names: &MacNames) -> impl IntoView {
    let mut macs: Vec<Mac> = vec![];
    for s in timelines.iter().flat_map(|t| &t.segments) {
        if let Held::Bound { mac } = s.held {
            if !macs.contains(&mac) {
                macs.push(mac);
            }
        }
    }
    let swatch = |colour: &'static str, text: Signal<String>| {
        // drawn, not styled: the console's policy refuses inline styles (`style-src 'self'`)
        view! {
            <li>
                <svg class="swatch" viewBox="0 0 1 1" aria-hidden="true"><rect width="1" height="1" fill=colour/></svg>
                {move || text.get()}
            </li>
        }
    };
    view! {
        <ul class="legend">
            {macs.into_iter().map(|mac| {
                let label = names.label(mac);
                swatch(holder_colour(mac), Signal::derive(move || label.clone()))
            }).collect_view()}
            {swatch(colour(Held::Conflict), signal_of(m::timeline::CONFLICT))}
            {swatch(colour(Held::Unbound), signal_of(m::timeline::NOT_BOUND))}
            <li><span class="swatch failover"></span>{tr!(timeline::FAILOVER)}</li>
        </ul>
    }
}

/// The detail page's card: the last 24 hours and 7 days, each with its availability.
pub fn availability_card(timelines: &[Timeline], names: &MacNames) -> impl IntoView {
    let rows = timelines
        .iter()
        .zip([
            (m::timeline::LAST_24_HOURS, "timeline-day"),
            (m::timeline::LAST_7_DAYS, "timeline-week"),
        ])
        .map(|(t, (label, testid))| {
            view! {
                <div class="timeline-row">
                    <span class="timeline-label">{crate::ui::lang::follow(label)}</span>
                    {strip(t, names, 24, testid)}
                    <span class="availability" data-testid=format!("{testid}-availability")>{t.availability_text()}</span>
                    <span class="timeline-ends">{local_time(t.from)} " – " {local_time(t.to)}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card" id="availability">
            <h2>{tr!(timeline::AVAILABILITY)}</h2>
            <p class="hint">{tr!(timeline::AVAILABILITY_HINT)}</p>
            {rows}
            {legend(timelines, names)}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_in_hundredths_written_with_two_decimals() {
        assert_eq!(coordinate(0), "0.00");
        assert_eq!(coordinate(5), "0.05");
        assert_eq!(coordinate(1250), "12.50");
        assert_eq!(coordinate(SPAN), "1000.00");
        let t = Timeline::build(1_000, 5_000, 1_000, None, &[], false);
        assert_eq!(x(&t, 1_000), 0);
        assert_eq!(x(&t, 2_000), SPAN / 4);
        assert_eq!(x(&t, 5_000), SPAN);
        // outside the strip: at its ends
        assert_eq!(x(&t, 0), 0);
        assert_eq!(x(&t, 9_000), SPAN);
    }
}
