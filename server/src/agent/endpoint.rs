//! Where the console is: the agent's `--server`, checked before any socket is opened.

use std::path::PathBuf;
use tokio_tungstenite::tungstenite::http::Uri;

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp { url, .. } => f.write_str(url),
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Where the console is, from `--server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Connect to `addr` (host:port) and ask for the websocket `url`; over TLS (`https://`,
    /// `wss://`), verifying the console's certificate for `host`.
    Tcp {
        addr: String,
        url: String,
        tls: Option<String>,
    },
    /// The console's `--agent-socket`.
    Unix(PathBuf),
}

impl Endpoint {
    /// `http[s]://HOST[:PORT][/PREFIX]`, `ws[s]://…` (`/agent/ws` is appended unless present),
    /// or `unix:PATH`. Anything else is refused here, before any socket is opened.
    pub fn parse(server: &str) -> Result<Endpoint, String> {
        const USE: &str = "use https://HOST:PORT, http://HOST:PORT (ws://, wss://) or unix:PATH";
        let server = server.trim();
        if let Some(path) = server.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("--server unix: needs the path of the console's --agent-socket".into());
            }
            return Ok(Endpoint::Unix(path.into()));
        }
        let Some((scheme, rest)) = server.split_once("://") else {
            return Err(format!(
                "--server {server:?} is not a console address; {USE}"
            ));
        };
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => false,
            "https" | "wss" => true,
            other => {
                return Err(format!(
                    "--server {server}: unknown scheme {other}://; {USE}"
                ))
            }
        };
        let bad = |why: &str| format!("--server {server}: {why}; {USE}");
        let uri: Uri = format!("ws://{rest}")
            .parse()
            .map_err(|e| bad(&format!("{e}")))?;
        let (Some(authority), Some(host)) = (uri.authority(), uri.host()) else {
            return Err(bad("no host"));
        };
        if authority.as_str().contains('@') {
            return Err(bad(
                "no user or password in the address (the token goes in --token)",
            ));
        }
        // the URI parser accepts any text after the colon; only a number is a port
        let port = match authority.as_str().strip_prefix(host) {
            Some("") => Some(if tls { 443 } else { 80 }),
            Some(port) => port.strip_prefix(':').and_then(|p| p.parse::<u16>().ok()),
            None => None,
        };
        let Some(port) = port.filter(|_| !host.is_empty()) else {
            return Err(bad("expected HOST or HOST:PORT"));
        };
        if uri.query().is_some() {
            return Err(bad("no query string"));
        }
        let path = uri.path().trim_end_matches('/');
        let path = if path.ends_with("/agent/ws") {
            path.to_string()
        } else {
            format!("{path}/agent/ws")
        };
        let ws = if tls { "wss" } else { "ws" };
        Ok(Endpoint::Tcp {
            addr: format!("{host}:{port}"),
            url: format!("{ws}://{authority}{path}"),
            tls: tls.then(|| {
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string()
            }),
        })
    }

    /// A warning for a console reached in plain text over a network: the token and every
    /// observation can be read (and changed) on the way. Loopback and Unix sockets stay on
    /// this host.
    pub fn plain_text_warning(&self) -> Option<String> {
        let Endpoint::Tcp {
            addr, tls: None, ..
        } = self
        else {
            return None;
        };
        let host = addr
            .rsplit_once(':')
            .map_or(addr.as_str(), |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']');
        let local = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        (!local).then(|| {
            format!(
                "warning: the console at {addr} is reached in plain text: the agent token and \
                 the observations cross the network unencrypted; serve the console with \
                 --tls-cert/--tls-key and use https://, or keep it on a trusted network"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_to_another_host_is_warned_about() {
        let warn = |s: &str| Endpoint::parse(s).unwrap().plain_text_warning();
        for quiet in [
            "https://10.0.0.5:8443",
            "http://127.0.0.1:3000",
            "ws://localhost:3000",
            "http://[::1]:3000",
            "unix:/run/havip.sock",
        ] {
            assert_eq!(warn(quiet), None, "{quiet}");
        }
        for remote in [
            "http://10.0.0.5:3000",
            "ws://console.example:80",
            "http://[fd00::1]:3000",
        ] {
            assert!(
                warn(remote).is_some_and(|w| w.contains("plain text")),
                "{remote}"
            );
        }
    }

    #[test]
    fn console_addresses() {
        let tcp = |addr: &str, url: &str| {
            Ok(Endpoint::Tcp {
                addr: addr.into(),
                url: url.into(),
                tls: None,
            })
        };
        let tls = |addr: &str, url: &str, host: &str| {
            Ok(Endpoint::Tcp {
                addr: addr.into(),
                url: url.into(),
                tls: Some(host.into()),
            })
        };
        let cases: Vec<(&str, Result<Endpoint, String>)> = vec![
            (
                "http://127.0.0.1:3000",
                tcp("127.0.0.1:3000", "ws://127.0.0.1:3000/agent/ws"),
            ),
            (
                "ws://console.lan:8080",
                tcp("console.lan:8080", "ws://console.lan:8080/agent/ws"),
            ),
            (
                "http://console.lan:8080/",
                tcp("console.lan:8080", "ws://console.lan:8080/agent/ws"),
            ),
            (
                "HTTP://console.lan",
                tcp("console.lan:80", "ws://console.lan/agent/ws"),
            ),
            ("ws://h:1/agent/ws", tcp("h:1", "ws://h:1/agent/ws")),
            ("http://h:1/agent/ws/", tcp("h:1", "ws://h:1/agent/ws")),
            ("http://h:1/havip/", tcp("h:1", "ws://h:1/havip/agent/ws")),
            (
                "http://[::1]:3000",
                tcp("[::1]:3000", "ws://[::1]:3000/agent/ws"),
            ),
            (
                "https://console.lan",
                tls(
                    "console.lan:443",
                    "wss://console.lan/agent/ws",
                    "console.lan",
                ),
            ),
            (
                "wss://10.0.0.5:8443/agent/ws",
                tls("10.0.0.5:8443", "wss://10.0.0.5:8443/agent/ws", "10.0.0.5"),
            ),
            (
                "HTTPS://[fd00::1]:8443/havip",
                tls(
                    "[fd00::1]:8443",
                    "wss://[fd00::1]:8443/havip/agent/ws",
                    "fd00::1",
                ),
            ),
            (
                " unix:/run/havip/agent.sock",
                Ok(Endpoint::Unix("/run/havip/agent.sock".into())),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Endpoint::parse(input), want, "{input}");
        }
        let refused = [
            ("ftp://console.lan", "unknown scheme ftp://"),
            ("console.lan:3000", "is not a console address"),
            ("", "is not a console address"),
            ("garbage", "is not a console address"),
            ("http://", "use https://HOST:PORT"),
            ("http://h:port", "expected HOST or HOST:PORT"),
            ("http://h:", "expected HOST or HOST:PORT"),
            ("http://h:99999", "expected HOST or HOST:PORT"),
            ("http://user:pw@h:1", "no user or password"),
            ("http://h:1/?x=1", "no query string"),
            ("unix:", "needs the path"),
        ];
        for (input, why) in refused {
            let err = Endpoint::parse(input).unwrap_err();
            assert!(err.contains(why), "{input}: {err}");
        }
    }
}
