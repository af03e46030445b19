//! The page's live connection and how pages load their data.
//!
//! One websocket per open console (`Channel`, reading the frames `api::live` defines). The
//! page's data hooks (`page_data`) say what they show (`Interest`); the channel sends the
//! server their union (`Watch`) whenever it changes, and hands each change to the hooks it
//! concerns. `connected` drives the indicator in the top bar.
//!
//! Changes are numbered. The server-rendered page carries the number of the change it was
//! rendered at (`<meta name="havip-mark">`); the page's data is up to date as long as it has
//! seen every change since that concerns it. When it may not have (a greeting or `Watching`
//! beyond the last change seen, a `Resync`, another console process), `tick` makes every page
//! load its data again. After a drop the channel reconnects and reloads only if changes were
//! made meanwhile.
//!
//! Pages load their data with `page_data`: the first load is server-rendered and is what the
//! page's view is built from (only navigation rebuilds it); a live change is applied in place
//! where the page can (`Watch::apply`: the list's rows), or else loads the data again, into
//! `current`, which the changing parts of the view read, so typed input survives.

#[cfg(feature = "hydrate")]
mod channel;
#[cfg(feature = "hydrate")]
mod hooks;
mod page_data;

#[cfg(feature = "hydrate")]
use channel::Channel;
use leptos::prelude::*;
pub use page_data::{page_data, PageData, Watch};

#[derive(Clone, Copy)]
pub struct Live {
    pub connected: RwSignal<bool>,
    /// bumped when every page must load its data again
    pub tick: RwSignal<u64>,
    /// the server runs another build than the page's (an upgrade since it loaded)
    pub outdated: RwSignal<bool>,
}

impl Live {
    /// Reloads every page's data now.
    pub fn refresh(&self) {
        self.tick.update(|t| *t += 1);
    }
}

pub fn provide_live() {
    let live = Live {
        connected: RwSignal::new(false),
        tick: RwSignal::new(0),
        outdated: RwSignal::new(false),
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    WAITING.with(|waiting| waiting.set(Some(live)));
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The page's live state until the page is hydrated (see `start`).
    static WAITING: std::cell::Cell<Option<Live>> = const { std::cell::Cell::new(None) };
}

/// Opens the live channel, once the whole page is hydrated (its lazy route's chunks loaded):
/// "● Live" then also says that the page answers to input.
#[cfg(feature = "hydrate")]
pub fn start() {
    if let Some(live) = WAITING.with(|waiting| waiting.take()) {
        leptos::task::spawn_local(run(live));
    }
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// The `<meta>` that tells the browser which change the page was rendered at.
#[component]
pub fn RenderMark() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let mark = use_context::<crate::store::Store>()
        .map(|s| {
            let (epoch, seq) = s.change_mark();
            format!("{epoch}:{seq}")
        })
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let mark = String::new();
    view! { <meta name="havip-mark" content=mark/> }
}

#[cfg(feature = "hydrate")]
fn rendered_mark() -> Option<(u64, u64)> {
    let content = document()
        .query_selector("meta[name=havip-mark]")
        .ok()??
        .get_attribute("content")?;
    let (epoch, seq) = content.split_once(':')?;
    Some((epoch.parse().ok()?, seq.parse().ok()?))
}

/// The page's `<meta>` of the build it is from.
#[cfg(feature = "hydrate")]
fn page_bundle() -> Option<String> {
    document()
        .query_selector("meta[name=havip-bundle]")
        .ok()??
        .get_attribute("content")
}

#[cfg(feature = "hydrate")]
async fn run(live: Live) {
    use crate::api::live::LiveEvent;
    use futures::future::{select, Either};
    use futures::StreamExt;
    // the login and set-up pages have nothing live (and no session to open the channel with)
    let path = window().location().pathname().unwrap_or_default();
    if path.starts_with("/login") || path.starts_with("/setup") {
        return;
    }
    // (epoch, number) of the last change the page's data has seen: where the stream stood when
    // it was loaded, advanced by every change received since
    let mut seen = rendered_mark();
    let built = page_bundle();
    let mut backoff_ms = 250u32;
    let mut interests_changed = hooks::changes();
    loop {
        if let Some(mut channel) = Channel::open() {
            let mut greeted = false;
            loop {
                let event = match select(channel.events.next(), interests_changed.next()).await {
                    Either::Left((Some(event), _)) => event,
                    Either::Left((None, _)) => break,
                    Either::Right(_) => {
                        if greeted {
                            channel.send(&hooks::watch());
                        }
                        continue;
                    }
                };
                match event {
                    LiveEvent::Hello { epoch, seq, bundle } => {
                        live.connected.set(true);
                        greeted = true;
                        // the page's code is from another build: its lazy chunks are gone
                        if built.as_ref().is_some_and(|b| *b != bundle) {
                            live.outdated.set(true);
                        }
                        backoff_ms = 250;
                        if seen.is_none_or(|(e, s)| e != epoch || s < seq) {
                            live.refresh();
                            seen = Some((epoch, seq));
                        }
                        channel.send(&hooks::watch());
                    }
                    LiveEvent::Watching { seq } | LiveEvent::Resync { seq } => {
                        // changes up to `seq` were filtered by an older watch, or not sent
                        let resync = matches!(event, LiveEvent::Resync { .. });
                        if let Some((epoch, s)) = seen {
                            if resync || s < seq {
                                live.refresh();
                                seen = Some((epoch, seq));
                            }
                        }
                    }
                    LiveEvent::Change { seq, about, row } => {
                        let Some((epoch, s)) = seen else { continue };
                        if seq <= s {
                            continue; // the page's data has it already
                        }
                        seen = Some((epoch, seq));
                        mark_arrival();
                        hooks::dispatch(&about, row.as_deref());
                    }
                }
            }
        }
        live.connected.set(false);
        gloo_sleep(backoff_ms).await;
        backoff_ms = (backoff_ms * 2).min(5_000);
    }
}

/// Marks when each change arrived (the User Timing mark `havip-change`, seen in the browser's
/// performance tools; the lab reads them to split its push latency into the wire to the page,
/// and the page to the screen). The latest 64 are kept.
#[cfg(feature = "hydrate")]
fn mark_arrival() {
    if let Some(performance) = window().performance() {
        if performance.get_entries_by_name("havip-change").length() >= 64 {
            performance.clear_marks_with_mark_name("havip-change");
        }
        let _ = performance.mark("havip-change");
    }
}

#[cfg(feature = "hydrate")]
async fn gloo_sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
