//! The agent's two halves. `capture` reads ARP and probes the watched addresses forever, also
//! while the console is away, so its picture stays current. `run_forever` keeps a websocket to
//! the console (TCP or Unix socket): hello; after the console's welcome, a snapshot of the
//! latest probe round; then every observation as it happens. Both sides ping; a connection
//! that goes quiet is dropped. How each connection ended decides what follows (`Backoff`):
//! reconnect soon, reconnect later and later, or stop when retrying cannot help.

use super::arp;
use super::backoff::{judge, Backoff, Decision, End, Outcome};
use super::endpoint::Endpoint;
use super::socket::{ArpSocket, VrrpSocket};
use super::watch::Watcher;
use super::AgentArgs;
use crate::agent::protocol::{
    AgentMessage, Liveness, ServerMessage, MAX_FRAME_BYTES, PROTOCOL_VERSION,
};
use app::domain::mac::Mac;
use app::support::lock;
use futures::{SinkExt, StreamExt};
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A session that got its welcome and lasted this long was healthy: when it ends, the next
/// attempt starts quickly again. Anything shorter (a refusal right after the handshake, a
/// crash loop on the console) keeps backing off.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);
/// Observations queued while the connection is slow; beyond this they are dropped (the
/// snapshot after a reconnect covers them).
const QUEUE: usize = 4096;
/// The URL asked for over the console's Unix socket (`--agent-socket`).
const UNIX_URL: &str = "ws://localhost/agent/ws";

/// What a connection needs besides the stream itself.
pub struct Reporter {
    pub interface: String,
    pub mac: Mac,
    pub token: String,
    pub watcher: Arc<Mutex<Watcher>>,
    /// Probes one address now (the raw socket; a recorder in tests).
    pub probe: Box<dyn Fn(Ipv4Addr) + Send + Sync>,
    pub liveness: Liveness,
    pub healthy_after: Duration,
}

fn send_probe(socket: &ArpSocket, ip: Ipv4Addr) {
    if let Err(e) = socket.send(&arp::probe(socket.mac, ip)) {
        tracing::warn!("agent: probe for {ip} failed: {e}");
    }
}

pub async fn run_forever(
    args: &AgentArgs,
    endpoints: Vec<Endpoint>,
    tls: Option<TlsConnector>,
    socket: ArpSocket,
    vrrp: Option<VrrpSocket>,
) -> Result<(), String> {
    let socket = Arc::new(socket);
    let watcher = Arc::new(Mutex::new(Watcher::new(socket.mac)));
    let (tx, mut rx) = mpsc::channel(QUEUE);
    if let Some(vrrp) = vrrp {
        tokio::spawn(hear_adverts(vrrp, watcher.clone(), tx.clone()));
    }
    let mut capture = tokio::spawn(capture(
        socket.clone(),
        watcher.clone(),
        tx,
        args.probe_interval,
    ));
    let prober = socket.clone();
    let reporter = Reporter {
        interface: args.interface.clone(),
        mac: socket.mac,
        token: args.token.clone(),
        watcher,
        probe: Box::new(move |ip| send_probe(&prober, ip)),
        liveness: Liveness::default(),
        healthy_after: HEALTHY_AFTER,
    };
    tokio::select! {
        ended = &mut capture => Err(match ended {
            Ok(Err(e)) => e,
            _ => "the capture task stopped".into(),
        }),
        stopped = report_forever(&endpoints, tls.as_ref(), &reporter, &mut rx) => Err(stopped),
    }
}

/// Connects to the console and reports, again after every connection ends, until retrying
/// cannot help (returns why). With several endpoints (a console's replicas), each new attempt
/// goes to the next one, after the same back-off: an agent whose replica died moves to another.
pub async fn report_forever(
    endpoints: &[Endpoint],
    tls: Option<&TlsConnector>,
    reporter: &Reporter,
    rx: &mut mpsc::Receiver<AgentMessage>,
) -> String {
    let mut backoff = Backoff::default();
    let mut turns = endpoints.iter().cycle().peekable();
    while let Some(endpoint) = turns.next() {
        let outcome = session(endpoint, tls, reporter, rx).await;
        match backoff.next(&outcome, rand::random()) {
            Decision::Stop(why) => return why,
            Decision::Retry(wait) => {
                let next = turns.peek().copied().unwrap_or(endpoint);
                tracing::warn!(
                    "agent: {}; reconnecting to {next} in {} ms",
                    outcome.message(),
                    wait.as_millis()
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
    "no console to report to (--server)".into()
}

/// Reads frames and runs the probe rounds. A round's misses are decided a quarter interval
/// (at most 250 ms) after its probes: holders answer within a millisecond. A round in which
/// one MAC answered several times is followed by the next at once (`awaits_confirmation`).
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
                let mut w = lock(&watcher);
                match arp::parse(&buf[..n]) {
                    Ok(frame) => emit(w.on_frame(&frame, std::time::Instant::now())),
                    Err(_) => {
                        w.malformed += 1;
                        if w.malformed.is_power_of_two() {
                            tracing::warn!("agent: skipped {} malformed frames so far", w.malformed);
                        }
                    }
                }
            }
            _ = async { tokio::time::sleep_until(deadline.unwrap()).await }, if deadline.is_some() => {
                deadline = None;
                let mut w = lock(&watcher);
                emit(w.end_round());
                if w.awaits_confirmation() {
                    // a second host may answer: the confirming probe goes now, not in a second
                    rounds.reset_immediately();
                }
            }
            _ = rounds.tick() => {
                if deadline.take().is_some() {
                    emit(lock(&watcher).end_round());
                }
                let ips: Vec<_> = lock(&watcher).watched().collect();
                for ip in ips {
                    send_probe(&socket, ip);
                }
                deadline = Some(Instant::now() + answer_time);
            }
        }
    }
}

/// Reports every VRRP advert that names a watched address (a master sends one per interval).
async fn hear_adverts(
    socket: VrrpSocket,
    watcher: Arc<Mutex<Watcher>>,
    tx: mpsc::Sender<AgentMessage>,
) {
    let mut buf = vec![0u8; 2048];
    loop {
        let n = match socket.recv(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("agent: reading VRRP adverts stopped: {e}");
                return;
            }
        };
        let Some(advert) = super::vrrp::parse(&buf[..n]) else {
            continue;
        };
        let watched = {
            let w = lock(&watcher);
            let mut watched = w.watched();
            watched.any(|ip| advert.addresses.contains(&ip))
        };
        if watched {
            let _ = tx.try_send(AgentMessage::Advert { advert }); // dropped when full, as above
        }
    }
}

/// Waits at most `limit` for `what`; `doing` names it in the failure.
async fn within<T>(
    limit: Duration,
    doing: &str,
    what: impl Future<Output = std::io::Result<T>>,
) -> Result<T, Outcome> {
    match timeout(limit, what).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Outcome::Failed(format!("{doing}: {e}"))),
        Err(_) => Err(Outcome::Failed(format!(
            "{doing}: no answer within {} s",
            limit.as_secs_f32()
        ))),
    }
}

/// One connection, from connecting until it ends.
pub async fn session(
    endpoint: &Endpoint,
    tls: Option<&TlsConnector>,
    reporter: &Reporter,
    rx: &mut mpsc::Receiver<AgentMessage>,
) -> Outcome {
    let limit = reporter.liveness.idle;
    match endpoint {
        Endpoint::Unix(path) => {
            let doing = format!("connecting to {}", path.display());
            match within(limit, &doing, tokio::net::UnixStream::connect(path)).await {
                Ok(stream) => report(stream, UNIX_URL, reporter, rx).await,
                Err(outcome) => outcome,
            }
        }
        Endpoint::Tcp {
            addr,
            url,
            tls: host,
        } => {
            let doing = format!("connecting to {addr}");
            let stream = match within(limit, &doing, tokio::net::TcpStream::connect(addr)).await {
                Ok(stream) => stream,
                Err(outcome) => return outcome,
            };
            let _ = stream.set_nodelay(true);
            let (Some(host), Some(tls)) = (host, tls) else {
                return report(stream, url, reporter, rx).await;
            };
            let Ok(name) = rustls::pki_types::ServerName::try_from(host.clone()) else {
                return Outcome::Fatal(format!("{host} is not a valid TLS server name"));
            };
            let doing = format!("TLS handshake with {addr}");
            match within(limit, &doing, tls.connect(name, stream)).await {
                Ok(stream) => report(stream, url, reporter, rx).await,
                // e.g. a certificate no trusted CA signed, or for another name: the console's
                // operator may fix it, so keep trying (the message says what is wrong)
                Err(Outcome::Failed(why)) if why.contains("UnknownIssuer") => Outcome::Failed(
                    format!("{why} (if a private CA signed the console's certificate, give it with --ca-cert FILE)"),
                ),
                Err(outcome) => outcome,
            }
        }
    }
}

fn request(url: &str, token: &str) -> Result<Request, Outcome> {
    let mut request = url
        .into_client_request()
        .map_err(|e| Outcome::Fatal(format!("bad server address {url}: {e}")))?;
    let value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Outcome::Fatal("the token has invalid characters".into()))?;
    request.headers_mut().insert("authorization", value);
    Ok(request)
}

fn handshake_error(e: tokio_tungstenite::tungstenite::Error) -> Outcome {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(resp) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .unwrap_or_default();
            if resp.status() == 401 {
                // a token is only ever checked against what the console stored when it was
                // created; one that fails now (mistyped, revoked, deleted) never passes later
                Outcome::Fatal(format!(
                    "the console refused the token ({body}): create a new token on the \
                     console's Agents page and restart the agent with it"
                ))
            } else {
                Outcome::Failed(format!(
                    "the console answered HTTP {} instead of a websocket: {body}",
                    resp.status()
                ))
            }
        }
        other => Outcome::Failed(format!("websocket handshake failed: {other}")),
    }
}

/// Runs the protocol over an open stream to the console: handshake, then [`exchange`].
pub async fn report<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    url: &str,
    reporter: &Reporter,
    rx: &mut mpsc::Receiver<AgentMessage>,
) -> Outcome {
    let request = match request(url, &reporter.token) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let handshake = tokio_tungstenite::client_async_with_config(request, stream, Some(config));
    let mut ws = match timeout(reporter.liveness.idle, handshake).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => return handshake_error(e),
        Err(_) => {
            return Outcome::Failed("the console did not complete the websocket handshake".into())
        }
    };
    let began = Instant::now();
    let mut welcomed = false;
    let end = exchange(&mut ws, reporter, rx, &mut welcomed).await;
    // complete the closing handshake, or say goodbye, if the console still listens
    let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
    judge(end, welcomed && began.elapsed() >= reporter.healthy_after)
}

/// Sends one frame; a console that does not take it within `limit` is gone.
async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    msg: Message,
    limit: Duration,
) -> Result<(), End> {
    match timeout(limit, ws.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(End::Broken(format!("send failed: {e}"))),
        Err(_) => Err(End::Broken(format!(
            "send failed: the console took nothing for {} s",
            limit.as_secs_f32()
        ))),
    }
}

fn json(msg: &AgentMessage) -> Message {
    Message::Text(
        serde_json::to_string(msg)
            .expect("agent messages serialize")
            .into(),
    )
}

/// Hello, then (once welcomed) the snapshot and the observations, until the connection ends.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    reporter: &Reporter,
    rx: &mut mpsc::Receiver<AgentMessage>,
    welcomed: &mut bool,
) -> End {
    let Liveness { ping, idle } = reporter.liveness;
    // what queued up while disconnected is superseded by the snapshot
    while rx.try_recv().is_ok() {}
    let hello = AgentMessage::Hello {
        version: PROTOCOL_VERSION,
        interface: reporter.interface.clone(),
        mac: reporter.mac,
    };
    if let Err(end) = send(ws, json(&hello), idle).await {
        return end;
    }
    let mut heard = Instant::now();
    let mut pings = tokio::time::interval_at(heard + ping, ping);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let sent = tokio::select! {
            Some(msg) = rx.recv(), if *welcomed => send(ws, json(&msg), idle).await,
            _ = pings.tick() => send(ws, Message::Ping(Default::default()), idle).await,
            _ = tokio::time::sleep_until(heard + idle) => {
                return End::Broken(format!(
                    "nothing heard from the console for {} s",
                    idle.as_secs_f32()
                ));
            }
            msg = ws.next() => {
                heard = Instant::now();
                let text = match msg {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(Some(frame)))) => {
                        return End::Closed {
                            code: frame.code.into(),
                            reason: frame.reason.to_string(),
                        };
                    }
                    Some(Ok(Message::Close(None))) => {
                        return End::Broken("the console closed the connection".into());
                    }
                    Some(Ok(_)) => continue, // pings are answered by tungstenite, pongs just count
                    Some(Err(e)) => return End::Broken(format!("connection lost: {e}")),
                    None => return End::Broken("connection closed".into()),
                };
                match serde_json::from_str::<ServerMessage>(&text) {
                    Ok(ServerMessage::Welcome { agent, .. }) if !*welcomed => {
                        crate::logs::announce!("agent: connected as {agent}");
                        *welcomed = true;
                        let snapshot = lock(&reporter.watcher).snapshot();
                        send(ws, json(&snapshot), idle).await
                    }
                    Ok(ServerMessage::Welcome { .. }) => Ok(()),
                    Ok(ServerMessage::Watch { ips }) => {
                        let new: Vec<_> = {
                            let mut w = lock(&reporter.watcher);
                            let new = ips
                                .iter()
                                .copied()
                                .filter(|ip| !w.watched().any(|x| x == *ip))
                                .collect();
                            w.set_watch(&ips);
                            new
                        };
                        // probe new addresses now rather than at the next round
                        for ip in new {
                            (reporter.probe)(ip);
                        }
                        Ok(())
                    }
                    Err(e) => {
                        tracing::warn!("agent: ignoring unknown server message: {e}");
                        Ok(())
                    }
                }
            }
        };
        if let Err(end) = sent {
            return end;
        }
    }
}

#[cfg(test)]
mod tests;
