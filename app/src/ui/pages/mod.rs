pub mod agents;
pub mod detail;
pub mod havips;
pub mod networks;
