//! The browser's live channel: a websocket server function that pushes every change of the
//! store. A browser that falls behind is disconnected (it reconnects and resyncs); it never
//! slows the others down.

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
    /// other must reload.
    Hello { epoch: u64, seq: u64 },
    /// Something changed (an HAVIP, its binding, the network); `region_id` is None for changes
    /// that belong to no region (agents, EIPs).
    Changed {
        region_id: Option<RegionId>,
        havip_id: Option<HavipId>,
        at_ms: u64,
    },
}

#[server(protocol = Websocket<JsonEncoding, JsonEncoding>, endpoint = "live_events")]
pub async fn live_events(
    input: BoxedStream<String, ServerFnError>,
) -> Result<BoxedStream<LiveEvent, ServerFnError>, ServerFnError> {
    use crate::store::StoreChange;
    use futures::{channel::mpsc, SinkExt, StreamExt};
    use tokio::sync::broadcast::error::RecvError;

    let store = super::store(Role::Viewer).map_err(|e| ServerFnError::new(e.message))?;
    let session = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionKey>().cloned())
        .ok_or_else(|| ServerFnError::new("Log in first."))?;
    let open = store.live_socket_opened(&session.0).map_err(|e| {
        // the refusal's status (429) goes on the answer, as for every server function
        let shown = super::outgoing(&e);
        ServerFnError::new(shown.message)
    })?;
    // subscribe before reading the sequence: a change between the two is sent, never missed
    let mut changes = store.subscribe();
    let (epoch, seq) = store.change_mark();
    let mut input = input;
    let (mut tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let _open = open;
        if tx.send(Ok(LiveEvent::Hello { epoch, seq })).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                // the browser went away, or sent something: the channel takes no input, so
                // any message (an oversized one included) ends it
                _ = input.next() => break,
                // the console is stopping: end the stream (the socket closes), the page
                // reconnects with back-off and resyncs once the console is back
                _ = store.closing() => break,
                change = changes.recv() => {
                    let at_ms = crate::store::now_ms();
                    let event = match change {
                        Ok(StoreChange::Havip { region_id, havip_id })
                        | Ok(StoreChange::HavipCreated { region_id, havip_id, .. })
                        | Ok(StoreChange::HavipDeleted { region_id, havip_id, .. }) => {
                            LiveEvent::Changed { region_id: Some(region_id), havip_id: Some(havip_id), at_ms }
                        }
                        Ok(StoreChange::Network { region_id } | StoreChange::Instances { region_id }) => {
                            LiveEvent::Changed { region_id: Some(region_id), havip_id: None, at_ms }
                        }
                        Ok(StoreChange::Agents | StoreChange::Eips | StoreChange::Users | StoreChange::Alerts) => {
                            LiveEvent::Changed { region_id: None, havip_id: None, at_ms }
                        }
                        // too slow to keep up: drop it; the page reconnects and resyncs
                        Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
                    };
                    // a full per-browser buffer also means "too slow": never wait for it
                    if tx.try_send(Ok(event)).is_err() {
                        break;
                    }
                }
            }
        }
    });
    Ok(rx.into())
}
