#![recursion_limit = "256"]
//! The `havip` server: everything the binary runs, by part.
//!
//! - `console/`: the web console (`havip serve`): router, access control, login, assets,
//!   health, metrics, REST, the browsers' and the agents' websockets, the accept loop;
//! - `agent/`: the ARP agent (`havip agent`) and the protocol it speaks with the console;
//! - `tcapi/`: the Tencent Cloud API 3.0 compatible endpoint;
//! - `alerts/`: webhooks and hooks raised by the store's alerts;
//! - `cli/`: the other commands (`user`, `key`, `check`, `backup`, `restore`);
//! - `command`, `config`, `logs`: the command line, its TOML file, where lines go;
//! - `tls`: certificates for the console and the agent's client;
//! - `tests/`: the tests that drive the real router (the binary's own in `server/tests/`).
//!
//! The domain rules, the store and the pages are the `app` crate's.

pub mod agent;
pub mod alerts;
pub mod cli;
pub mod command;
pub mod config;
pub mod console;
pub mod logs;
pub mod tcapi;
pub mod tls;

#[cfg(test)]
mod tests;
