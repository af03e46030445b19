//! `havip agent`: watches ARP on one interface and reports to the console over a websocket.

mod arp;
pub(crate) mod backoff;
pub(crate) mod client;
pub(crate) mod endpoint;
pub mod protocol;
mod socket;
mod vrrp;
pub(crate) mod watch;

use anyhow::Context;
use std::time::Duration;

#[derive(clap::Args)]
pub struct AgentArgs {
    /// Interface on the HAVIPs' L2 segment.
    #[arg(long, env = "HAVIP_INTERFACE")]
    pub interface: String,
    /// The console: https://HOST:PORT (WSS), http://HOST:PORT (ws://), or unix:PATH (the
    /// server's --agent-socket). Several replicas: repeat it or separate them with commas;
    /// the agent reports to one, and moves to the next when its connection ends.
    #[arg(long, env = "HAVIP_SERVER", required = true, value_delimiter = ',')]
    pub server: Vec<String>,
    /// Trust the console's certificate if this CA (PEM) signed it, instead of the system's
    /// roots (for a private CA); https:// only.
    #[arg(long, env = "HAVIP_CA_CERT")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Agent token, created on the console's Agents page.
    #[arg(long, env = "HAVIP_AGENT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// How often each watched HAVIP is probed (e.g. 1s, 500ms).
    #[arg(long, env = "HAVIP_PROBE_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub probe_interval: Duration,
}

/// `1s`, `500ms`, `1m 30s` (humantime's units), or a bare number of seconds; 10 ms to 1 h.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::from_secs_f64(seconds),
        _ => humantime::parse_duration(text)
            .map_err(|e| format!("\"{text}\" is not a duration like 1s or 500ms ({e})"))?,
    };
    if !(Duration::from_millis(10)..=Duration::from_secs(3600)).contains(&parsed) {
        return Err(format!("\"{text}\" is outside 10ms-1h"));
    }
    Ok(parsed)
}

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    // refuse what can never work before touching the network
    let endpoints = (args.server.iter())
        .map(|server| endpoint::Endpoint::parse(server))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    for warning in endpoints.iter().filter_map(|e| e.plain_text_warning()) {
        tracing::warn!("havip agent: {warning}");
    }
    if args.token.trim().is_empty() {
        anyhow::bail!("the agent token is empty: create one on the console's Agents page");
    }
    let over_tls =
        |e: &endpoint::Endpoint| matches!(e, endpoint::Endpoint::Tcp { tls: Some(_), .. });
    let tls = if endpoints.iter().any(over_tls) {
        Some(tokio_rustls::TlsConnector::from(
            crate::tls::client_config(args.ca_cert.as_deref()).map_err(anyhow::Error::msg)?,
        ))
    } else if args.ca_cert.is_some() {
        anyhow::bail!(
            "--ca-cert is for a console reached over TLS (https://); --server {} is not",
            args.server.join(",")
        )
    } else {
        None
    };
    let socket =
        socket::ArpSocket::open(&args.interface).with_context(|| args.interface.clone())?;
    crate::logs::announce!(
        "havip agent on {} ({}), reporting to {}",
        args.interface,
        socket.mac,
        args.server.join(", ")
    );
    // VRRP adverts say more about a split brain where they are multicast; without them (no
    // permission for a second raw socket) the agent works as before
    let vrrp = socket::VrrpSocket::open(&args.interface)
        .inspect_err(|e| tracing::warn!("agent: VRRP adverts will not be read: {e}"))
        .ok();
    client::run_forever(&args, endpoints, tls, socket, vrrp)
        .await
        .map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("5ms").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
