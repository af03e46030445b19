//! The agent protocol: JSON text frames over a websocket at `/agent/ws`.
//!
//! The agent authenticates with `Authorization: Bearer TOKEN` on the upgrade request, then
//! sends `hello` (with the protocol version) first. The server answers `welcome` and sends the
//! addresses to `watch`, again whenever that list changes; after the welcome the agent sends a
//! `snapshot`, then each observation as it happens. Anything else - an unknown version,
//! malformed JSON, a binary or oversized frame, a message before `hello` - closes the connection
//! with a reason and changes nothing.
//!
//! Both sides keep the connection alive with websocket Ping frames (see [`Liveness`]); those
//! are control frames, not JSON messages, so the message format does not change.

use app::domain::binding::Observation;
use app::domain::mac::Mac;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::time::Duration;

pub const PROTOCOL_VERSION: u32 = 1;
/// Largest text frame either side accepts (a snapshot of 1,000 holders fits easily).
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
/// Frames past this are not even read (the websocket library's limit); between the two, the
/// console reads the frame and closes with 1009 and a reason.
pub const LIBRARY_LIMIT_BYTES: usize = MAX_FRAME_BYTES * 4;
/// Messages per second the console reads from one agent connection (a burst of as many is
/// fine). Past it the console reads more slowly: the agent's sends wait (TCP back-pressure),
/// nothing is dropped, and one busy agent cannot take the console from everyone else. A
/// thousand watched addresses probed each second is a tenth of it.
pub const MAX_MESSAGES_PER_S: u32 = 10_000;
/// How often each side pings the other.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long either side waits without hearing anything (any frame, Pong included) before it
/// hangs up: three missed pings.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(45);

/// Keep-alive timing for one side of the connection. It sends a websocket Ping every `ping`
/// and closes the connection once nothing at all has arrived for `idle`, so a half-open TCP
/// connection (a peer that vanished without a FIN) ends instead of looking alive forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    pub ping: Duration,
    pub idle: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            ping: PING_INTERVAL,
            idle: IDLE_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentMessage {
    Hello {
        version: u32,
        interface: String,
        mac: Mac,
    },
    /// One observation about a watched address.
    Observe {
        ip: Ipv4Addr,
        observation: Observation,
    },
    /// After (re)connecting: who answered for each watched address in the latest probe round.
    Snapshot { holders: Vec<Holder> },
    /// A host seen on the segment for the first time, with a new MAC, or again a while after
    /// its last report (so the console can tell it is still there).
    Station { ip: Ipv4Addr, mac: Mac },
    /// A VRRP advert naming a watched address (`app::domain::vrrp`).
    Advert { advert: app::domain::vrrp::Advert },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub ip: Ipv4Addr,
    pub macs: Vec<Mac>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome { version: u32, agent: String },
    Watch { ips: Vec<Ipv4Addr> },
}

/// Why a connection is closed, with the websocket close code to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

impl CloseReason {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        // close reasons are limited to 123 bytes
        let mut reason: String = reason.into();
        while reason.len() > 123 {
            reason.pop();
        }
        CloseReason { code, reason }
    }
    pub fn too_big(len: usize) -> Self {
        CloseReason::new(
            1009,
            format!("frame of {len} bytes or more exceeds the limit of {MAX_FRAME_BYTES}"),
        )
    }
    pub fn binary() -> Self {
        CloseReason::new(1003, "binary frames are not supported; send JSON text")
    }
}

/// Decodes one text frame from an agent. `said_hello` is whether `hello` was already received.
pub fn decode(text: &str, said_hello: bool) -> Result<AgentMessage, CloseReason> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(CloseReason::too_big(text.len()));
    }
    let msg: AgentMessage = serde_json::from_str(text)
        .map_err(|e| CloseReason::new(1007, format!("malformed message: {e}")))?;
    if let AgentMessage::Advert { advert } = &msg {
        // a VRRP advert counts its addresses in one byte
        if advert.addresses.len() > 255 {
            return Err(CloseReason::new(
                1007,
                "an advert names at most 255 addresses",
            ));
        }
    }
    match (&msg, said_hello) {
        (AgentMessage::Hello { version, .. }, false) if *version != PROTOCOL_VERSION => {
            Err(CloseReason::new(
                1002,
                format!(
                    "unsupported protocol version {version}; this server speaks {PROTOCOL_VERSION}"
                ),
            ))
        }
        (AgentMessage::Hello { .. }, true) => Err(CloseReason::new(1002, "hello sent twice")),
        (AgentMessage::Hello { .. }, false) => Ok(msg),
        (_, false) => Err(CloseReason::new(1002, "the first message must be hello")),
        (_, true) => Ok(msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str =
        r#"{"type":"hello","version":1,"interface":"eth0","mac":"02:00:00:16:16:99"}"#;

    #[test]
    fn hello_then_observations() {
        assert!(matches!(
            decode(HELLO, false),
            Ok(AgentMessage::Hello { version: 1, .. })
        ));
        let obs = r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"announce","mac":"02:00:00:16:16:05"}}"#;
        assert_eq!(
            decode(obs, true),
            Ok(AgentMessage::Observe {
                ip: "172.16.16.12".parse().unwrap(),
                observation: Observation::Announce {
                    mac: "02:00:00:16:16:05".parse().unwrap()
                }
            })
        );
        let miss = r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"probe_miss"}}"#;
        assert!(decode(miss, true).is_ok());
    }

    #[test]
    fn an_advert_names_at_most_255_addresses() {
        let advert = |n: usize| {
            let addresses = vec!["\"172.16.16.12\""; n].join(",");
            format!(
                r#"{{"type":"advert","advert":{{"version":2,"vrid":51,"priority":100,"router":"172.16.16.5","mac":"52:54:00:00:00:05","interval_ms":1000,"addresses":[{addresses}]}}}}"#
            )
        };
        assert!(matches!(
            decode(&advert(255), true),
            Ok(AgentMessage::Advert { .. })
        ));
        let refused = decode(&advert(256), true).unwrap_err();
        assert_eq!(
            (refused.code, refused.reason.as_str()),
            (1007, "an advert names at most 255 addresses")
        );
    }

    #[test]
    fn refusals_say_why() {
        let v2 = HELLO.replace("\"version\":1", "\"version\":2");
        let r = decode(&v2, false).unwrap_err();
        assert_eq!(r.code, 1002);
        assert!(r.reason.contains("unsupported protocol version 2"));
        assert_eq!(decode(HELLO, true).unwrap_err().reason, "hello sent twice");
        let obs = r#"{"type":"observe","ip":"172.16.16.12","observation":{"kind":"probe_miss"}}"#;
        assert_eq!(
            decode(obs, false).unwrap_err().reason,
            "the first message must be hello"
        );
        for bad in [
            "{",
            "null",
            "[]",
            r#"{"type":"observe","ip":"999.1.1.1","observation":{"kind":"probe_miss"}}"#,
            r#"{"type":"observe","ip":"10.0.0.1","observation":{"kind":"announce","mac":"zz"}}"#,
            r#"{"type":"launch_missiles"}"#,
        ] {
            let r = decode(bad, true).unwrap_err();
            assert_eq!(r.code, 1007, "{bad}");
            assert!(r.reason.starts_with("malformed message"), "{bad}");
            assert!(r.reason.len() <= 123);
        }
        let big = format!(
            r#"{{"type":"snapshot","holders":[],"pad":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        let r = decode(&big, true).unwrap_err();
        assert_eq!(r.code, 1009);
        assert!(r.reason.contains("exceeds the limit"));
    }

    #[test]
    fn server_messages_encode_as_documented() {
        let w = serde_json::to_string(&ServerMessage::Watch {
            ips: vec!["172.16.16.12".parse().unwrap()],
        })
        .unwrap();
        assert_eq!(w, r#"{"type":"watch","ips":["172.16.16.12"]}"#);
    }
}
