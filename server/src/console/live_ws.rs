//! `GET /api/live_events`: the browser's live channel (`app::api::live`), its one
//! implementation. Its buffers are small (the websocket library's defaults are a 128 KiB read
//! buffer per socket, zero-filled on the first read: 1,000 open pages held 130 to 220 MiB): it
//! reads nothing larger than a `Watch`.
//!
//! It greets the page (`Hello`), then sends each frame the hub made that the page's interests
//! concern (all of them until the page says what it shows). The page's only message is
//! `Watch`, answered with `Watching`; any other message ends the channel, as does the console
//! stopping ("going away"); the page reconnects with back-off and resyncs. The channel ends
//! with its session: at logout, when its user is disabled, deleted or given a new password, or
//! when an admin ends their sessions, it closes with 1008 ("policy violation"); reconnecting
//! needs a new login.

use crate::console::refusal::Refusal;
use app::api::live::hub::LiveHub;
use app::api::live::{Interest, LiveEvent, PageMessage};
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

/// Enough for a `Watch`; anything larger from a browser ends the channel.
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
    State((store, hub)): State<(Store, LiveHub)>,
    session: Option<Extension<SessionKey>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some(Extension(session)) = session else {
        return Refusal(ApiError::unauthorized(app::i18n::m::errors::LOG_IN_FIRST)).into_response();
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return Refusal(ApiError::malformed(e.body_text())).into_response(),
    };
    let open = match store.live_socket_opened(&session.0) {
        Ok(open) => open,
        Err(e) => return Refusal(e).into_response(),
    };
    let bundle = crate::console::assets::bundle_dir().to_string();
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(READ_BUFFER_BYTES)
        .max_frame_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            let _open = open;
            serve(socket, store, hub, session, bundle).await
        })
}

type ToPage = futures::stream::SplitSink<WebSocket, Message>;

/// Sends one text frame; false if the page did not take it in `SEND_TIMEOUT` or is gone.
async fn send(to_page: &mut ToPage, text: String) -> bool {
    let sent = to_page.send(Message::Text(text.into()));
    matches!(tokio::time::timeout(SEND_TIMEOUT, sent).await, Ok(Ok(())))
}

async fn serve(socket: WebSocket, store: Store, hub: LiveHub, session: SessionKey, bundle: String) {
    let (mut to_page, mut from_page) = socket.split();
    // subscribe before greeting: a change in between is sent (and skipped by the page), never
    // missed
    let (mut frames, hello) = hub.subscribe(bundle);
    let mut last = match hello {
        LiveEvent::Hello { seq, .. } => seq,
        _ => 0,
    };
    if !send(&mut to_page, hello.to_frame()).await {
        return;
    }
    // None: the page has not said what it shows, so it is sent everything
    let mut interests: Option<Vec<Interest>> = None;
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
            message = from_page.next() => match message {
                Some(Ok(Message::Text(text))) => match PageMessage::from_frame(&text) {
                    Some(PageMessage::Watch(watch)) => {
                        interests = Some(watch);
                        let watching = LiveEvent::Watching { seq: last };
                        if !send(&mut to_page, watching.to_frame()).await {
                            return;
                        }
                    }
                    None => break (1003, "the live channel takes only Watch messages"),
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                // anything else (or the page going away) ends it
                _ => return,
            },
            change = changes.recv() => {
                let users = matches!(change, Ok(StoreChange::Users | StoreChange::Resync) | Err(RecvError::Lagged(_)));
                if users && !alive() {
                    break (SESSION_ENDED, "the session ended; log in again");
                }
            }
            // 1001 "going away": the console is stopping
            _ = store.closing() => break (1001, "the console is shutting down; reconnect shortly"),
            _ = every.tick() => if !alive() {
                break (SESSION_ENDED, "the session ended; log in again");
            },
            frame = frames.recv() => match frame {
                Ok(frame) => {
                    if frame.seq <= last && frame.about.is_some() {
                        continue;
                    }
                    last = last.max(frame.seq);
                    let wanted = match (&frame.about, &interests) {
                        (Some(about), Some(interests)) => interests.iter().any(|i| i.concerns(about)),
                        _ => true,
                    };
                    if wanted && !send(&mut to_page, frame.text.to_string()).await {
                        return;
                    }
                }
                // 1013 "try again later": the page fell too far behind
                Err(_) => break (1013, "too far behind; reconnect and reload"),
            },
        }
    };
    let close = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = to_page.send(Message::Close(Some(close))).await;
}
