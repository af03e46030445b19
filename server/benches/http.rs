//! The console over real HTTP: the release binary (`target/release/havip`) on loopback, driven
//! the way browsers and scripts drive it, with the session cookie of a logged-in admin.
//!
//! 1. durable HAVIP creates (`create_havip`, automatic address in a /16) from 64 concurrent
//!    keep-alive clients, until the region holds `HAVIP_BENCH_HAVIPS` (default 50,000);
//! 2. the list at that size: the server-rendered page 1 (default order, by name, a search) and
//!    the `havip_page` server function, one client (after a restart: SIGTERM, as an operator
//!    restarts it);
//! 3. 1,000 live-channel websockets (the browser's `live_events`), then one rename at a time:
//!    how long until every subscriber has the change;
//! 4. the server's resident memory after each step, 6 s after the list requests and after the
//!    last change (the console gives freed memory back every 5 s), and once an idle console's
//!    memory has stopped growing.
//!
//!   cargo bench -p havip --bench http

use futures::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::{call, get_page, login, post, quantile, stats, Conn, Server};

const CREATORS: usize = 64;
const SUBSCRIBERS: usize = 1000;
/// live channels one session may hold (the console's `MAX_LIVE_PER_SESSION`)
const PER_SESSION: usize = 16;
const ROUNDS: usize = 20;
/// `havip_page`'s query for page 1 in the default order, form-encoded
const FIRST_PAGE: &str =
    "query[q]=&query[vpc]=&query[subnet]=&query[status]=&query[sort]=&query[page]=0";

fn memory(server: &Server, when: &str) {
    let (rss, peak, anonymous) = server.memory_kib();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{:<40} resident {:.1} MiB (peak {:.1} MiB; {:.1} MiB not mapped from files)",
        format!("memory {when}"),
        mib(rss),
        mib(peak),
        mib(anonymous)
    );
}

/// Creates HAVIPs from `CREATORS` connections until the region holds `target`.
async fn fill(host: &str, cookie: &str, create: String, target: usize) {
    let made = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let tasks: Vec<_> = (0..CREATORS)
        .map(|_| {
            let (host, cookie, create, made) = (
                host.to_string(),
                cookie.to_string(),
                create.clone(),
                made.clone(),
            );
            tokio::spawn(async move {
                let mut conn = Conn::open(&host).await;
                let request = post(
                    &host,
                    "/api/create_havip",
                    "application/json",
                    &cookie,
                    &create,
                );
                let mut ms = vec![];
                while made.fetch_add(1, Ordering::SeqCst) < target {
                    let t = Instant::now();
                    conn.send(&request).await.ok("create_havip");
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                ms
            })
        })
        .collect();
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    stats(
        &format!("create_havip, {CREATORS} clients (durable)"),
        all,
        began.elapsed(),
    );
}

/// `n` sequential requests on one connection.
async fn sequential(conn: &mut Conn, label: &str, request: &[u8], n: usize) {
    let began = Instant::now();
    let mut ms = vec![];
    for _ in 0..n {
        let t = Instant::now();
        conn.send(request).await.ok(label);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    stats(label, ms, began.elapsed());
}

/// Opens `SUBSCRIBERS` live channels (greeted each), each showing the list of `region` (as the
/// page says with its `Watch`) and reporting when an HAVIP's change reaches it.
async fn subscribe(
    host: &str,
    cookies: &[String],
    region: &str,
    arrived: tokio::sync::mpsc::UnboundedSender<Instant>,
) {
    let watch = format!(
        r#"{{"Watch":[{{"topics":["Havips","Network","Instances","Agents"],"region_id":"{region}","havip_id":null}}]}}"#
    );
    let url = format!("ws://{host}/api/live_events");
    for i in 0..SUBSCRIBERS {
        let mut request = url.as_str().into_client_request().unwrap();
        let cookie = &cookies[i / PER_SESSION];
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let hello = ws.next().await.expect("greeted").unwrap();
        assert!(hello.to_string().contains("Hello"), "{hello}");
        ws.send(Message::text(watch.clone())).await.unwrap();
        let watching = ws.next().await.expect("answered").unwrap();
        assert!(watching.to_string().contains("Watching"), "{watching}");
        let arrived = arrived.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = ws.next().await {
                if message.to_string().contains(r#""edit":"Renamed""#) {
                    let _ = arrived.send(Instant::now());
                }
            }
        });
    }
}

#[tokio::main]
async fn main() {
    let target: usize = common::env_number("HAVIP_BENCH_HAVIPS", 50_000);
    let (_dir, data) = common::data_with_admin();
    let data = data.as_str();
    let host = format!("127.0.0.1:{}", common::port(2));
    let server = Server::start(&["--listen", &host, "--data-dir", data, "--quota", "1000000"]);
    let mut conn = Conn::open(&host).await;
    let cookie = login(&host).await;
    println!(
        "loopback, keep-alive, release binary ({} cores), {target} HAVIPs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    memory(&server, "at start");

    let region = call(&mut conn, &host, &cookie, "network_page", "").await["region_id"]
        .as_str()
        .unwrap()
        .to_string();
    let form = format!("region_id={region}&name=bench&cidr=10.0.0.0%2F16");
    let vpc = call(&mut conn, &host, &cookie, "create_vpc", &form).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let form = format!("vpc_id={vpc}&name=bench&cidr=10.0.0.0%2F16");
    let subnet = call(&mut conn, &host, &cookie, "create_subnet", &form).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let create = serde_json::json!({ "req": {
        "region_id": region, "name": "bench", "vpc_id": vpc, "subnet_id": subnet, "ip": "Automatic",
    }})
    .to_string();
    fill(&host, &cookie, create, target).await;
    memory(&server, &format!("with {target} HAVIPs"));
    server.stop();
    let began = Instant::now();
    let server = Server::start(&["--listen", &host, "--data-dir", data, "--quota", "1000000"]);
    let mut conn = Conn::open(&host).await;
    println!(
        "{:<40} serving again after {:.2} s",
        "restart",
        began.elapsed().as_secs_f64()
    );
    memory(&server, &format!("restarted with {target} HAVIPs"));

    let page = |query: &str| get_page(&host, &format!("/{query}"), &cookie);
    sequential(&mut conn, "list page 1 (SSR)", &page(""), 200).await;
    sequential(
        &mut conn,
        "list page 1 by name (SSR)",
        &page("?sort=name"),
        200,
    )
    .await;
    sequential(
        &mut conn,
        "list search \"10.0.100.\" (SSR)",
        &page("?q=10.0.100."),
        200,
    )
    .await;
    sequential(&mut conn, "list page 2,000 (SSR)", &page("?page=1999"), 200).await;
    let first_page = format!("region_id={region}&{FIRST_PAGE}");
    let request = post(
        &host,
        "/api/havip_page",
        "application/x-www-form-urlencoded",
        &cookie,
        &first_page,
    );
    sequential(&mut conn, "havip_page server function", &request, 200).await;
    let by_name = first_page.replace("query[sort]=", "query[sort]=name");
    let request = post(
        &host,
        "/api/havip_page",
        "application/x-www-form-urlencoded",
        &cookie,
        &by_name,
    );
    sequential(
        &mut conn,
        "havip_page server function, by name",
        &request,
        200,
    )
    .await;
    memory(&server, "after the list requests");
    tokio::time::sleep(Duration::from_secs(6)).await;
    memory(&server, "the same, 6 s later");

    // one user per session: a user keeps at most 20 sessions (`MAX_SESSIONS_PER_USER`)
    let mut cookies = vec![];
    for i in 0..SUBSCRIBERS.div_ceil(PER_SESSION) {
        let name = format!("watcher-{i}");
        let password = common::PASSWORD.replace(' ', "+");
        let form = format!("name={name}&role=viewer&password={password}");
        call(&mut conn, &host, &cookie, "add_user", &form).await;
        cookies.push(common::login_as(&host, &name).await);
    }
    memory(&server, &format!("after {} more logins", cookies.len()));
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let any = call(&mut conn, &host, &cookie, "havip_page", &first_page).await;
    let region = any["region_id"].as_str().unwrap().to_string();
    let began = Instant::now();
    subscribe(&host, &cookies, &region, arrived).await;
    println!(
        "{:<40} {SUBSCRIBERS} opened and greeted in {:.1} s",
        "live channels",
        began.elapsed().as_secs_f64()
    );
    memory(&server, &format!("with {SUBSCRIBERS} live channels"));
    let id = any["rows"][0]["id"].as_str().unwrap().to_string();
    let mut ms = vec![];
    let began = Instant::now();
    for round in 0..ROUNDS {
        let sent = Instant::now();
        call(
            &mut conn,
            &host,
            &cookie,
            "rename_havip",
            &format!("id={id}&name=round-{round}"),
        )
        .await;
        for _ in 0..SUBSCRIBERS {
            let at = tokio::time::timeout(Duration::from_secs(10), arrivals.recv())
                .await
                .expect("every subscriber gets the change")
                .unwrap();
            ms.push(at.duration_since(sent).as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{:<40} {} deliveries ({ROUNDS} changes x {SUBSCRIBERS}) in {:.1} s: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        "one change to every live channel",
        ms.len(),
        began.elapsed().as_secs_f64(),
        quantile(&ms, 0.5),
        quantile(&ms, 0.99),
        ms[ms.len() - 1]
    );
    memory(
        &server,
        &format!("{target} HAVIPs, {SUBSCRIBERS} live channels"),
    );
    // the console gives freed memory back every 5 s: what stays once the work is done
    tokio::time::sleep(Duration::from_secs(6)).await;
    memory(&server, "the same, 6 s later (channels open)");
    settled_memory(&server).await;
}

/// An idle console's memory, read every second until it has not grown for `QUIET` seconds in a
/// row (at most `LONGEST`): the figure that stays, not the one right after the work.
async fn settled_memory(server: &Server) {
    const QUIET: usize = 15;
    const LONGEST: usize = 90;
    let mut highest = server.memory_kib().0;
    let (mut quiet, mut waited) = (0, 0);
    while quiet < QUIET && waited < LONGEST {
        tokio::time::sleep(Duration::from_secs(1)).await;
        waited += 1;
        let now = server.memory_kib().0;
        if now > highest {
            (highest, quiet) = (now, 0);
        } else {
            quiet += 1;
        }
    }
    let state = if quiet >= QUIET {
        "settled"
    } else {
        "still growing"
    };
    memory(server, &format!("{state} after {waited} s idle"));
    println!(
        "{:<40} {:.1} MiB",
        "memory, highest while idle",
        highest as f64 / 1024.0
    );
}
