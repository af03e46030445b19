pub mod agents;
pub mod havips;
pub mod networks;
