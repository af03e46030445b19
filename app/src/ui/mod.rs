pub mod allowed_holders;
pub mod components;
pub mod dialogs;
pub mod ha_config;
pub mod live;
pub mod pages;
pub mod routes;
pub mod timeline;
