pub mod havips;
pub mod networks;
