//! The console's listener: one accept loop for HTTP and HTTPS, with the limits that keep slow
//! or idle clients from holding its connections (400 connections that each sent half a request
//! header all stayed open before these limits).
//!
//! - **Connections:** at most `max_connections` at once (default 1024). Past it a new connection
//!   is refused at once: over plain HTTP it reads a short `503 Service Unavailable`
//!   (`Retry-After: 1`, `Connection: close`) and is closed; over TLS it is closed before the
//!   handshake (no handshake is spent on a connection that is refused, and a TLS client could
//!   not read a plain answer). Websockets count until they close.
//! - **TLS handshake:** at most `handshake_timeout` (10 s).
//! - **Request header:** a connection that has not sent a complete request header
//!   `header_timeout` (10 s) after connecting is closed. On HTTP/1.1 hyper's header timer also
//!   runs between requests (hyper 1.12, `proto/h1/conn.rs`: when an answer is finished,
//!   `State::idle` makes the next `poll_read_head` start the timer again), so an idle kept-alive
//!   HTTP/1.1 connection is closed after `header_timeout` too.
//! - **Idle:** a connection that has gone `idle_timeout` (60 s) without a request since its last
//!   answer is closed, gracefully (HTTP/2: GOAWAY; what is in flight finishes). HTTP/2 also pings
//!   every 30 s and closes a connection whose peer no longer answers.
//! - **Upgrades:** an upgraded connection (the live channel, agents' websockets) is no longer
//!   HTTP: none of these timeouts apply to it, however long it stays silent.
//!
//! Every accepted socket has TCP_NODELAY, each request carries `ConnectInfo<SocketAddr>`, and
//! HTTP/2 is offered over TLS (ALPN, see `tls`).

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The default of `--max-connections`. A large site has a few hundred agents (one websocket
/// each) and a few browsers (up to six connections each, plus the live channel): 1024 leaves
/// room for them, and stays well below the open-file limit of the systemd unit (65,536).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;

/// How long requests in flight may take to finish once shutting down (or once an idle
/// connection is asked to close).
pub const GRACE: Duration = Duration::from_secs(10);

/// How long accepting pauses after an error such as EMFILE (no file descriptor left until some
/// connection closes), instead of failing again at once.
const ACCEPT_PAUSE: Duration = Duration::from_millis(250);

/// HTTP/2 pings this often; a peer that does not answer within hyper's 20 s is dropped.
const HTTP2_PING_INTERVAL: Duration = Duration::from_secs(30);

/// A refused connection is logged at most this often (a flood must not flood the log).
const REFUSAL_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// The listener's limits (see the module's documentation).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: u32,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            grace: GRACE,
        }
    }
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` completes; then
/// stops accepting and lets requests in flight finish (at most `limits.grace`).
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let places = Arc::new(Semaphore::new(limits.max_connections as usize));
    let http = Arc::new(http_builder(&limits));
    // each connection holds a receiver while it serves HTTP (not once upgraded): the sender's
    // `closed()` tells when they have all finished
    let (stop, stopping) = watch::channel(false);
    let mut refusals = Refusals::default();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                tracing::warn!("accepting a connection: {e}; pausing {ACCEPT_PAUSE:?}");
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        // no Nagle: a page streamed in several writes must not wait for the browser's delayed
        // ACK (40 ms per page, measured)
        let _ = tcp.set_nodelay(true);
        let Ok(place) = places.clone().try_acquire_owned() else {
            refusals.note(limits.max_connections);
            refuse(tcp, tls.is_some());
            continue;
        };
        let connection = Connection {
            peer,
            accepted: Instant::now(),
            app: app.clone(),
            http: http.clone(),
            limits: limits.clone(),
            stopping: stopping.clone(),
        };
        tokio::spawn(connection.run(tcp, place, tls.clone()));
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(true);
    if tokio::time::timeout(limits.grace, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s; stopping without them",
            limits.grace.as_secs()
        );
    }
    Ok(())
}

fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_PING_INTERVAL);
    builder
}

/// Errors of one connection (it was reset before it was accepted): the next one is fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// What a plain HTTP connection past the limit reads before it is closed.
fn refusal() -> String {
    let body = "the console has too many open connections; try again in a moment\n";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Refuses a connection past the limit and closes it at once, without waiting on the client
/// (a refused connection holds nothing, however many come).
fn refuse(tcp: TcpStream, tls: bool) {
    if !tls {
        // a new socket's send buffer takes these few bytes at once
        let _ = tcp.try_write(refusal().as_bytes());
        // what the client already sent is read away, so that closing sends a FIN (the client
        // reads the answer) rather than a reset (which may discard it)
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if !matches!(tcp.try_read(&mut sink), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

/// Counts refused connections and warns about them now and then.
#[derive(Default)]
struct Refusals {
    since_warning: u64,
    last_warning: Option<Instant>,
}

impl Refusals {
    fn note(&mut self, max_connections: u32) {
        self.since_warning += 1;
        if self
            .last_warning
            .is_some_and(|at| at.elapsed() < REFUSAL_WARNING_INTERVAL)
        {
            return;
        }
        tracing::warn!(
            "refused {} connection(s): {max_connections} are open (--max-connections)",
            self.since_warning
        );
        self.since_warning = 0;
        self.last_warning = Some(Instant::now());
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    peer: SocketAddr,
    accepted: Instant,
    app: Router,
    http: Arc<auto::Builder<TokioExecutor>>,
    limits: Limits,
    stopping: watch::Receiver<bool>,
}

/// Why a connection is closed before its client closes it.
enum Ending {
    /// no complete request header within the header timeout of connecting: closed at once
    NoRequest,
    /// no request for the idle timeout since the last answer: closed gracefully
    Idle,
    /// the console is shutting down: closed gracefully
    ShuttingDown,
}

impl Connection {
    async fn run(
        mut self,
        tcp: TcpStream,
        place: OwnedSemaphorePermit,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) {
        let Some(tls) = tls else {
            return self
                .serve(Placed {
                    stream: tcp,
                    _place: place,
                })
                .await;
        };
        let handshake = tokio::time::timeout(self.limits.handshake_timeout, tls.accept(tcp));
        let stream = tokio::select! {
            done = handshake => match done {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!("TLS handshake from {}: {e}", self.peer);
                    return;
                }
                Err(_) => {
                    tracing::debug!("TLS handshake from {} timed out", self.peer);
                    return;
                }
            },
            () = stopped(&mut self.stopping) => return,
        };
        self.serve(Placed {
            stream,
            _place: place,
        })
        .await
    }

    async fn serve<S>(mut self, stream: Placed<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new(self.accepted));
        let service = hyper::service::service_fn({
            let (app, peer, activity) = (self.app.clone(), self.peer, activity.clone());
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let answering = activity.request_started();
                let answer = tower::ServiceExt::oneshot(app.clone(), request);
                async move {
                    let answer = answer.await;
                    drop(answering);
                    answer
                }
            }
        });
        let mut http = pin!(self
            .http
            .serve_connection_with_upgrades(TokioIo::new(stream), service));
        // `http` completes when the client closes, on an error (the header timeout among them),
        // or when the connection is upgraded: the websocket then owns the stream (and its place)
        let ending = tokio::select! {
            served = http.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!("connection from {}: {e}", self.peer);
                }
                return;
            }
            ending = activity.ended(&self.limits) => ending,
            () = stopped(&mut self.stopping) => Ending::ShuttingDown,
        };
        if let Ending::NoRequest = ending {
            return;
        }
        http.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(self.limits.grace, http).await;
    }
}

/// Resolves once the listener stops (or is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|&stop| stop).await;
}

/// A connection's requests: how many are being answered, and since when it has been quiet.
struct Activity {
    state: Mutex<ActivityState>,
}

struct ActivityState {
    requests: u64,
    answering: u32,
    /// when the connection was accepted, or a request last started or was answered
    since: Instant,
}

/// A request being answered; dropped when its answer is ready.
struct Answering(Arc<Activity>);

impl Activity {
    fn new(accepted: Instant) -> Self {
        Activity {
            state: Mutex::new(ActivityState {
                requests: 0,
                answering: 0,
                since: accepted,
            }),
        }
    }

    fn request_started(self: &Arc<Self>) -> Answering {
        let mut state = app::support::lock(&self.state);
        state.requests += 1;
        state.answering += 1;
        state.since = Instant::now();
        Answering(self.clone())
    }

    /// Resolves when the connection has been quiet too long: no request within the header
    /// timeout of connecting, or none for the idle timeout since its last answer.
    async fn ended(&self, limits: &Limits) -> Ending {
        loop {
            let (deadline, quiet, first) = {
                let state = app::support::lock(&self.state);
                let first = state.requests == 0;
                let allowed = if first {
                    limits.header_timeout
                } else {
                    limits.idle_timeout
                };
                (state.since + allowed, state.answering == 0, first)
            };
            if Instant::now() < deadline {
                tokio::time::sleep_until(deadline).await;
            } else if !quiet {
                // a request still being answered: look again once it could have gone quiet
                tokio::time::sleep(limits.idle_timeout).await;
            } else if first {
                return Ending::NoRequest;
            } else {
                return Ending::Idle;
            }
        }
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        let mut state = app::support::lock(&self.0.state);
        state.answering -= 1;
        state.since = Instant::now();
    }
}

/// A connection's stream and its place under the connection limit. The place is given back
/// when the stream is dropped: when the connection ends, or, once it is upgraded, when its
/// websocket does (hyper hands this stream to the upgrade).
struct Placed<S> {
    stream: S,
    _place: OwnedSemaphorePermit,
}

impl<S: AsyncRead + Unpin> AsyncRead for Placed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Placed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
