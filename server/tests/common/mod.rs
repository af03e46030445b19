//! What the binary's tests share: running `havip` and its consoles, and plain HTTP/1.1 to
//! them.
#![allow(dead_code)] // each test binary uses its own part

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_havip");
pub const PASSWORD: &str = "lifecycle test password";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn havip(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("HAVIP_PASSWORD", PASSWORD)
        .output()
        .unwrap()
}

pub fn path(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

/// Waits for `ready`; fails the test, saying `what` did not happen, once `within` has passed.
pub fn wait_for(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the console accepts connections on `listen`, for at most 20 s.
pub fn listening(listen: &str) {
    wait_for(
        &format!("the console listening on {listen}"),
        Duration::from_secs(20),
        || TcpStream::connect(listen).is_ok(),
    );
}

/// One HTTP/1.1 request on its own connection: (status, headers, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let ctype = if body.starts_with('{') {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\nCookie: {cookie}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    response(stream)
}

pub fn response(mut stream: TcpStream) -> (u16, String, String) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

pub fn login(port: u16) -> String {
    let body = format!("name=admin&password={}", PASSWORD.replace(' ', "+"));
    let (status, head, _) = http(port, "POST", "/login", "", &body);
    assert!(status < 400, "{head}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_string()
}

/// A VPC and a subnet made over HTTP: (region, vpc, subnet) ids.
pub fn network(
    port: u16,
    cookie: &str,
    vpc_cidr: &str,
    subnet_cidr: &str,
) -> (String, String, String) {
    let made = |path: &str, body: String| {
        let answer = json(&http(port, "POST", path, cookie, &body).2);
        answer["id"].as_str().expect("an id").to_string()
    };
    let page = json(&http(port, "POST", "/api/network_page", cookie, "").2);
    let region = page["region_id"].as_str().unwrap().to_string();
    let cidr = |c: &str| c.replace('/', "%2F");
    let vpc = made(
        "/api/create_vpc",
        format!("region_id={region}&name=v&cidr={}", cidr(vpc_cidr)),
    );
    let subnet = made(
        "/api/create_subnet",
        format!("vpc_id={vpc}&name=s&cidr={}", cidr(subnet_cidr)),
    );
    (region, vpc, subnet)
}

/// A new agent for `subnet`, made over HTTP: its token.
pub fn agent_token(port: u16, cookie: &str, subnet: &str) -> String {
    let body = format!(r#"{{"name":"a1","subnet_ids":["{subnet}"]}}"#);
    let agent = json(&http(port, "POST", "/api/create_agent", cookie, &body).2);
    agent["token"].as_str().expect("an agent token").to_string()
}

pub fn exit_within(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn sigterm(child: &Child) {
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
}

/// A running console, killed if the test ends (fails) before stopping it.
pub struct Console(pub Child);

impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// SIGTERM, and exit 0 within 15 s.
pub fn stop(mut console: Console) {
    sigterm(&console.0);
    assert!(exit_within(&mut console.0, Duration::from_secs(15)).success());
}

/// `havip serve ARGS` on a free loopback port, guarded, once it answers; its port.
pub fn serve_with(args: &[&str]) -> (Console, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(BIN)
        .args(["serve", "--listen", &listen])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    listening(&listen);
    (Console(child), port)
}

pub type LiveChannel =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A browser's live channel on the console at `port`, with the session `cookie`.
pub async fn live_channel(port: u16, cookie: &str) -> LiveChannel {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://127.0.0.1:{port}/api/live_events")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}
