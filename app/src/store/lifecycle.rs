//! Shutting down: `havip serve` tells the store it is closing, every open websocket (agents and
//! browsers) hears it and closes with a reason, and the server waits a bounded time for them.

use super::Store;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Held by each open websocket session; counts it as open until dropped.
pub struct OpenSocket(Store);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.inner.open_sockets.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Store {
    /// From now on, `closing()` is ready: websockets close, asking their peers to come back.
    pub fn begin_shutdown(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Ready once the console is shutting down.
    pub async fn closing(&self) {
        let mut closing = self.inner.closing.subscribe();
        // the sender lives as long as the store, so this only returns once closing
        let _ = closing.wait_for(|c| *c).await;
    }

    pub fn socket_opened(&self) -> OpenSocket {
        self.inner.open_sockets.fetch_add(1, Ordering::SeqCst);
        OpenSocket(self.clone())
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
