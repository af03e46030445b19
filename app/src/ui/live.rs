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

use crate::api::live::Interest;
use crate::domain::error::ApiError;
use crate::domain::list_changes::{Applied, RowChange};
use crate::ui::first_load::FirstLoad;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

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

/// The page's data hooks that follow the live channel: what each shows, and what it does with
/// a change. In the browser only (the server renders a page once).
#[cfg(feature = "hydrate")]
mod hooks {
    use crate::api::live::{About, Interest, PageMessage};
    use crate::domain::list_changes::RowChange;
    use std::cell::RefCell;
    use std::rc::Rc;

    type OnChange = Rc<dyn Fn(&About, Option<&RowChange>)>;

    #[derive(Default)]
    struct Hooks {
        next: u64,
        all: Vec<(u64, Interest, OnChange)>,
        /// tells the channel to send the new `Watch`
        changed: Option<futures::channel::mpsc::UnboundedSender<()>>,
    }

    thread_local! {
        static HOOKS: RefCell<Hooks> = RefCell::default();
    }

    /// Where the channel hears that what the page shows changed (once per page load).
    pub fn changes() -> futures::channel::mpsc::UnboundedReceiver<()> {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        HOOKS.with(|h| h.borrow_mut().changed = Some(tx));
        rx
    }

    fn changed(hooks: &Hooks) {
        if let Some(tx) = &hooks.changed {
            let _ = tx.unbounded_send(());
        }
    }

    pub fn add(interest: Interest, on_change: OnChange) -> u64 {
        HOOKS.with(|h| {
            let mut h = h.borrow_mut();
            h.next += 1;
            let id = h.next;
            h.all.push((id, interest, on_change));
            changed(&h);
            id
        })
    }

    pub fn set_interest(id: u64, interest: Interest) {
        HOOKS.with(|h| {
            let mut h = h.borrow_mut();
            if let Some(hook) = h.all.iter_mut().find(|(i, ..)| *i == id) {
                if hook.1 != interest {
                    hook.1 = interest;
                    changed(&h);
                }
            }
        });
    }

    pub fn remove(id: u64) {
        HOOKS.with(|h| {
            let mut h = h.borrow_mut();
            h.all.retain(|(i, ..)| *i != id);
            changed(&h);
        });
    }

    /// The `Watch` for what the page shows now (everything, for a page with more parts than a
    /// `Watch` names).
    pub fn watch() -> String {
        use crate::api::live::MAX_INTERESTS;
        let mut interests: Vec<Interest> =
            HOOKS.with(|h| h.borrow().all.iter().map(|(_, i, _)| i.clone()).collect());
        interests.dedup();
        if interests.len() > MAX_INTERESTS {
            interests = vec![Interest::everything()];
        }
        PageMessage::Watch(interests).to_frame()
    }

    /// Hands a change to the hooks it concerns.
    pub fn dispatch(about: &About, row: Option<&RowChange>) {
        let concerned: Vec<OnChange> = HOOKS.with(|h| {
            h.borrow()
                .all
                .iter()
                .filter(|(_, interest, _)| interest.concerns(about))
                .map(|(_, _, on_change)| on_change.clone())
                .collect()
        });
        for on_change in concerned {
            on_change(about, row);
        }
    }
}

/// One connection of the live channel: a browser websocket whose text frames become
/// `events`; the stream ends when the socket closes, fails, or sends anything that is not an
/// event. Dropping it closes the socket.
#[cfg(feature = "hydrate")]
struct Channel {
    socket: web_sys::WebSocket,
    events: futures::channel::mpsc::UnboundedReceiver<crate::api::live::LiveEvent>,
    _on_message: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_end: wasm_bindgen::closure::Closure<dyn FnMut()>,
}

#[cfg(feature = "hydrate")]
impl Channel {
    fn open() -> Option<Channel> {
        use crate::api::live::{LiveEvent, LIVE_PATH};
        use wasm_bindgen::{closure::Closure, JsCast};
        let location = window().location();
        let scheme = match location.protocol().ok()?.as_str() {
            "https:" => "wss",
            _ => "ws",
        };
        let socket =
            web_sys::WebSocket::new(&format!("{scheme}://{}{LIVE_PATH}", location.host().ok()?))
                .ok()?;
        let (tx, events) = futures::channel::mpsc::unbounded();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new({
            let tx = tx.clone();
            move |message: web_sys::MessageEvent| match message
                .data()
                .as_string()
                .as_deref()
                .and_then(LiveEvent::from_frame)
            {
                Some(event) => drop(tx.unbounded_send(event)),
                None => tx.close_channel(),
            }
        });
        let on_end = Closure::<dyn FnMut()>::new(move || tx.close_channel());
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_end.as_ref().unchecked_ref()));
        socket.set_onerror(Some(on_end.as_ref().unchecked_ref()));
        Some(Channel {
            socket,
            events,
            _on_message: on_message,
            _on_end: on_end,
        })
    }
}

#[cfg(feature = "hydrate")]
impl Channel {
    fn send(&self, text: &str) {
        let _ = self.socket.send_with_str(text);
    }
}

#[cfg(feature = "hydrate")]
impl Drop for Channel {
    fn drop(&mut self) {
        // nothing may call the handlers once they are dropped with this
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let _ = self.socket.close();
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

/// A page's data for the key (region, query, id…) in the URL.
pub struct PageData<K: Send + Sync + 'static, T: Send + Sync + 'static> {
    /// the load for the current key: server-rendered; the page's `Suspend` awaits it, so only
    /// a new key (navigation) rebuilds the view
    pub first: FirstLoad<T>,
    /// the latest data for the current key: `first`, or what a live change brought since
    pub current: Memo<Option<T>>,
    _key: std::marker::PhantomData<K>,
}

impl<K: Send + Sync + 'static, T: Send + Sync + 'static> Clone for PageData<K, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: Send + Sync + 'static, T: Send + Sync + 'static> Copy for PageData<K, T> {}

impl<K: Send + Sync + 'static, T: Clone + PartialEq + Send + Sync + 'static> PageData<K, T> {
    /// Reads a part of the latest data (the default while there is none).
    pub fn with<R: Default>(&self, part: impl FnOnce(&T) -> R) -> R {
        self.current
            .with(|d| d.as_ref().map(part).unwrap_or_default())
    }
}

/// What a page's data follows on the live channel: the changes `interest` concerns (given
/// the key, and the data once loaded); `apply` takes an HAVIP's change in place where it can,
/// else (and for every other change) the data is loaded again.
pub struct Watch<K, T> {
    pub interest: fn(&K, Option<&T>) -> Interest,
    pub apply: Option<fn(&mut T, &K, &RowChange) -> Applied>,
}

impl<K, T> Watch<K, T> {
    /// Loads the data again for every change `interest` concerns.
    pub fn reload(interest: fn(&K, Option<&T>) -> Interest) -> Watch<K, T> {
        Watch {
            interest,
            apply: None,
        }
    }
}

/// Loads a page's data for `key` and keeps it current with the live channel.
pub fn page_data<K, T, Fut>(
    key: impl Fn() -> K + Clone + Send + Sync + 'static,
    fetch: impl Fn(K) -> Fut + Clone + Send + Sync + 'static,
    watch: Watch<K, T>,
) -> PageData<K, T>
where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let live = use_live();
    let first = FirstLoad::new(key.clone(), fetch.clone());
    // (key, tick it was fetched for, data) of the latest live refetch or applied change
    let fresh = RwSignal::new(None::<(K, u64, T)>);
    // this page's own reloads (a change it cannot apply), beside every page's `live.tick`
    let own = RwSignal::new(0u64);
    // refetches under way: a change arriving meanwhile asks for one more, not applied to data
    // the refetch will replace
    let loading = StoredValue::new(0u32);
    Effect::new({
        let key = key.clone();
        move |seen: Option<u64>| {
            let tick = live.tick.get() + own.get();
            if seen.is_some_and(|s| s != tick) {
                let (key, fetch) = (untrack(&key), fetch.clone());
                loading.update_value(|n| *n += 1);
                leptos::task::spawn_local(async move {
                    let data = fetch(key.clone()).await;
                    loading.update_value(|n| *n -= 1);
                    if let Ok(data) = data {
                        // an answer to an older refetch never replaces a newer one
                        if fresh.with_untracked(|f| f.as_ref().is_none_or(|(_, t, _)| *t < tick)) {
                            fresh.set(Some((key, tick, data)));
                        }
                    }
                });
            }
            tick
        }
    });
    // a new key starts from its own first load (going back to an older key must not show what
    // a refetch brought for it long ago)
    Effect::new({
        let key = key.clone();
        move |before: Option<K>| {
            let now = key();
            if before.is_some_and(|b| b != now) {
                fresh.set(None);
            }
            now
        }
    });
    let current = Memo::new({
        let key = key.clone();
        move |_| {
            let key = key();
            let first = first.get().and_then(Result::ok);
            match fresh.get() {
                Some((k, _, data)) if k == key => Some(data),
                _ => first,
            }
        }
    });
    follow(key, current, fresh, own, loading, watch);
    PageData {
        first,
        current,
        _key: std::marker::PhantomData,
    }
}

/// Hooks the page's data to the live channel (in the browser, for as long as the page shows).
#[allow(unused_variables)]
fn follow<K, T>(
    key: impl Fn() -> K + Clone + Send + Sync + 'static,
    current: Memo<Option<T>>,
    fresh: RwSignal<Option<(K, u64, T)>>,
    own: RwSignal<u64>,
    loading: StoredValue<u32>,
    watch: Watch<K, T>,
) where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + PartialEq + Send + Sync + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        let Watch { interest, apply } = watch;
        let interest_now = {
            let key = key.clone();
            Memo::new(move |_| current.with(|data| interest(&key(), data.as_ref())))
        };
        let on_change = move |_: &crate::api::live::About, row: Option<&RowChange>| {
            let reload = || own.update(|n| *n += 1);
            let (Some(apply), Some(row)) = (apply, row) else {
                return reload();
            };
            if loading.get_value() > 0 {
                return reload();
            }
            let key = untrack(&key);
            let Some(mut data) = current.get_untracked() else {
                return reload();
            };
            match apply(&mut data, &key, row) {
                Applied::Done => {
                    let tick = fresh.with_untracked(|f| f.as_ref().map_or(0, |(_, t, _)| *t));
                    fresh.set(Some((key, tick, data)));
                }
                Applied::Reload => reload(),
            }
        };
        let id = hooks::add(interest_now.get_untracked(), std::rc::Rc::new(on_change));
        Effect::new(move |_| hooks::set_interest(id, interest_now.get()));
        on_cleanup(move || hooks::remove(id));
    }
}
