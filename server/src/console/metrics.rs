//! `GET /metrics`: Prometheus (OpenMetrics text) under one `havip_` namespace. States are gauge
//! values and identities `_info` series, so no label changes with the state:
//!
//! - `havip_vip_state{vip,subnet}`: 0 not bound, 1 bound, 2 conflict
//! - `havip_vip_holder_info{vip,subnet,mac,instance}`: 1 per current holder (each claimant in a
//!   conflict); `instance` is the registered instance's name, empty when unregistered
//! - `havip_vip_hosts_sharing_mac{vip,subnet,mac}`: how many hosts answer each probe with one
//!   MAC, while more than one does (a split brain behind keepalived's virtual MAC)
//! - `havip_vip_holder_changes_total{vip,subnet}`, `havip_vip_conflicts_total{vip,subnet}`
//! - `havip_agent_up{agent}`, `havip_agent_observations_total{agent}`
//! - `havip_subnet_addresses{subnet,state}`: `havip`, `instance`, `free`
//! - `havip_http_request_duration_seconds` (histogram), `havip_build_info{version}`
//! - `havip_logins_refused_total{reason}`: logins refused unchecked, `back_off` (too many
//!   failures) or `busy` (every password-check slot taken); they are not in the audit log
//! - `havip_sso_refused_total{reason}`: single sign-ons refused, `state` (not this browser's
//!   login, or replayed), `provider` (the provider's error, the code or the ID token refused),
//!   `group`, `disabled`
//! - `havip_audit_records_archived_total`, `havip_audit_records_dropped_total`: audit records
//!   trimmed past `--audit-limit` into the archive file, and those that could not be written
//!
//! Counters count since the console started. On etcd (several replicas), every series also
//! carries `replica`, the host's name. Who may scrape is decided in `access`.

use crate::console::refusal::Refusal;
use app::domain::binding::Status;
use app::domain::error::ApiError;
use app::store::Store;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::LazyLock;

pub const PATH: &str = "/metrics";
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every request's time to its response head (websockets: to the upgrade), in seconds.
pub static HTTP_DURATION: LazyLock<Histogram> = LazyLock::new(|| {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
});

type Labels = Vec<(&'static str, String)>;

/// Logins refused before their password was checked, by reason (see `login`).
pub static LOGINS_REFUSED: LazyLock<Family<Labels, Counter>> = LazyLock::new(Family::default);

/// Single sign-ons refused, by reason: `state` (no login state of this browser, a `state` that
/// does not match, or one used already), `provider` (the provider's error, no code, the code
/// or the ID token refused), `group`, `disabled`.
pub static SSO_REFUSED: LazyLock<Family<Labels, Counter>> = LazyLock::new(Family::default);

pub fn routes(store: Store) -> Router {
    Router::new().route(PATH, get(scrape)).with_state(store)
}

async fn scrape(State(store): State<Store>) -> Response {
    match render(&store) {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => Refusal(e).into_response(),
    }
}

fn gauges() -> Family<Labels, Gauge> {
    Family::default()
}

fn counters() -> Family<Labels, Counter> {
    Family::default()
}

/// The exposition, read from the store now.
pub fn render(store: &Store) -> Result<String, ApiError> {
    let mut registry = match store.config().place {
        app::store::StorePlace::Sled => Registry::with_prefix("havip"),
        app::store::StorePlace::Etcd { .. } => {
            let replica = (std::fs::read_to_string("/proc/sys/kernel/hostname"))
                .map_or_else(|_| "localhost".to_string(), |h| h.trim().to_string());
            let labels = [("replica".into(), replica.into())].into_iter();
            Registry::with_prefix_and_labels("havip", labels)
        }
    };
    let (state, holder, changes, conflicts) = (gauges(), gauges(), counters(), counters());
    let sharing = gauges();
    let mut havips_in: HashMap<String, i64> = HashMap::new();
    for h in store.havips()? {
        let at = vec![
            ("vip", h.ip.to_string()),
            ("subnet", h.subnet_id.to_string()),
        ];
        *havips_in.entry(h.subnet_id.to_string()).or_default() += 1;
        if let Some(shared) = h.binding.shared {
            let mut labels = at.clone();
            labels.push(("mac", shared.mac.to_string()));
            sharing.get_or_create(&labels).set(i64::from(shared.hosts));
        }
        let status = h.binding.status();
        let (value, macs) = match status {
            Status::Unbound => (0, vec![]),
            Status::Bound { mac, .. } => (1, vec![mac]),
            Status::Conflict { macs } => (2, macs),
        };
        state.get_or_create(&at).set(value);
        for mac in macs {
            let instance = store
                .instance_by_mac(mac)?
                .map(|i| i.name)
                .unwrap_or_default();
            let mut labels = at.clone();
            labels.extend([("mac", mac.to_string()), ("instance", instance)]);
            holder.get_or_create(&labels).set(1);
        }
        let counted = store.havip_counters(&h.id);
        changes.get_or_create(&at).inc_by(counted.holder_changes);
        conflicts.get_or_create(&at).inc_by(counted.conflicts);
    }
    registry.register("vip_state", "0 not bound, 1 bound, 2 conflict", state);
    registry.register(
        "vip_hosts_sharing_mac",
        "Hosts answering each probe with this MAC, while more than one does (a split brain behind a virtual MAC)",
        sharing,
    );
    registry.register(
        "vip_holder_info",
        "The MAC (and registered instance) holding the HAVIP",
        holder,
    );
    registry.register(
        "vip_holder_changes",
        "Holder changes (bindings and failovers) since the console started",
        changes,
    );
    registry.register(
        "vip_conflicts",
        "Split brains detected since the console started",
        conflicts,
    );

    let (up, observations) = (gauges(), counters());
    for agent in store.agents()?.into_iter().filter(|a| !a.revoked) {
        let labels = vec![("agent", agent.name.clone())];
        let connected = store.presence(&agent.id).is_some_and(|p| p.connections > 0);
        up.get_or_create(&labels).set(i64::from(connected));
        observations
            .get_or_create(&labels)
            .inc_by(store.observations_of(&agent.id));
    }
    registry.register("agent_up", "1 while the agent is connected", up);
    registry.register(
        "agent_observations",
        "ARP observations the agent reported since the console started",
        observations,
    );

    let addresses = gauges();
    for region in store.regions()? {
        for view in store.network_view(&region.id)? {
            for s in view.subnets {
                let id = s.subnet.id.to_string();
                let usable = i64::from(app::domain::ip::usable_count(s.subnet.cidr));
                let free = i64::from(store.free_count(&s.subnet.id));
                let havips = havips_in.get(&id).copied().unwrap_or(0);
                for (state, n) in [
                    ("havip", havips),
                    ("instance", usable - free - havips),
                    ("free", free),
                ] {
                    addresses
                        .get_or_create(&vec![("subnet", id.clone()), ("state", state.into())])
                        .set(n);
                }
            }
        }
    }
    registry.register(
        "subnet_addresses",
        "Usable addresses of a subnet by what holds them",
        addresses,
    );

    registry.register(
        "http_request_duration_seconds",
        "Time to answer an HTTP request",
        HTTP_DURATION.clone(),
    );
    registry.register(
        "logins_refused",
        "Logins refused before their password was checked (back-off, or every check slot busy)",
        LOGINS_REFUSED.clone(),
    );
    registry.register(
        "sso_refused",
        "Single sign-ons refused, by reason (state, provider, group, disabled)",
        SSO_REFUSED.clone(),
    );
    let (archived, dropped) = store.audit_trimmed();
    let (archived_total, dropped_total) = (Counter::<u64>::default(), Counter::<u64>::default());
    archived_total.inc_by(archived);
    dropped_total.inc_by(dropped);
    registry.register(
        "audit_records_archived",
        "Audit records trimmed past --audit-limit and appended to the archive file",
        archived_total,
    );
    registry.register(
        "audit_records_dropped",
        "Audit records trimmed past --audit-limit that could not be archived",
        dropped_total,
    );

    let build = gauges();
    build
        .get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_string())])
        .set(1);
    registry.register("build_info", "The console's version", build);

    let mut text = String::new();
    encode(&mut text, &registry).map_err(|e| ApiError::internal(format!("metrics: {e}")))?;
    Ok(text)
}
