//! Pure types and rules of the console. Compiles to both targets: the browser runs these checks
//! for instant feedback, the server runs them again before writing (the server is the authority).

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod binding;
pub mod cidr;
pub mod error;
pub mod haconfig;
pub mod ids;
pub mod ip;
pub mod list_changes;
pub mod listing;
pub mod mac;
pub mod model;
pub mod name;
pub mod pages;
pub mod sso;
pub mod timeline;
pub mod vrrp;
pub mod zone;

/// Default number of HAVIPs a VPC may hold.
pub const DEFAULT_HAVIP_QUOTA_PER_VPC: u32 = 10;
