//! The browser's live channel: a websocket at `LIVE_PATH` that pushes every change of the
//! store, one JSON text frame per `LiveEvent` (the console's `live_ws` upgrades it and sends
//! the frames; the page's `ui::live` reads them). A browser that falls behind is disconnected
//! (it reconnects and resyncs); it never slows the others down.

use crate::domain::ids::{HavipId, RegionId};
use serde::{Deserialize, Serialize};

/// Where pages open the live channel.
pub const LIVE_PATH: &str = "/api/live_events";

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

impl LiveEvent {
    /// The text frame that carries the event: its JSON, e.g.
    /// `{"Changed":{"region_id":"region-…","havip_id":null,"at_ms":…}}`.
    pub fn to_frame(&self) -> String {
        serde_json::to_string(self).expect("live events serialize")
    }

    /// The event a text frame carries; `None` for anything else.
    pub fn from_frame(text: &str) -> Option<LiveEvent> {
        serde_json::from_str(text).ok()
    }
}

/// What a browser's live channel carries: `Hello` with where the stream
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

#[cfg(test)]
mod tests {
    use super::LiveEvent;

    #[test]
    fn the_frame_format_is_the_events_json() {
        let hello = LiveEvent::Hello {
            epoch: 7,
            seq: 42,
            bundle: "pkg/0123456789abcdef".into(),
        };
        let text = hello.to_frame();
        assert_eq!(
            text,
            r#"{"Hello":{"epoch":7,"seq":42,"bundle":"pkg/0123456789abcdef"}}"#
        );
        assert_eq!(LiveEvent::from_frame(&text), Some(hello));
        let changed = LiveEvent::Changed {
            region_id: None,
            havip_id: None,
            at_ms: 1,
        };
        assert_eq!(
            changed.to_frame(),
            r#"{"Changed":{"region_id":null,"havip_id":null,"at_ms":1}}"#
        );
        assert_eq!(LiveEvent::from_frame("\0{}"), None);
    }
}
