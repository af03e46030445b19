//! The timeline strip (detail page) and sparkline (list) of an HAVIP: SVG drawn from a
//! `Timeline`, so the server renders it and it shows before the page is hydrated.

use crate::domain::mac::Mac;
use crate::domain::model::MacNames;
use crate::domain::timeline::{colour, holder_colour, Held, Timeline};
use crate::ui::zone::local_time;
use leptos::prelude::*;

/// Width of the drawing's coordinate space (the SVG stretches to its box).
const SPAN: f64 = 1000.0;

fn x(t: &Timeline, at: u64) -> f64 {
    let width = t.to.saturating_sub(t.from).max(1) as f64;
    (at.saturating_sub(t.from) as f64 / width * SPAN).clamp(0.0, SPAN)
}

fn what(held: Held, names: &MacNames) -> String {
    match held {
        Held::Bound { mac } => format!("Bound to {}", names.label(mac)),
        other => other.describe(),
    }
}

/// The strip: one rectangle per period (hover: what and when), a mark per failover.
pub fn strip(t: &Timeline, names: &MacNames, height: u32, testid: &'static str) -> impl IntoView {
    let h = f64::from(height);
    let periods = t
        .segments
        .iter()
        .map(|s| {
            let (x0, x1) = (x(t, s.start), x(t, s.end));
            let title = format!(
                "{}: {} – {}",
                what(s.held, names),
                local_time(s.start),
                local_time(s.end)
            );
            view! {
                <rect x=format!("{x0:.2}") y="0" width=format!("{:.2}", (x1 - x0).max(0.5)) height=h.to_string()
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
            let x = format!("{:.2}", x(t, *at));
            view! {
                <line class="failover" x1=x.clone() x2=x y1="0" y2=h.to_string() stroke="#1d2330" stroke-width="3">
                    <title>{format!("Failover at {}", local_time(*at))}</title>
                </line>
            }
        })
        .collect_view();
    view! {
        <svg class="timeline" data-testid=testid viewBox=format!("0 0 {SPAN} {height}") preserveAspectRatio="none"
            role="img" aria-label=format!("Availability {}", t.availability_text())>
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
    let swatch = |colour: &'static str, text: String| {
        // drawn, not styled: the console's policy refuses inline styles (`style-src 'self'`)
        view! {
            <li>
                <svg class="swatch" viewBox="0 0 1 1" aria-hidden="true"><rect width="1" height="1" fill=colour/></svg>
                {text}
            </li>
        }
    };
    view! {
        <ul class="legend">
            {macs.into_iter().map(|m| swatch(holder_colour(m), names.label(m))).collect_view()}
            {swatch(colour(Held::Conflict), "Conflict".into())}
            {swatch(colour(Held::Unbound), "Not bound".into())}
            <li><span class="swatch failover"></span>"Failover"</li>
        </ul>
    }
}

/// The detail page's card: the last 24 hours and 7 days, each with its availability.
pub fn availability_card(timelines: &[Timeline], names: &MacNames) -> impl IntoView {
    let rows = timelines
        .iter()
        .zip([("Last 24 hours", "timeline-day"), ("Last 7 days", "timeline-week")])
        .map(|(t, (label, testid))| {
            view! {
                <div class="timeline-row">
                    <span class="timeline-label">{label}</span>
                    {strip(t, names, 24, testid)}
                    <span class="availability" data-testid=format!("{testid}-availability")>{t.availability_text()}</span>
                    <span class="timeline-ends">{local_time(t.from)} " – " {local_time(t.to)}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card" id="availability">
            <h2>"Availability"</h2>
            <p class="hint">"Share of the time bound without a conflict, since the window began or the HAVIP was created."</p>
            {rows}
            {legend(timelines, names)}
        </section>
    }
}
