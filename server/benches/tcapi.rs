//! Signed requests per second to the Tencent-compatible API over loopback: the real release
//! binary (`target/release/havip`, built first), 16 clients on keep-alive connections, each
//! request signed with TC3-HMAC-SHA256 as the SDKs sign. CreateHaVip (automatic addresses in a
//! /16 subnet, durable: flushed before the answer), then DescribeHaVips (Limit 20). Each action
//! runs for `HAVIP_BENCH_SECONDS` or 30,000 requests, whichever ends first (a /16 holds 65,533).
//!
//!   cargo bench -p havip --bench tcapi            (HAVIP_BENCH_SECONDS, default 10 per action)

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod common;
use common::{stats, Conn, Server};

const CLIENTS: usize = 16;
/// (three actions' requests stay under the 100,000 signatures the console remembers within
/// their window, past which it refuses new ones rather than forget one early)
const MAX_REQUESTS: usize = 30_000;

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

struct Key {
    id: String,
    secret: String,
}

/// One signed POST on a keep-alive connection; returns the JSON answer.
async fn call(
    conn: &mut Conn,
    host: &str,
    key: &Key,
    action: &str,
    body: &str,
) -> serde_json::Value {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // the UTC date of the timestamp, as the console's own clock formats it
    let date = app::domain::model::format_time(ts * 1000)[..10].to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json\nhost:{host}\n\ncontent-type;host\n{}",
        hex::encode(Sha256::digest(body.as_bytes()))
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{ts}\n{date}/vpc/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac(
        &hmac(&hmac(format!("TC3{}", key.secret).as_bytes(), &date), "vpc"),
        "tc3_request",
    );
    let signature = hex::encode(hmac(&k, &to_sign));
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: {action}\r\n\
         X-TC-Timestamp: {ts}\r\nX-TC-Version: 2017-03-12\r\nX-TC-Region: ap-default\r\n\
         Authorization: TC3-HMAC-SHA256 Credential={}/{date}/vpc/tc3_request, SignedHeaders=content-type;host, Signature={signature}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        key.id,
        body.len()
    );
    conn.send(request.as_bytes()).await.json()
}

async fn run(
    host: &str,
    key: &Key,
    label: &str,
    action: &str,
    body: impl Fn() -> String + Clone + Send + 'static,
    seconds: u64,
) {
    let end = Instant::now() + Duration::from_secs(seconds);
    let began = Instant::now();
    // at most MAX_REQUESTS per action
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = vec![];
    for _ in 0..CLIENTS {
        let sent = sent.clone();
        let (host, key, action, body) = (
            host.to_string(),
            Key {
                id: key.id.clone(),
                secret: key.secret.clone(),
            },
            action.to_string(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&host).await;
            let mut ms = vec![];
            while Instant::now() < end
                && sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < MAX_REQUESTS
            {
                let t = Instant::now();
                let answer = call(&mut conn, &host, &key, &action, &body()).await;
                assert!(answer["Response"]["Error"].is_null(), "{answer}");
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    stats(label, all, began.elapsed());
}

#[tokio::main]
async fn main() {
    let seconds: u64 = common::env_number("HAVIP_BENCH_SECONDS", 10);
    let (_dir, data) = common::data_with_admin();
    let data_arg = data.as_str();
    let line = common::run(&["key", "create", "bench", "--data-dir", data_arg]);
    let mut parts = line.split_whitespace();
    let key = Key {
        id: parts.next().unwrap().into(),
        secret: parts.next().unwrap().into(),
    };
    let port = common::port(0);
    let host = format!("127.0.0.1:{port}");
    let _server = Server::start(&[
        "--listen",
        &format!("127.0.0.1:{}", port + 1),
        "--data-dir",
        data_arg,
        "--api-listen",
        &host,
        "--api-rate",
        "1000000",
        "--quota",
        "1000000",
    ]);
    let mut conn = Conn::open(&host).await;
    let vpc = call(
        &mut conn,
        &host,
        &key,
        "CreateVpc",
        r#"{"VpcName":"bench","CidrBlock":"10.0.0.0/16"}"#,
    )
    .await;
    let vpc = vpc["Response"]["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_string();
    let body = format!(r#"{{"VpcId":"{vpc}","SubnetName":"bench","CidrBlock":"10.0.0.0/16"}}"#);
    let subnet = call(&mut conn, &host, &key, "CreateSubnet", &body).await;
    let subnet = subnet["Response"]["Subnet"]["SubnetId"]
        .as_str()
        .unwrap()
        .to_string();
    println!(
        "{CLIENTS} clients, keep-alive, loopback, {seconds} s per action ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // each request's body differs (a name, an offset): a signature is accepted once, and two
    // identical requests signed in the same second are one signature
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let next = move || n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let create = {
        let next = next.clone();
        move || {
            format!(
                r#"{{"VpcId":"{vpc}","SubnetId":"{subnet}","HaVipName":"bench-{}"}}"#,
                next()
            )
        }
    };
    let describe = move || format!(r#"{{"Limit":20,"Offset":{}}}"#, next());
    run(
        &host,
        &key,
        "DescribeHaVips (empty region)",
        "DescribeHaVips",
        describe.clone(),
        seconds,
    )
    .await;
    run(
        &host,
        &key,
        "CreateHaVip (durable)",
        "CreateHaVip",
        create,
        seconds,
    )
    .await;
    // (a new connection: the first one has been idle through the runs)
    let mut conn = Conn::open(&host).await;
    let total = call(&mut conn, &host, &key, "DescribeHaVips", r#"{"Limit":1}"#).await["Response"]
        ["TotalCount"]
        .clone();
    run(
        &host,
        &key,
        &format!("DescribeHaVips ({total} HAVIPs)"),
        "DescribeHaVips",
        describe,
        seconds,
    )
    .await;
}
