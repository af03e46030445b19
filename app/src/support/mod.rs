//! Small general helpers the store and the server share: the clock, secrets, locks and memory.
//! Nothing here knows about HAVIPs.

mod clock;
mod memory;
mod secrets;
mod sync;
mod zones;

pub use clock::now_ms;
pub use memory::give_back_freed_memory;
pub use secrets::{same_secret, sha256_hex};
pub use sync::lock;
pub use zones::{zone, zone_names};
