//! What the benches over the real binary share: starting `target/release/havip` on loopback,
//! a minimal keep-alive HTTP/1.1 client (as light as `wrk`, so the client takes little of the
//! two cores from the server), and the statistics printed.

#![allow(dead_code)] // each bench uses part of it

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const PASSWORD: &str = "bench password 1234";

/// The release binary (`make build` first).
pub fn binary() -> PathBuf {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/havip");
    assert!(bin.exists(), "build the release binary first (make build)");
    bin
}

/// Runs one `havip` command to its end (user add, key create), returns its output.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(binary())
        .args(args)
        .env("HAVIP_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A number from the environment variable `name`, or `default`.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A new data directory (in a temporary directory, removed when dropped) whose user `bench`
/// is an admin with `PASSWORD`.
pub fn data_with_admin() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").to_str().unwrap().to_string();
    run(&[
        "user",
        "add",
        "bench",
        "--role",
        "admin",
        "--data-dir",
        &data,
    ]);
    (dir, data)
}

/// `havip serve` running for the bench; stopped when dropped.
pub struct Server(pub Child);

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let child = Command::new(binary())
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Server(child)
    }

    /// Stops it as an operator would (SIGTERM), and waits until it has.
    #[allow(dead_code)] // not every bench restarts its server
    pub fn stop(mut self) {
        // SAFETY: kill only sends a signal to the child we started
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }

    /// Resident memory in KiB (from /proc): now, at its highest, and now without the pages
    /// mapped from files (the binary's code: shared, and dropped first under pressure).
    pub fn memory_kib(&self) -> (u64, u64, u64) {
        let read =
            |file: &str| std::fs::read_to_string(format!("/proc/{}/{file}", self.0.id())).unwrap();
        let field = |text: &str, name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        // `status` sums per-thread counters that lag behind (the kernel says so); the page
        // tables, counted by `smaps_rollup`, are exact
        let (rollup, status) = (read("smaps_rollup"), read("status"));
        (
            field(&rollup, "Rss:"),
            field(&status, "VmHWM:"),
            field(&rollup, "Anonymous:"),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free-ish loopback port for this run (the pid spreads concurrent runs apart).
pub fn port(offset: u16) -> u16 {
    20_000 + (std::process::id() % 20_000) as u16 + offset
}

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The answer, which must be a 200 (`what` and the body say which one was not).
    pub fn ok(self, what: &str) -> Answer {
        assert_eq!(
            self.status,
            200,
            "{what}: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }
}

/// One keep-alive connection.
pub struct Conn(BufReader<TcpStream>);

impl Conn {
    /// Connects, waiting for the server to listen (up to 30 s).
    pub async fn open(addr: &str) -> Conn {
        for _ in 0..600 {
            if let Ok(c) = TcpStream::connect(addr).await {
                c.set_nodelay(true).unwrap();
                return Conn(BufReader::new(c));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nothing listens on {addr}");
    }

    /// Sends a request (head and body as given) and reads the whole answer, whether it has a
    /// length or is chunked.
    pub async fn send(&mut self, request: &[u8]) -> Answer {
        self.0.get_mut().write_all(request).await.unwrap();
        let mut line = String::new();
        self.0.read_line(&mut line).await.unwrap();
        let status = line
            .split_whitespace()
            .nth(1)
            .unwrap_or("0")
            .parse()
            .unwrap();
        let mut headers = vec![];
        loop {
            let mut line = String::new();
            self.0.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        let mut answer = Answer {
            status,
            headers,
            body: vec![],
        };
        if let Some(length) = answer.header("content-length") {
            let mut body = vec![0; length.parse().unwrap()];
            self.0.read_exact(&mut body).await.unwrap();
            answer.body = body;
        } else if answer.header("transfer-encoding") == Some("chunked") {
            loop {
                let mut size = String::new();
                self.0.read_line(&mut size).await.unwrap();
                let size = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0; size + 2];
                self.0.read_exact(&mut chunk).await.unwrap();
                if size == 0 {
                    break;
                }
                answer.body.extend_from_slice(&chunk[..size]);
            }
        }
        answer
    }
}

/// `POST path` with a body of `content_type`, and the session cookie if any.
pub fn post(host: &str, path: &str, content_type: &str, cookie: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nContent-Type: {content_type}\r\n\
         Cookie: {cookie}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `GET path` as a browser asks for a page.
pub fn get_page(host: &str, path: &str, cookie: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nCookie: {cookie}\r\n\r\n")
        .into_bytes()
}

/// The value at quantile `p` (0..=1) of sorted samples.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// One line: how many, how fast, median, p99 and max latency.
pub fn stats(name: &str, mut ms: Vec<f64>, elapsed: Duration) {
    if ms.is_empty() {
        println!("{name}: no request finished");
        return;
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{name:<40} {:>7} in {:.1} s: {:>7.0}/s   latency median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        elapsed.as_secs_f64(),
        ms.len() as f64 / elapsed.as_secs_f64(),
        quantile(&ms, 0.5),
        quantile(&ms, 0.99),
        ms[ms.len() - 1]
    );
}

/// Logs the bench admin in; its session cookie (`name=value`).
pub async fn login(host: &str) -> String {
    login_as(host, "bench").await
}

/// Logs `name` (with `PASSWORD`) in; its session cookie (`name=value`).
pub async fn login_as(host: &str, name: &str) -> String {
    let body = format!("name={name}&password={}", PASSWORD.replace(' ', "+"));
    let request = post(
        host,
        "/login",
        "application/x-www-form-urlencoded",
        "",
        &body,
    );
    let answer = Conn::open(host).await.send(&request).await.ok("login");
    let cookie = answer.header("set-cookie").expect("a session cookie");
    cookie.split(';').next().unwrap().to_string()
}

/// A server function with form arguments; its JSON answer.
pub async fn call(
    conn: &mut Conn,
    host: &str,
    cookie: &str,
    name: &str,
    form: &str,
) -> serde_json::Value {
    let path = format!("/api/{name}");
    let request = post(
        host,
        &path,
        "application/x-www-form-urlencoded",
        cookie,
        form,
    );
    conn.send(&request).await.ok(name).json()
}
