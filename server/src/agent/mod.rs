//! `havip agent`: watches ARP on one interface and reports to the console over a websocket.

mod arp;
mod backoff;
mod client;
mod endpoint;
mod socket;
mod watch;

use std::time::Duration;

#[derive(clap::Args)]
pub struct AgentArgs {
    /// Interface on the HAVIPs' L2 segment.
    #[arg(long)]
    pub interface: String,
    /// The console: http://HOST:PORT, ws://HOST:PORT, or unix:PATH (the server's --agent-socket).
    /// TLS (https://, wss://) is not supported yet.
    #[arg(long)]
    pub server: String,
    /// Agent token, created on the console's Agents page.
    #[arg(long, env = "HAVIP_AGENT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// How often each watched HAVIP is probed (e.g. 1s, 500ms).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub probe_interval: Duration,
}

/// `1s`, `500ms`, `2` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration like 1s or 500ms"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        _ => return Err(format!("\"{text}\": use ms or s")),
    };
    if !(0.01..=3600.0).contains(&secs) {
        return Err(format!("\"{text}\" is outside 10ms-1h"));
    }
    Ok(Duration::from_secs_f64(secs))
}

pub async fn run(args: AgentArgs) -> Result<(), String> {
    // refuse what can never work before touching the network
    let endpoint = endpoint::Endpoint::parse(&args.server)?;
    if let Some(warning) = endpoint.plain_text_warning() {
        eprintln!("havip agent: {warning}");
    }
    if args.token.trim().is_empty() {
        return Err("the agent token is empty: create one on the console's Agents page".into());
    }
    let socket =
        socket::ArpSocket::open(&args.interface).map_err(|e| format!("{}: {e}", args.interface))?;
    println!(
        "havip agent on {} ({}), reporting to {}",
        args.interface, socket.mac, args.server
    );
    client::run_forever(&args, endpoint, socket).await
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
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
