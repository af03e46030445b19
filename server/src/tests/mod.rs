//! The server's tests, driving the real router over HTTP and websockets (the real binary is
//! driven in `server/tests/`). `fixture` is what every file starts from: a fresh store
//! with its users, a VPC and a subnet, and the router around it.

mod access;
mod agent_ws;
mod alerts;
mod alerts_delivery;
mod alerts_outbox;
mod alerts_replicas;
mod api;
mod audit;
mod etcd_tls;
pub(crate) mod fixture;
mod flood;
mod hostile;
mod language;
mod listener;
mod live;
mod login_replicas;
mod metrics;
pub(crate) mod security;
mod sso;
pub(crate) mod tcapi;
pub(crate) mod tls;
mod zone;
