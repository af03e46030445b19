//! A login flood against the release binary (`target/release/havip`) on loopback: what the
//! console lets through, what it costs in memory, and whether its admin gets in.
//!
//! 1. the admin (`bench`) logs in once from a browser: it gets a device cookie;
//! 2. 300 parallel wrong logins for `bench` from one address, each on its own connection;
//! 3. 40 logins with 900 KB names;
//! 4. right after, the admin's browser logs in again with the right password.
//!
//! Printed: how many guesses were checked (answered 401) against the back-off's allowance
//! (3 at once, then one more each time the delay has passed: 1 s, 2 s, …), how many were
//! refused unchecked (429), the server's peak resident memory, and the admin's login.
//! Measured, not asserted: see BENCHMARKS.md.
//!
//!   cargo bench -p havip --bench login_flood

use std::time::Instant;

mod common;
use common::{post, Conn, Server};

const FLOOD: usize = 300;
const HUGE_NAMES: usize = 40;

fn form(name: &str, password: &str) -> String {
    format!("name={name}&password={}", password.replace(' ', "+"))
}

/// A login as a browser sends it (Accept: application/json here, to read the status).
async fn login(host: &str, name: &str, password: &str, cookie: &str) -> common::Answer {
    let request = post(
        host,
        "/login",
        "application/x-www-form-urlencoded",
        cookie,
        &form(name, password),
    );
    Conn::open(host).await.send(&request).await
}

fn cookie_named(answer: &common::Answer, name: &str) -> Option<String> {
    answer
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.split(';').next().unwrap_or("").to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn count(answers: &[common::Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

#[tokio::main]
async fn main() {
    let (_dir, data) = common::data_with_admin();
    let host = format!("127.0.0.1:{}", common::port(7));
    let server = Server::start(&["--listen", &host, "--data-dir", &data]);
    let admin = login(&host, "bench", common::PASSWORD, "").await;
    assert_eq!(admin.status, 200, "the admin's first login");
    let device = cookie_named(&admin, "havip_device").expect("a device cookie");
    let (rss, peak_before, _) = server.memory_kib();
    println!(
        "release binary, {} cores; after the admin's login: resident {:.1} MiB, peak {:.1} MiB",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rss as f64 / 1024.0,
        peak_before as f64 / 1024.0
    );

    let began = Instant::now();
    let flood = (0..FLOOD).map(|i| {
        let host = host.clone();
        tokio::spawn(async move { login(&host, "bench", &format!("wrong guess {i}"), "").await })
    });
    let answers: Vec<common::Answer> = futures::future::join_all(flood)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    println!(
        "{FLOOD} parallel wrong logins in {:.2} s: {} checked (401; the back-off allows 3, then 1 per delay passed), {} refused unchecked (429), {} other",
        began.elapsed().as_secs_f64(),
        count(&answers, 401),
        count(&answers, 429),
        FLOOD - count(&answers, 401) - count(&answers, 429)
    );

    let huge = "a".repeat(900 * 1024);
    let began = Instant::now();
    let floods = (0..HUGE_NAMES).map(|_| {
        let (host, huge) = (host.clone(), huge.clone());
        tokio::spawn(async move { login(&host, &huge, "whatever", "").await })
    });
    let answers: Vec<common::Answer> = futures::future::join_all(floods)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    println!(
        "{HUGE_NAMES} logins with 900 KB names in {:.2} s: {} refused as invalid names (422), {} other",
        began.elapsed().as_secs_f64(),
        count(&answers, 422),
        HUGE_NAMES - count(&answers, 422)
    );

    let began = Instant::now();
    let again = login(&host, "bench", common::PASSWORD, &device).await;
    println!(
        "the admin's browser right after: {} in {:.1} ms",
        again.status,
        began.elapsed().as_secs_f64() * 1000.0
    );
    let stranger = login(&host, "bench", common::PASSWORD, "").await;
    println!(
        "the right password from a browser without the device cookie: {} (held back by the name's delay)",
        stranger.status
    );
    let (rss, peak, _) = server.memory_kib();
    println!(
        "memory: peak resident {:.1} MiB (goal: under 150 MiB), resident now {:.1} MiB",
        peak as f64 / 1024.0,
        rss as f64 / 1024.0
    );
}
