//! The console's part of the push latency, on the release binary over loopback: from an
//! agent's frame reporting a holder change to the browser's live-channel frame carrying the
//! changed row (the lab measures the whole way, from the gratuitous ARP on the wire to the DOM,
//! and splits it; this is its middle part, alone and many times).
//!
//! One agent reports for the seeded subnet; one live channel watches the region's list. Each
//! round, the agent reports a holder, then three unanswered probes (the holder is lost), then
//! the other host: three changes, each timed from the agent's send to the frame's arrival.
//!
//!   cargo bench -p havip --bench push

mod common;

use common::{call, login, quantile, Conn, Server};
use futures::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const ROUNDS: usize = 300;
const MACS: [&str; 2] = ["02:00:00:16:16:05", "02:00:00:16:16:06"];

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str, header: (&'static str, &str)) -> Ws {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert(header.0, header.1.parse().unwrap());
    // without Nagle's delay, as the agent connects (`agent::client`) and as browsers do
    tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .unwrap()
        .0
}

/// The next text frame (within 10 s).
async fn next_text(ws: &mut Ws) -> String {
    let read = async {
        loop {
            if let Message::Text(text) = ws.next().await.expect("open").unwrap() {
                return text.to_string();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a frame within 10 s")
}

#[tokio::main]
async fn main() {
    let (_dir, data) = common::data_with_admin();
    let host = format!("127.0.0.1:{}", common::port(5));
    let _server = Server::start(&["--listen", &host, "--data-dir", &data]);
    let mut conn = Conn::open(&host).await;
    let cookie = login(&host).await;
    let page = call(&mut conn, &host, &cookie, "network_page", "").await;
    let region = page["region_id"].as_str().unwrap().to_string();
    let vpc = page["vpcs"][0]["vpc"]["id"].as_str().unwrap().to_string();
    let subnet = page["vpcs"][0]["subnets"][0]["subnet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let create = serde_json::json!({ "req": {
        "region_id": region, "name": "pushed", "vpc_id": vpc, "subnet_id": subnet, "ip": "Automatic",
    }});
    let havip = conn
        .send(&common::post(
            &host,
            "/api/create_havip",
            "application/json",
            &cookie,
            &create.to_string(),
        ))
        .await
        .ok("create_havip")
        .json();
    let vip = havip["ip"].as_str().unwrap().to_string();
    let agent = serde_json::json!({ "name": "bench-agent", "subnet_ids": [subnet] });
    let token = conn
        .send(&common::post(
            &host,
            "/api/create_agent",
            "application/json",
            &cookie,
            &agent.to_string(),
        ))
        .await
        .ok("create_agent")
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();

    let mut browser = open(&format!("ws://{host}/api/live_events"), ("cookie", &cookie)).await;
    assert!(next_text(&mut browser).await.contains("Hello"));
    let watch = format!(
        r#"{{"Watch":[{{"topics":["Havips","Network","Instances","Agents"],"region_id":"{region}","havip_id":null}}]}}"#
    );
    browser.send(Message::text(watch)).await.unwrap();
    assert!(next_text(&mut browser).await.contains("Watching"));

    let bearer = format!("Bearer {token}");
    let mut agent = open(&format!("ws://{host}/agent/ws"), ("authorization", &bearer)).await;
    let hello = r#"{"type":"hello","version":1,"interface":"eth0","mac":"02:00:00:16:16:fe"}"#;
    agent.send(Message::text(hello)).await.unwrap();
    // welcome, then the watch list with the HAVIP
    while !next_text(&mut agent).await.contains(&vip) {}
    // the agent's connection is a change of its own (agents are shown as connected)
    while !next_text(&mut browser).await.contains("\"Agents\"") {}

    let observe = |observation: String| {
        format!(r#"{{"type":"observe","ip":"{vip}","observation":{observation}}}"#)
    };
    let mut ms = vec![];
    let began = Instant::now();
    for round in 0..ROUNDS {
        let mac = MACS[round % 2];
        let steps = [
            (
                observe(format!(r#"{{"kind":"announce","mac":"{mac}"}}"#)),
                format!(r#""status":"bound","mac":"{mac}""#),
            ),
            (observe(r#"{"kind":"probe_miss"}"#.into()), String::new()),
            (observe(r#"{"kind":"probe_miss"}"#.into()), String::new()),
            (
                observe(r#"{"kind":"probe_miss"}"#.into()),
                r#""status":"unbound""#.to_string(),
            ),
        ];
        for (frame, expect) in steps {
            let sent = Instant::now();
            agent.send(Message::text(frame)).await.unwrap();
            if expect.is_empty() {
                continue; // not a change yet (one or two probes missed)
            }
            loop {
                let text = next_text(&mut browser).await;
                if text.contains("\"Change\"") && text.contains(&expect) {
                    break;
                }
            }
            ms.push(sent.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    // the frame carries the HAVIP's last 24 hours, drawn from at most 500 events of its history:
    // the first changes have a short history, the last ones the longest
    let part = ms.len() / 6;
    let (first, last) = (ms[..part].to_vec(), ms[ms.len() - part..].to_vec());
    for (what, mut ms) in [
        ("agent frame -> browser frame".to_string(), ms),
        (
            format!("  the first {part} (history < {part} events)"),
            first,
        ),
        (format!("  the last {part} (history at 500 events)"), last),
    ] {
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{what:<40} {} changes: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms.len(),
            quantile(&ms, 0.5),
            quantile(&ms, 0.99),
            ms[ms.len() - 1]
        );
    }
    println!("{:<40} {elapsed:.1} s", "all changes in");
}
