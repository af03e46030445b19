//! The browser's live channel: a websocket that pushes every change of the store. A browser
//! that falls behind is disconnected (it reconnects and resyncs); it never slows the others
//! down. Pages call it as the `live_events` server function; the console serves that path with
//! its own upgrade (`live_stream` is the channel either way).

#[cfg(feature = "ssr")]
use crate::domain::auth::{Role, SessionKey};
use crate::domain::ids::{HavipId, RegionId};
use leptos::prelude::*;
use leptos::server_fn::{codec::JsonEncoding, BoxedStream, Websocket};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiveEvent {
    /// First message after (re)connecting, with where the server's stream of changes stands
    /// (`Store::change_mark`): a page whose data is from that same mark missed nothing; any
    /// other must reload. `bundle` is the directory the server's site files are in (it changes
    /// with every build): a page from another build cannot load its lazy chunks any more.
    Hello {
        epoch: u64,
        seq: u64,
        bundle: String,
    },
    /// Something changed (an HAVIP, its binding, the network); `region_id` is None for changes
    /// that belong to no region (agents, EIPs).
    Changed {
        region_id: Option<RegionId>,
        havip_id: Option<HavipId>,
        at_ms: u64,
    },
}

/// The live channel. Browsers reach it through this function's client; the console answers
/// `GET /api/live_events` with its own websocket upgrade (see the server's `live_ws`), which
/// sends the same frames with small buffers. Both run `live_stream`.
#[server(protocol = Websocket<JsonEncoding, JsonEncoding>, endpoint = "live_events")]
pub async fn live_events(
    input: BoxedStream<String, ServerFnError>,
) -> Result<BoxedStream<LiveEvent, ServerFnError>, ServerFnError> {
    use futures::{channel::mpsc, StreamExt};

    let store = super::store(Role::Viewer).map_err(|e| ServerFnError::new(e.message))?;
    let session = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionKey>().cloned())
        .ok_or_else(|| ServerFnError::new("Log in first."))?;
    let open = store.live_socket_opened(&session.0).map_err(|e| {
        // the refusal's status (429) goes on the answer, as for every server function
        let shown = super::outgoing(&e);
        ServerFnError::new(shown.message)
    })?;
    let bundle = use_context::<LeptosOptions>()
        .map(|o| o.site_pkg_dir.to_string())
        .unwrap_or_default();
    let mut events = Box::pin(live_stream(store, open, bundle));
    let mut input = input;
    let (mut tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                // the channel takes no input: any message (an oversized one included) ends it
                _ = input.next() => break,
                event = events.next() => match event {
                    // a full per-browser buffer means "too slow": never wait for it
                    Some(event) => if tx.try_send(Ok(event)).is_err() { break },
                    None => break,
                },
            }
        }
    });
    Ok(rx.into())
}

/// What a browser's live channel carries, whatever the transport: `Hello` with where the stream
/// of changes stands and the build's `bundle`, then one `Changed` per change. It ends when the
/// console stops (the page reconnects with back-off and resyncs) or when the browser fell too
/// far behind (the same); `open` counts the channel against its session until then.
#[cfg(feature = "ssr")]
pub fn live_stream(
    store: crate::store::Store,
    open: crate::store::OpenSocket,
    bundle: String,
) -> impl futures::Stream<Item = LiveEvent> + Send {
    use futures::StreamExt;
    // subscribe before reading the sequence: a change between the two is sent, never missed
    let changes = store.subscribe();
    let (epoch, seq) = store.change_mark();
    let hello = LiveEvent::Hello { epoch, seq, bundle };
    let rest = futures::stream::unfold(
        (changes, store, open),
        |(mut changes, store, open)| async move {
            let change = tokio::select! {
                _ = store.closing() => return None,
                // lagged (too slow) or closed: end; the page resyncs
                change = changes.recv() => change.ok()?,
            };
            Some((live_event(change), (changes, store, open)))
        },
    );
    futures::stream::once(async move { hello }).chain(rest)
}

/// How a browser hears of a change: its region (None for changes of no region: agents, EIPs,
/// users, alerts) and HAVIP.
#[cfg(feature = "ssr")]
fn live_event(change: crate::store::StoreChange) -> LiveEvent {
    use crate::store::StoreChange;
    let at_ms = crate::support::now_ms();
    let (region_id, havip_id) = match change {
        StoreChange::Havip {
            region_id,
            havip_id,
        }
        | StoreChange::HavipCreated {
            region_id,
            havip_id,
            ..
        }
        | StoreChange::HavipDeleted {
            region_id,
            havip_id,
            ..
        } => (Some(region_id), Some(havip_id)),
        StoreChange::Network { region_id } | StoreChange::Instances { region_id } => {
            (Some(region_id), None)
        }
        StoreChange::Agents | StoreChange::Eips | StoreChange::Users | StoreChange::Alerts => {
            (None, None)
        }
    };
    LiveEvent::Changed {
        region_id,
        havip_id,
        at_ms,
    }
}
