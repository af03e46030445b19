//! `GET /api/live_events`: the browser's live channel (`app::api::live`), its one
//! implementation. Its buffers are small (the websocket library's defaults are a 128 KiB read
//! buffer per socket, zero-filled on the first read: 1,000 open pages held 130 to 220 MiB): it
//! never reads more than a close frame.
//!
//! Each event is one text frame, its JSON (`LiveEvent::to_frame`). Any message from the
//! browser ends the channel, as does the console stopping ("going away"); the page
//! reconnects with back-off and resyncs. The channel ends with its session: at logout, when
//! its user is disabled, deleted or given a new password, or when an admin ends their
//! sessions, it closes with 1008 ("policy violation"); reconnecting needs a new login.

use crate::console::refusal::Refusal;
use app::api::live::{live_stream, LiveEvent};
use app::domain::auth::SessionKey;
use app::domain::error::ApiError;
use app::store::{Store, StoreChange};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Enough for a close frame; anything larger from a browser ends the channel all the same.
const READ_BUFFER_BYTES: usize = 1024;
/// A page that stops reading gets this long per event, then its channel ends.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Besides at every change of users and sessions, the session is checked this often (it may
/// also end by expiring).
const SESSION_CHECK: Duration = Duration::from_secs(60);
/// The close code for a channel whose session ended.
pub const SESSION_ENDED: u16 = 1008;

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
        crate::console::assets::bundle_dir().to_string(),
    );
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(READ_BUFFER_BYTES)
        .max_frame_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(socket, store, session, events))
}

async fn serve(
    socket: WebSocket,
    store: Store,
    session: SessionKey,
    events: impl futures::Stream<Item = LiveEvent>,
) {
    let (mut to_page, mut from_page) = socket.split();
    let mut events = Box::pin(events);
    let mut changes = store.subscribe();
    let mut every = tokio::time::interval(SESSION_CHECK);
    let alive = || {
        matches!(
            store.session_alive(&session.0, app::support::now_ms()),
            Ok(true)
        )
    };
    let (code, reason) = loop {
        tokio::select! {
            // the channel takes no input: any message (or the page going away) ends it
            _ = from_page.next() => return,
            change = changes.recv() => {
                let users = matches!(change, Ok(StoreChange::Users) | Err(RecvError::Lagged(_)));
                if users && !alive() {
                    break (SESSION_ENDED, "the session ended; log in again");
                }
            }
            _ = every.tick() => if !alive() {
                break (SESSION_ENDED, "the session ended; log in again");
            },
            event = events.next() => match event {
                Some(event) => {
                    let sent = to_page.send(Message::Text(event.to_frame().into()));
                    if !matches!(tokio::time::timeout(SEND_TIMEOUT, sent).await, Ok(Ok(()))) {
                        return;
                    }
                }
                // 1001 "going away": the console is stopping; 1013 "try again later": the
                // page fell too far behind
                None if store.is_closing() => {
                    break (1001, "the console is shutting down; reconnect shortly")
                }
                None => break (1013, "too far behind; reconnect and reload"),
            },
        }
    };
    let close = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = to_page.send(Message::Close(Some(close))).await;
}
