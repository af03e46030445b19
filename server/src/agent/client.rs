//! The agent's two halves. `capture` reads ARP and probes the watched addresses forever, also
//! while the console is away, so its picture stays current. `run_forever` keeps a websocket to
//! the console (TCP or Unix socket): hello, a snapshot of the latest probe round, then every
//! observation as it happens; on failure it reconnects with exponential backoff and jitter.

use super::arp;
use super::socket::ArpSocket;
use super::watch::Watcher;
use super::AgentArgs;
use crate::protocol::{AgentMessage, ServerMessage, MAX_FRAME_BYTES, PROTOCOL_VERSION};
use futures::{SinkExt, StreamExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Observations queued while the connection is slow; beyond this they are dropped (the
/// snapshot after a reconnect covers them).
const QUEUE: usize = 4096;

pub async fn run_forever(args: &AgentArgs, socket: ArpSocket) -> Result<(), String> {
    let socket = Arc::new(socket);
    let watcher = Arc::new(Mutex::new(Watcher::new(socket.mac)));
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let mut capture = tokio::spawn(capture(
        socket.clone(),
        watcher.clone(),
        tx,
        args.probe_interval,
    ));
    let mut backoff = BACKOFF_START;
    loop {
        tokio::select! {
            ended = &mut capture => {
                return Err(match ended {
                    Ok(Err(e)) => e,
                    _ => "the capture task stopped".into(),
                });
            }
            result = session(args, &socket, &watcher, &mut rx) => match result {
                Ok(()) => backoff = BACKOFF_START,
                Err(Fatal(e)) => return Err(e),
                Err(Retry(e)) => eprintln!("agent: {e}"),
            }
        }
        // full jitter: a fleet of agents does not reconnect in lockstep
        let wait = backoff.mul_f64(0.5 + rand::random::<f64>() * 0.5);
        eprintln!("agent: reconnecting in {} ms", wait.as_millis());
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Reads frames and runs the probe rounds. A round's misses are decided a quarter interval
/// (at most 250 ms) after its probes: holders answer within a millisecond.
async fn capture(
    socket: Arc<ArpSocket>,
    watcher: Arc<Mutex<Watcher>>,
    tx: mpsc::Sender<AgentMessage>,
    interval: Duration,
) -> Result<(), String> {
    let answer_time = (interval / 4).min(Duration::from_millis(250));
    let mut rounds = tokio::time::interval(interval);
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut deadline: Option<Instant> = None;
    let mut buf = vec![0u8; 2048];
    let emit = |msgs: Vec<AgentMessage>| {
        for msg in msgs {
            let _ = tx.try_send(msg); // full or nobody connected: dropped, the snapshot covers it
        }
    };
    loop {
        tokio::select! {
            n = socket.recv(&mut buf) => {
                let n = n.map_err(|e| format!("reading the raw socket: {e}"))?;
                let mut w = watcher.lock().unwrap();
                match arp::parse(&buf[..n]) {
                    Ok(frame) => emit(w.on_frame(&frame, std::time::Instant::now())),
                    Err(_) => {
                        w.malformed += 1;
                        if w.malformed.is_power_of_two() {
                            eprintln!("agent: skipped {} malformed frames so far", w.malformed);
                        }
                    }
                }
            }
            _ = async { tokio::time::sleep_until(deadline.unwrap()).await }, if deadline.is_some() => {
                deadline = None;
                emit(watcher.lock().unwrap().end_round());
            }
            _ = rounds.tick() => {
                if deadline.take().is_some() {
                    emit(watcher.lock().unwrap().end_round());
                }
                let ips: Vec<_> = watcher.lock().unwrap().watched().collect();
                for ip in ips {
                    if let Err(e) = socket.send(&arp::probe(socket.mac, ip)) {
                        eprintln!("agent: probe for {ip} failed: {e}");
                    }
                }
                deadline = Some(Instant::now() + answer_time);
            }
        }
    }
}

enum Failure {
    Retry(String),
    Fatal(String),
}
use Failure::{Fatal, Retry};

async fn session(
    args: &AgentArgs,
    socket: &ArpSocket,
    watcher: &Mutex<Watcher>,
    rx: &mut mpsc::Receiver<AgentMessage>,
) -> Result<(), Failure> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    if let Some(path) = args.server.strip_prefix("unix:") {
        let stream = tokio::net::UnixStream::connect(path)
            .await
            .map_err(|e| Retry(format!("{path}: {e}")))?;
        let request = request("ws://localhost/agent/ws", &args.token)?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(handshake_error)?;
        connected(report(ws, args, socket, watcher, rx).await)
    } else {
        let base = args
            .server
            .trim_end_matches('/')
            .replacen("http://", "ws://", 1);
        let url = if base.ends_with("/agent/ws") {
            base
        } else {
            format!("{base}/agent/ws")
        };
        let request = request(&url, &args.token)?;
        let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .map_err(handshake_error)?;
        connected(report(ws, args, socket, watcher, rx).await)
    }
}

/// A connection that was established and then ended resets the backoff: the next attempt
/// starts quickly.
fn connected(result: Result<(), Failure>) -> Result<(), Failure> {
    match result {
        Err(Retry(e)) => {
            eprintln!("agent: {e}");
            Ok(())
        }
        other => other,
    }
}

fn request(
    url: &str,
    token: &str,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, Failure> {
    let mut request = url
        .into_client_request()
        .map_err(|e| Fatal(format!("bad server address {url}: {e}")))?;
    let value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Fatal("the token has invalid characters".into()))?;
    request.headers_mut().insert("authorization", value);
    Ok(request)
}

fn handshake_error(e: tokio_tungstenite::tungstenite::Error) -> Failure {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(resp) if resp.status() == 401 => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .unwrap_or_default();
            // keep retrying (slowly): the operator may be fixing the token on the console
            Retry(format!("the server refused the token: {body}"))
        }
        other => Retry(format!("cannot connect: {other}")),
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    msg: &AgentMessage,
) -> Result<(), Failure> {
    let text = serde_json::to_string(msg).expect("agent messages serialize");
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|e| Retry(format!("send failed: {e}")))
}

async fn report<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: WebSocketStream<S>,
    args: &AgentArgs,
    socket: &ArpSocket,
    watcher: &Mutex<Watcher>,
    rx: &mut mpsc::Receiver<AgentMessage>,
) -> Result<(), Failure> {
    // what queued up while disconnected is superseded by the snapshot
    while rx.try_recv().is_ok() {}
    let hello = AgentMessage::Hello {
        version: PROTOCOL_VERSION,
        interface: args.interface.clone(),
        mac: socket.mac,
    };
    send(&mut ws, &hello).await?;
    let snapshot = watcher.lock().unwrap().snapshot();
    send(&mut ws, &snapshot).await?;
    loop {
        tokio::select! {
            Some(msg) = rx.recv() => send(&mut ws, &msg).await?,
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(&text) {
                    Ok(ServerMessage::Watch { ips }) => {
                        let new: Vec<_> = {
                            let mut w = watcher.lock().unwrap();
                            let new = ips.iter().copied().filter(|ip| !w.watched().any(|x| x == *ip)).collect();
                            w.set_watch(&ips);
                            new
                        };
                        // probe new addresses now rather than at the next round
                        for ip in new {
                            let _ = socket.send(&arp::probe(socket.mac, ip));
                        }
                    }
                    Ok(ServerMessage::Welcome { agent, .. }) => println!("agent: connected as {agent}"),
                    Err(e) => eprintln!("agent: ignoring unknown server message: {e}"),
                },
                Some(Ok(Message::Close(frame))) => {
                    let reason = frame.map(|f| format!("{} ({})", f.reason, u16::from(f.code))).unwrap_or_default();
                    return Err(Retry(format!("server closed the connection: {reason}")));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(Retry(format!("connection lost: {e}"))),
                None => return Err(Retry("connection closed".into())),
            }
        }
    }
}
