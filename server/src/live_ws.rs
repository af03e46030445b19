//! `GET /api/live_events`: the browser's live channel (`app::api::live`), upgraded here rather
//! than by leptos' server-function handler, which takes the websocket library's defaults: a
//! 128 KiB read buffer per socket, zero-filled on the first read (1,000 open pages held 130 to
//! 220 MiB). This channel never reads more than a close frame, so its buffers are small.
//!
//! The frames are those of the `live_events` server function, which the page's client decodes:
//! binary, a 0 byte (server_fn 0.8's tag for an `Ok` item), then the event's JSON. Any message
//! from the browser ends the channel, as does the console stopping ("going away"); the page
//! reconnects with back-off and resyncs.

use crate::rest::Refusal;
use app::api::live::{live_stream, LiveEvent};
use app::domain::auth::SessionKey;
use app::domain::error::ApiError;
use app::store::Store;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::{SinkExt, StreamExt};
use std::time::Duration;

/// Enough for a close frame; anything larger from a browser ends the channel all the same.
const READ_BUFFER_BYTES: usize = 1024;
/// A page that stops reading gets this long per event, then its channel ends.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The access guard has let only a logged-in user with a session through (any role may watch).
pub async fn upgrade(
    State(store): State<Store>,
    session: Option<Extension<SessionKey>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some(Extension(session)) = session else {
        return Refusal(ApiError::unauthorized("Log in first.")).into_response();
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return Refusal(ApiError::malformed(e.body_text())).into_response(),
    };
    let open = match store.live_socket_opened(&session.0) {
        Ok(open) => open,
        Err(e) => return Refusal(e).into_response(),
    };
    let events = live_stream(
        store.clone(),
        open,
        crate::embedded::bundle_dir().to_string(),
    );
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(READ_BUFFER_BYTES)
        .max_frame_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(socket, store, events))
}

/// The frame the page's server-function client expects for one event.
pub fn frame(event: &LiveEvent) -> Vec<u8> {
    let mut bytes = vec![0];
    serde_json::to_writer(&mut bytes, event).expect("live events serialize");
    bytes
}

async fn serve(socket: WebSocket, store: Store, events: impl futures::Stream<Item = LiveEvent>) {
    let (mut to_page, mut from_page) = socket.split();
    let mut events = Box::pin(events);
    loop {
        tokio::select! {
            // the channel takes no input: any message (or the page going away) ends it
            _ = from_page.next() => return,
            event = events.next() => match event {
                Some(event) => {
                    let sent = to_page.send(Message::Binary(frame(&event).into()));
                    if !matches!(tokio::time::timeout(SEND_TIMEOUT, sent).await, Ok(Ok(()))) {
                        return;
                    }
                }
                // the console is stopping, or the page fell too far behind
                None => break,
            },
        }
    }
    // 1001 "going away" / 1013 "try again later"
    let (code, reason) = if store.is_closing() {
        (1001, "the console is shutting down; reconnect shortly")
    } else {
        (1013, "too far behind; reconnect and reload")
    };
    let close = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = to_page.send(Message::Close(Some(close))).await;
}
