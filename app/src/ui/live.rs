//! The page's live connection and how pages load their data.
//!
//! One websocket per open console (`Channel`, reading the frames `api::live` defines). Every
//! change the server pushes bumps `tick`; `connected`
//! drives the indicator in the top bar. The server-rendered page carries the mark of the change
//! stream it was rendered at (`<meta name="havip-mark">`); the first `Hello` with the same mark
//! means nothing changed in between, so hydration does not reload anything. After a drop the
//! channel reconnects, and reloads only if changes were missed meanwhile.
//!
//! Pages load their data with `page_data`: the first load is server-rendered and is what the
//! page's view is built from (only navigation rebuilds it); live changes refetch in the browser
//! into `current`, which the changing parts of the view read, so typed input survives.

use crate::domain::error::ApiError;
use crate::ui::first_load::FirstLoad;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

#[derive(Clone, Copy)]
pub struct Live {
    pub connected: RwSignal<bool>,
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
    use futures::StreamExt;
    // the login and set-up pages have nothing live (and no session to open the channel with)
    let path = window().location().pathname().unwrap_or_default();
    if path.starts_with("/login") || path.starts_with("/setup") {
        return;
    }
    // the mark of the data on screen: where the stream stood when it was loaded, advanced by
    // every change received since
    let mut shown = rendered_mark();
    let built = page_bundle();
    let mut backoff_ms = 250u32;
    loop {
        if let Some(mut channel) = Channel::open() {
            while let Some(event) = channel.events.next().await {
                match event {
                    LiveEvent::Hello { epoch, seq, bundle } => {
                        live.connected.set(true);
                        // the page's code is from another build: its lazy chunks are gone
                        if built.as_ref().is_some_and(|b| *b != bundle) {
                            live.outdated.set(true);
                        }
                        backoff_ms = 250;
                        if shown != Some((epoch, seq)) {
                            live.refresh();
                        }
                        shown = Some((epoch, seq));
                    }
                    LiveEvent::Changed { .. } => {
                        shown = shown.map(|(epoch, seq)| (epoch, seq + 1));
                        live.refresh();
                    }
                }
            }
        }
        live.connected.set(false);
        gloo_sleep(backoff_ms).await;
        backoff_ms = (backoff_ms * 2).min(5_000);
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

/// Loads a page's data for `key` and keeps it current with the live channel.
pub fn page_data<K, T, Fut>(
    key: impl Fn() -> K + Clone + Send + Sync + 'static,
    fetch: impl Fn(K) -> Fut + Clone + Send + Sync + 'static,
) -> PageData<K, T>
where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let live = use_live();
    let first = FirstLoad::new(key.clone(), fetch.clone());
    // (key, tick it was fetched for, data) of the latest live refetch
    let fresh = RwSignal::new(None::<(K, u64, T)>);
    Effect::new({
        let key = key.clone();
        move |seen: Option<u64>| {
            let tick = live.tick.get();
            if seen.is_some_and(|s| s != tick) {
                let (key, fetch) = (untrack(&key), fetch.clone());
                leptos::task::spawn_local(async move {
                    if let Ok(data) = fetch(key.clone()).await {
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
    let current = Memo::new(move |_| {
        let key = key();
        let first = first.get().and_then(Result::ok);
        match fresh.get() {
            Some((k, _, data)) if k == key => Some(data),
            _ => first,
        }
    });
    PageData {
        first,
        current,
        _key: std::marker::PhantomData,
    }
}
