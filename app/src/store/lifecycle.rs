//! Shutting down: `havip serve` tells the store it is closing, every open websocket (agents and
//! browsers) hears it and closes with a reason, and the server waits a bounded time for them.

use super::{lock, Store};
use crate::domain::error::ApiError;
use crate::i18n::{m, Text};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Live channels one browser session may hold open at once (a page holds one; tabs add up).
pub const MAX_LIVE_PER_SESSION: usize = 16;

/// Held by each open websocket session; counts it as open until dropped.
pub struct OpenSocket {
    store: Store,
    /// the browser session it counts against, if any
    session: Option<String>,
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.store.inner.open_sockets.fetch_sub(1, Ordering::SeqCst);
        if let Some(key) = &self.session {
            let mut open = lock(&self.store.inner.live_per_session);
            if let Some(n) = open.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

impl Store {
    /// From now on, `closing()` is ready: websockets close, asking their peers to come back.
    pub fn begin_shutdown(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Whether the console is shutting down.
    pub fn is_closing(&self) -> bool {
        *self.inner.closing.borrow()
    }

    /// Ready once the console is shutting down.
    pub async fn closing(&self) {
        let mut closing = self.inner.closing.subscribe();
        // the sender lives as long as the store, so this only returns once closing
        let _ = closing.wait_for(|c| *c).await;
    }

    pub fn socket_opened(&self) -> OpenSocket {
        self.inner.open_sockets.fetch_add(1, Ordering::SeqCst);
        OpenSocket {
            store: self.clone(),
            session: None,
        }
    }

    /// A browser's live channel, counted against its session: refused past
    /// `MAX_LIVE_PER_SESSION`, so one session cannot hold the console's sockets.
    pub fn live_socket_opened(&self, session: &str) -> Result<OpenSocket, ApiError> {
        let mut open = lock(&self.inner.live_per_session);
        let n = open.entry(session.to_string()).or_insert(0);
        if *n >= MAX_LIVE_PER_SESSION {
            return Err(ApiError::too_many(
                Text::new(m::errors_store::TOO_MANY_LIVE).arg("max", MAX_LIVE_PER_SESSION),
            ));
        }
        *n += 1;
        drop(open);
        let mut socket = self.socket_opened();
        socket.session = Some(session.to_string());
        Ok(socket)
    }

    /// Waits until every websocket session has ended, at most `within`; false if some had not.
    pub async fn sockets_closed(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while self.inner.open_sockets.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}
