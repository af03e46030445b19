//! The browser's live channel: a websocket at `LIVE_PATH` that pushes every change of the
//! store a page shows, one JSON text frame per `LiveEvent` (the console's `live_ws` serves
//! it, fed by `hub`; the page's `ui::live` reads it).
//!
//! The page says what it shows (`PageMessage::Watch`, one `Interest` per part of the page);
//! until it does, it is sent every change. A change of an HAVIP carries its row as the list
//! shows it (`RowChange`), which the list applies in place; other pages load their data again
//! for a change that concerns them. Every change is numbered (`seq`, per console process, see
//! `Store::change_mark`); a page that may have missed one loads its data again. A browser that
//! falls behind is disconnected (it reconnects and resyncs); it never slows the others down.

#[cfg(feature = "ssr")]
pub mod hub;

use crate::domain::ids::{HavipId, RegionId};
use crate::domain::list_changes::RowChange;
use serde::{Deserialize, Serialize};

/// Where pages open the live channel.
pub const LIVE_PATH: &str = "/api/live_events";
/// Parts of one page that say what they show (the HAVIP detail page has two).
pub const MAX_INTERESTS: usize = 4;

/// What kind of thing a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Topic {
    /// an HAVIP: its record, its binding, its history
    Havips,
    /// regions, VPCs and subnets (sent as of no region: every page of one region also lists
    /// all regions)
    Network,
    /// registered instances and discovered stations
    Instances,
    /// agents, and whether they are connected
    Agents,
    Eips,
    /// users, their sessions and API keys
    Users,
    /// alert rules and deliveries
    Alerts,
}

impl Topic {
    pub const ALL: [Topic; 7] = [
        Topic::Havips,
        Topic::Network,
        Topic::Instances,
        Topic::Agents,
        Topic::Eips,
        Topic::Users,
        Topic::Alerts,
    ];
}

/// What one change is about: its topic, and its region and HAVIP where it has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct About {
    pub topic: Topic,
    pub region_id: Option<RegionId>,
    pub havip_id: Option<HavipId>,
}

/// What a part of a page shows: changes of these topics, of this region and this HAVIP when
/// named (a change of no region, or of no HAVIP, concerns every page of its topic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    pub topics: Vec<Topic>,
    pub region_id: Option<RegionId>,
    pub havip_id: Option<HavipId>,
}

impl Interest {
    pub fn new(topics: &[Topic]) -> Interest {
        Interest {
            topics: topics.to_vec(),
            region_id: None,
            havip_id: None,
        }
    }

    /// Every change (the audit log shows them all).
    pub fn everything() -> Interest {
        Interest::new(&Topic::ALL)
    }

    pub fn in_region(mut self, region_id: Option<RegionId>) -> Interest {
        self.region_id = region_id;
        self
    }

    pub fn of_havip(mut self, havip_id: Option<HavipId>) -> Interest {
        self.havip_id = havip_id;
        self
    }

    /// The one rule of who is sent what: the server filters by it, the page again.
    pub fn concerns(&self, about: &About) -> bool {
        self.topics.contains(&about.topic)
            && same(&self.region_id, &about.region_id)
            && same(&self.havip_id, &about.havip_id)
    }
}

/// Either side names none, or both the same.
fn same<T: PartialEq>(mine: &Option<T>, its: &Option<T>) -> bool {
    mine.is_none() || its.is_none() || mine == its
}

/// Server → page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiveEvent {
    /// First message after (re)connecting: the number of the last change before this
    /// channel's first one, in the console process `epoch`. A page whose data is from that
    /// change or later missed nothing; any other must reload. `bundle` is the directory the
    /// server's site files are in (it changes with every build): a page from another build
    /// cannot load its lazy chunks any more.
    Hello {
        epoch: u64,
        seq: u64,
        bundle: String,
    },
    /// The page's `Watch` holds from the change after `seq` on; changes up to `seq` were
    /// filtered by what it watched before (a page whose data is older reloads).
    Watching { seq: u64 },
    /// Change number `seq`; an HAVIP's carries its row (`None` if it could not be read: the
    /// page reloads).
    Change {
        seq: u64,
        about: About,
        row: Option<Box<RowChange>>,
    },
    /// Changes up to `seq` were not all sent (the console fell behind): reload.
    Resync { seq: u64 },
}

impl LiveEvent {
    /// The text frame that carries the event: its JSON, e.g. `{"Watching":{"seq":7}}`.
    pub fn to_frame(&self) -> String {
        serde_json::to_string(self).expect("live events serialize")
    }

    /// The event a text frame carries; `None` for anything else. Read as bytes, as the server
    /// functions' answers are: the rows' deserializers are then built once in the browser.
    pub fn from_frame(text: &str) -> Option<LiveEvent> {
        serde_json::from_slice(text.as_bytes()).ok()
    }
}

/// Page → server: the only message the channel takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageMessage {
    /// From now on, send only the changes these concern (at most `MAX_INTERESTS`).
    Watch(Vec<Interest>),
}

impl PageMessage {
    pub fn to_frame(&self) -> String {
        serde_json::to_string(self).expect("page messages serialize")
    }

    /// The message a text frame carries; `None` for anything else, or too many interests.
    pub fn from_frame(text: &str) -> Option<PageMessage> {
        let message: PageMessage = serde_json::from_str(text).ok()?;
        let PageMessage::Watch(interests) = &message;
        (interests.len() <= MAX_INTERESTS).then_some(message)
    }
}

#[cfg(test)]
mod tests;
