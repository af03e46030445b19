//! The web console: `havip serve`. Its router and start-up (`serve`), who may use it
//! (`access`: the guard on every request, sessions and cookies, hardening headers; `login`: the
//! login, logout and set-up pages with their back-off), the error every refusal becomes
//! (`refusal::Refusal`), the site's files (`assets`), health and metrics, the REST API, the two
//! websockets (browsers' `live_ws`, agents' `agent_ws`), the request log, the accept loop
//! (`listener`) and the online backup socket.

pub mod access;
pub mod agent_ws;
pub mod assets;
pub mod backup_socket;
pub mod health;
pub mod listener;
pub mod live_ws;
pub mod login;
pub mod metrics;
pub mod refusal;
pub mod request_log;
pub mod rest;
pub mod serve;
pub mod sso;
pub mod work_done_once;
