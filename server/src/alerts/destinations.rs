//! Webhooks go only where `WebhookDestinations` allows, decided on the address actually
//! connected to: a name is resolved here and the refused addresses dropped (so a name that
//! resolves to 127.0.0.1 when the delivery is made is refused, whatever it resolved to when
//! the rule was saved), and a URL naming an IP address (which the HTTP client connects to
//! without resolving) is checked before sending.

use app::domain::alerts::WebhookDestinations;
use app::i18n::{m, Msg, Text};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

/// A delivery refused because of where it would go; its text says why.
#[derive(Debug)]
pub struct DestinationRefused(pub Text);

impl std::fmt::Display for DestinationRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for DestinationRefused {}

/// The system's resolver, keeping only the addresses webhooks may go to; an error naming the
/// first refused address when none is left.
pub struct CheckedResolver {
    pub destinations: Arc<WebhookDestinations>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_checked(name, self.destinations.clone()))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn resolve_checked(
    name: Name,
    destinations: Arc<WebhookDestinations>,
) -> Result<Addrs, BoxError> {
    let host = name.as_str().to_string();
    let found: Vec<SocketAddr> =
        tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs())
            .await??
            .collect();
    let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = found
        .into_iter()
        .partition(|a| destinations.refusal(a.ip()).is_none());
    match (allowed.is_empty(), refused.first()) {
        (true, Some(first)) => {
            let what = destinations.refusal(first.ip()).expect("refused");
            let why = Text::new(m::outcomes::REFUSED_RESOLVED)
                .arg("host", name.as_str())
                .arg("ip", first.ip())
                .word("what", what);
            Err(DestinationRefused(why).into())
        }
        _ => Ok(Box::new(allowed.into_iter())),
    }
}

/// Why a webhook to `url` is refused before connecting: the IP address it names, and what that
/// is (not one webhooks may go to). `None` for names (checked when resolved) and allowed
/// addresses.
pub fn literal_refusal(
    url: &reqwest::Url,
    destinations: &WebhookDestinations,
) -> Option<(IpAddr, Msg)> {
    // the URL parser writes an IPv4 host in four decimal numbers, an IPv6 one in brackets
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let ip: IpAddr = host.parse().ok()?;
    Some((ip, destinations.refusal(ip)?))
}

/// The refusal somewhere in `error`'s causes, if it is one.
pub fn refusal_in<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a DestinationRefused> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<DestinationRefused>() {
            return Some(refused);
        }
        cause = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_are_checked_as_the_client_reads_them() {
        let refused = WebhookDestinations::default();
        let check = |u: &str| literal_refusal(&reqwest::Url::parse(u).unwrap(), &refused);
        for internal in [
            "http://127.0.0.1:9/x",
            "http://127.1/x",
            "http://2130706433/",
            "http://[::1]:80/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(check(internal).is_some(), "{internal}");
        }
        for fine in [
            "http://10.1.2.3/x",
            "http://localhost/x",
            "https://hooks.example/",
        ] {
            assert_eq!(check(fine), None, "{fine}");
        }
        let allowed = WebhookDestinations::allowing_internal();
        let url = reqwest::Url::parse("http://127.0.0.1/").unwrap();
        assert_eq!(literal_refusal(&url, &allowed), None);
    }
}
