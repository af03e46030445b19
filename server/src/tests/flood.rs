//! A flooding agent: 20,000 observations a second for 10 s over a loopback websocket, among them
//! a failover every 100th message, while a browser keeps loading the list page. Every failover
//! must be recorded, in order; page load times are printed (measured, not asserted: see
//! BENCHMARKS.md).

use crate::tests::fixture::fixture;
use crate::tests::hostile::listen;
use app::domain::binding::Change;
use app::domain::mac::Mac;
use app::domain::model::{IpChoice, NewHavip};
use futures::{SinkExt, StreamExt};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const RATE: u64 = 20_000;
const SECONDS: u64 = 10;
/// The fixture's VPC quota: the HAVIP of the failovers and nine answering their probes.
const HAVIPS: usize = 10;
/// Far above any page load measured under the flood (at most 26 ms).
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_agent_loses_no_change_and_pages_keep_loading() {
    let f = fixture().await;
    let mut ips = vec![f.havip.ip];
    for i in 0..HAVIPS - 1 {
        let havip = f
            .store
            .create_havip(NewHavip {
                region_id: f.havip.region_id.clone(),
                name: format!("flood-{i}"),
                vpc_id: f.vpc_id.clone(),
                subnet_id: f.subnet_id.clone(),
                ip: IpChoice::Automatic,
            })
            .await
            .unwrap();
        ips.push(havip.ip);
    }
    let (_, token) = f
        .store
        .create_agent("flood", std::slice::from_ref(&f.subnet_id))
        .await
        .unwrap();
    let addr = listen(&f).await;

    // the browser: the list page, loaded again and again until the flood is over
    let cookie = f.cookies[&app::domain::auth::Role::Viewer].clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let browser = std::thread::spawn({
        let done = done.clone();
        move || {
            let mut loads = vec![];
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let started = Instant::now();
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                // a page that never ends fails the test with this message instead of hanging it
                s.set_read_timeout(Some(PAGE_TIMEOUT)).unwrap();
                write!(s, "GET / HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n").unwrap();
                let mut page = vec![];
                let read = s.read_to_end(&mut page);
                let page = String::from_utf8_lossy(&page);
                if let Err(e) = read {
                    panic!(
                        "the list page did not finish within {PAGE_TIMEOUT:?} ({e}); what came of it ({} bytes):\n{page}",
                        page.len()
                    );
                }
                assert!(
                    page.starts_with("HTTP/1.1 200"),
                    "{}",
                    &page[..100.min(page.len())]
                );
                loads.push(started.elapsed());
                // pacing, not a wait: a browser reloading the list every 100 ms
                std::thread::sleep(Duration::from_millis(100));
            }
            loads
        }
    });

    let mut request = format!("ws://{addr}/agent/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    tokio::spawn(async move { while rx.next().await.is_some() {} });
    let hello = r#"{"type":"hello","version":1,"interface":"eth0","mac":"02:00:00:16:16:99"}"#;
    tx.send(Message::text(hello)).await.unwrap();
    let (a, b): (Mac, Mac) = (
        "52:54:00:00:0a:01".parse().unwrap(),
        "52:54:00:00:0a:02".parse().unwrap(),
    );
    let observe = |ip, kind: &str, mac: Mac| {
        Message::text(format!(
            r#"{{"type":"observe","ip":"{ip}","observation":{{"kind":"{kind}","mac":"{mac}"}}}}"#
        ))
    };

    let started = Instant::now();
    let mut sent = 0u64;
    let mut failovers = vec![];
    while sent < RATE * SECONDS {
        // pace: never ahead of RATE per second
        let due = started + Duration::from_micros(sent * 1_000_000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        for _ in 0..20 {
            let message = if sent.is_multiple_of(100) {
                let mac = if failovers.len() % 2 == 0 { a } else { b };
                failovers.push(mac);
                observe(ips[0], "announce", mac)
            } else {
                let ip = ips[1 + (sent as usize) % (HAVIPS - 1)];
                observe(ip, "probe_reply", a)
            };
            tx.send(message).await.unwrap();
            sent += 1;
        }
    }
    let sending = started.elapsed();

    // everything sent is read and applied: every announcement a holder change, in order
    let deadline = Instant::now() + Duration::from_secs(60);
    let expected = failovers.len() as u64;
    while f.store.history_len(&f.havip.id).unwrap() < expected {
        assert!(
            Instant::now() < deadline,
            "changes lost: {} of {expected}",
            f.store.history_len(&f.havip.id).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let applied = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut loads = browser.join().unwrap();

    assert_eq!(f.store.history_len(&f.havip.id).unwrap(), expected);
    let history = f.store.history(&f.havip.id, 0, expected as usize).unwrap();
    let holders: Vec<Mac> = history
        .iter()
        .rev()
        .map(|e| match e.change {
            Change::Bound { mac } | Change::Failover { to: mac, .. } => mac,
            ref other => panic!("unexpected change {other:?}"),
        })
        .collect();
    assert_eq!(holders, failovers, "every failover, in order");
    let holder = f
        .store
        .havip(&f.havip.id)
        .unwrap()
        .binding
        .holder
        .unwrap()
        .mac;
    assert_eq!(holder, *failovers.last().unwrap());

    loads.sort();
    let pick = |p: f64| loads[((loads.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    eprintln!(
        "flood: {sent} observations sent in {:.1} s ({:.0}/s offered), all applied after {:.1} s; {} failovers recorded; list page loads during it: {} loads, median {:?}, p99 {:?}, max {:?}",
        sending.as_secs_f64(),
        sent as f64 / sending.as_secs_f64(),
        applied.as_secs_f64(),
        expected,
        loads.len(),
        pick(0.5),
        pick(0.99),
        loads.last().unwrap()
    );
}
