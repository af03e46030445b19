//! Where the live channel's frames are made: once per change, whatever the number of open
//! pages. One task reads the store's numbered changes, builds each change's frame (an HAVIP's
//! with its row, 24 hours and region counters) and hands the same frame to every channel,
//! which sends it if the page's interests concern it (`live_ws`). Nothing on the way sleeps,
//! batches or waits on the disk: the store publishes an agent's binding change as soon as it
//! is written, and its flush to disk happens beside the push.

use super::{About, LiveEvent, Topic};
use crate::domain::ids::{HavipId, RegionId};
use crate::domain::list_changes::{Edit, RowChange};
use crate::domain::model::Havip;
use crate::store::{Store, StoreChange};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

/// Frames kept for channels that read slowly; a channel further behind is closed (the page
/// reconnects and reloads).
const BACKLOG: usize = 1024;

/// One change, ready to send.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    /// `None`: for every page (a resync)
    pub about: Option<About>,
    /// the `LiveEvent`'s text frame
    pub text: Arc<str>,
}

#[derive(Clone)]
pub struct LiveHub {
    frames: broadcast::Sender<Arc<Frame>>,
    /// the number of the last frame sent
    seq: Arc<AtomicU64>,
    epoch: u64,
}

impl LiveHub {
    /// Starts the task that makes the frames of `store`'s changes (until the store closes).
    pub fn start(store: Store) -> LiveHub {
        let (from, changes) = store.subscribe_numbered();
        let hub = LiveHub {
            frames: broadcast::channel(BACKLOG).0,
            seq: Arc::new(AtomicU64::new(from)),
            epoch: store.change_mark().0,
        };
        tokio::spawn(hub.clone().run(store, changes, from));
        hub
    }

    /// The frames from now on, and the `Hello` that goes first: every frame received has a
    /// higher number than the greeting's (a frame may come twice, see `send`).
    pub fn subscribe(&self, bundle: String) -> (broadcast::Receiver<Arc<Frame>>, LiveEvent) {
        let frames = self.frames.subscribe();
        let hello = LiveEvent::Hello {
            epoch: self.epoch,
            seq: self.seq.load(Ordering::SeqCst),
            bundle,
        };
        (frames, hello)
    }

    async fn run(self, store: Store, mut changes: broadcast::Receiver<StoreChange>, from: u64) {
        let mut seq = from;
        loop {
            let change = tokio::select! {
                _ = store.closing() => return,
                change = changes.recv() => change,
            };
            match change {
                // no page open: nothing to make (a page opening later is greeted with `seq`)
                Ok(_) if self.frames.receiver_count() == 0 => {
                    seq += 1;
                    self.seq.store(seq, Ordering::SeqCst);
                }
                // another replica's changes were not all heard: every page reloads
                Ok(StoreChange::Resync) => {
                    seq += 1;
                    self.send(seq, None, LiveEvent::Resync { seq });
                }
                Ok(change) => {
                    seq += 1;
                    let (about, row) = describe(&store, change);
                    let event = LiveEvent::Change {
                        seq,
                        about: about.clone(),
                        row: row.map(Box::new),
                    };
                    self.send(seq, Some(about), event);
                }
                // the store's changes came faster than frames were made: every page reloads
                Err(RecvError::Lagged(missed)) => {
                    seq += missed;
                    self.send(seq, None, LiveEvent::Resync { seq });
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    fn send(&self, seq: u64, about: Option<About>, event: LiveEvent) {
        let text = event.to_frame().into();
        // the number first, then the frame: a channel subscribing in between is greeted with
        // this number and also receives this frame, which it skips; never the other way round
        self.seq.store(seq, Ordering::SeqCst);
        let _ = self.frames.send(Arc::new(Frame { seq, about, text }));
    }
}

/// What a change is about, and an HAVIP's row as the list shows it now.
fn describe(store: &Store, change: StoreChange) -> (About, Option<RowChange>) {
    let about = |topic, region_id, havip_id| About {
        topic,
        region_id,
        havip_id,
    };
    match change {
        StoreChange::HavipCreated {
            region_id,
            havip_id,
            ..
        } => edited(store, region_id, havip_id, Edit::Created),
        StoreChange::Havip {
            region_id,
            havip_id,
            renamed,
        } => {
            let edit = if renamed { Edit::Renamed } else { Edit::Other };
            edited(store, region_id, havip_id, edit)
        }
        StoreChange::HavipDeleted {
            region_id,
            havip_id,
            havip,
            ..
        } => {
            let removed = store.row(&havip).ok().map(|row| RowChange::Removed {
                row: Box::new(row),
                counters: store.region_counters(&region_id),
            });
            (
                about(Topic::Havips, Some(region_id), Some(havip_id)),
                removed,
            )
        }
        // every page that shows one region also lists all regions (its region selector)
        StoreChange::Network { .. } => (about(Topic::Network, None, None), None),
        StoreChange::Instances { region_id } => {
            (about(Topic::Instances, Some(region_id), None), None)
        }
        StoreChange::Agents => (about(Topic::Agents, None, None), None),
        StoreChange::Eips => (about(Topic::Eips, None, None), None),
        StoreChange::Users => (about(Topic::Users, None, None), None),
        StoreChange::Alerts => (about(Topic::Alerts, None, None), None),
        StoreChange::Resync => unreachable!("a resync is sent as one, not described"),
    }
}

/// An HAVIP created or changed, with its row as it is now (`None` if it is gone meanwhile).
fn edited(
    store: &Store,
    region_id: RegionId,
    havip_id: HavipId,
    edit: Edit,
) -> (About, Option<RowChange>) {
    let row = store
        .havip(&havip_id)
        .ok()
        .and_then(|h| row(store, &h, edit));
    let about = About {
        topic: Topic::Havips,
        region_id: Some(region_id),
        havip_id: Some(havip_id),
    };
    (about, row)
}

fn row(store: &Store, havip: &Havip, edit: Edit) -> Option<RowChange> {
    let spark = store.spark(havip, crate::support::now_ms()).ok()?;
    Some(RowChange::Row {
        row: Box::new(store.row(havip).ok()?),
        spark,
        counters: store.region_counters(&havip.region_id),
        edit,
    })
}
