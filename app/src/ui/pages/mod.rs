pub mod agents;
pub mod detail;
pub mod eips;
pub mod havips;
pub mod instances;
pub mod login;
pub mod networks;
pub mod users;
