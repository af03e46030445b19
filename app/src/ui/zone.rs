//! Times as the reader lives them: every page shows times in the logged-in user's time zone,
//! with the zone's abbreviation, and UTC (with the zone's name and offset) in a tooltip. The
//! zone is loaded once with the page (rendered on the server in it, so the page never changes
//! its times while it hydrates) and again when the user chooses another.

use crate::api::whoami;
use crate::domain::auth::Me;
use crate::domain::error::ApiError;
use crate::domain::zone::{iso_utc, Zone};
use crate::ui::first_load::FirstLoad;
use crate::ui::lang::tf;
use leptos::prelude::*;

/// The page's user with their zone (one load for the top bar and every time shown), and a
/// counter that loads it again.
#[derive(Clone, Copy)]
pub struct ZoneLoad {
    first: FirstLoad<Me>,
    version: RwSignal<u64>,
}

/// Loads the user and their zone for every page (nobody, and UTC, before anyone logs in).
pub fn provide_zone() {
    let version = RwSignal::new(0u64);
    let first = FirstLoad::new(move || version.get(), |_| whoami());
    provide_context(ZoneLoad { first, version });
}

/// The page's user, once loaded.
pub fn me() -> Option<Result<Me, ApiError>> {
    use_context::<ZoneLoad>().and_then(|z| z.first.get())
}

/// The page's zone (UTC until it is loaded, or when it cannot be).
pub fn zone() -> Zone {
    me().and_then(Result::ok)
        .map(|me| me.zone)
        .unwrap_or_default()
}

/// Loads the zone again (after the user chose another).
pub fn reload_zone() {
    if let Some(z) = use_context::<ZoneLoad>() {
        z.version.update(|v| *v += 1);
    }
}

/// Sets the user's zone to `name`, then loads it: without a `ServerAction`, whose machinery
/// the first page does not otherwise carry (the proposal under the top bar is on every page).
pub fn choose_zone(name: String) {
    let Some(load) = use_context::<ZoneLoad>() else {
        return;
    };
    leptos::task::spawn_local(async move {
        if crate::api::account::set_time_zone(name).await.is_ok() {
            load.version.update(|v| *v += 1);
        }
    });
}

/// Unix milliseconds `ms` in the page's zone, as text: `2026-12-03 08:30:00 CST`.
pub fn local_time(ms: u64) -> String {
    zone().format(ms)
}

/// A time: the zone's wall-clock time, UTC in its tooltip and `datetime`.
#[component]
pub fn Time(ms: u64) -> impl IntoView {
    view! {
        <time datetime=iso_utc(ms) title=move || tf(zone().explain_text(ms))>{move || zone().format(ms)}</time>
    }
}

/// This browser's time zone (its IANA name), to propose to a user who has not chosen one.
pub fn browser_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        let options = format.resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|zone| zone.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}
