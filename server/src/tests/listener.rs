//! The listener's limits over real sockets on 127.0.0.1: slow and silent clients are
//! disconnected after the header (or TLS handshake) timeout, plain and TLS; past the connection
//! limit a connection is refused (a 503 over plain HTTP) until a place is free again;
//! websockets outlive the timeouts and count toward the limit; HTTP/2 over TLS is served and
//! closed once idle.

use crate::console::listener::Limits;
use crate::tests::tls::{connector, pki, Pki};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use futures::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Only stops a test that hangs: nothing here is expected to take nearly as long.
const DEADLINE: Duration = Duration::from_secs(10);

/// Timeouts short enough for a test to see them pass.
fn short_timeouts() -> Limits {
    Limits {
        handshake_timeout: Duration::from_millis(300),
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        grace: Duration::from_secs(1),
        ..Limits::default()
    }
}

/// Timeouts no test reaches: connections stay open until the test closes them.
fn long_timeouts(max_connections: u32) -> Limits {
    Limits {
        max_connections,
        handshake_timeout: Duration::from_secs(120),
        header_timeout: Duration::from_secs(120),
        idle_timeout: Duration::from_secs(120),
        ..Limits::default()
    }
}

/// `/` answers with the client's address (from `ConnectInfo`); `/ws` echoes text messages.
fn app() -> Router {
    Router::new()
        .route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                format!("hello {}", peer.ip())
            }),
        )
        .route(
            "/ws",
            get(|upgrade: WebSocketUpgrade| async { upgrade.on_upgrade(echo) }),
        )
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(_) = message {
            if socket.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// The listener on a free loopback port (over TLS with `pki`); returns the port.
fn start(pki: Option<&Pki>, limits: Limits) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = pki.map(|pki| crate::tls::server_config(&pki.cert, &pki.key).unwrap());
    tokio::spawn(crate::console::listener::serve(
        listener,
        app(),
        tls,
        limits,
        std::future::pending(),
    ));
    port
}

async fn tcp(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).await.unwrap()
}

async fn tls(port: u16, pki: &Pki) -> tokio_rustls::client::TlsStream<TcpStream> {
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector(Some(&pki.ca))
        .connect(name, tcp(port).await)
        .await
        .unwrap()
}

/// What the server sent until it closed the connection (an end or a reset); fails the test if
/// the connection is still open after `DEADLINE`.
async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let mut answer = Vec::new();
    let read = timeout(DEADLINE, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "still open after {DEADLINE:?}");
    String::from_utf8_lossy(&answer).into()
}

const HALF_A_HEADER: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow";
const KEPT_ALIVE_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const LAST_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

/// A silent client, one that sends half a request header, and one that stays silent after an
/// answer on a kept-alive connection: all three are closed by the server.
async fn slow_clients_are_closed<S: AsyncRead + AsyncWrite + Unpin>(
    mut silent: S,
    mut half: S,
    mut kept_alive: S,
) {
    half.write_all(HALF_A_HEADER).await.unwrap();
    kept_alive.write_all(KEPT_ALIVE_REQUEST).await.unwrap();
    assert_eq!(read_until_closed(&mut silent).await, "");
    let answer = read_until_closed(&mut half).await;
    assert!(!answer.contains("hello"), "{answer}");
    let answer = read_until_closed(&mut kept_alive).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("hello 127.0.0.1"), "{answer}");
}

#[tokio::test]
async fn slow_clients_are_disconnected_after_the_header_timeout() {
    let port = start(None, short_timeouts());
    slow_clients_are_closed(tcp(port).await, tcp(port).await, tcp(port).await).await;
}

#[tokio::test]
async fn slow_clients_are_disconnected_after_the_header_or_handshake_timeout_over_tls() {
    let pki = pki();
    let port = start(Some(&pki), short_timeouts());
    // connected, no TLS handshake
    let mut no_handshake = tcp(port).await;
    assert_eq!(read_until_closed(&mut no_handshake).await, "");
    slow_clients_are_closed(
        tls(port, &pki).await,
        tls(port, &pki).await,
        tls(port, &pki).await,
    )
    .await;
}

/// One request with `Connection: close` over plain HTTP; the whole answer.
async fn http_get(port: u16) -> String {
    let mut stream = tcp(port).await;
    // a refused connection may be closed before the request is written
    let _ = stream.write_all(LAST_REQUEST).await;
    read_until_closed(&mut stream).await
}

/// Asks until `served` says an answer was served; fails the test after `DEADLINE`.
async fn until_served<F: std::future::Future<Output = String>>(
    ask: impl Fn() -> F,
    served: impl Fn(&str) -> bool,
) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let answer = ask().await;
        if served(&answer) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not served: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn past_the_limit_a_connection_is_refused_until_a_place_is_free() {
    let port = start(None, long_timeouts(4));
    // three idle connections and a websocket take the four places
    let mut idle = vec![tcp(port).await, tcp(port).await, tcp(port).await];
    let (mut websocket, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .unwrap();

    let answer = read_until_closed(&mut tcp(port).await).await;
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\r\nRetry-After: 1\r\n"), "{answer}");
    assert!(answer.contains("\r\nConnection: close\r\n"), "{answer}");
    assert!(
        answer.ends_with(
            "\r\n\r\nthe console has too many open connections; try again in a moment\n"
        ),
        "{answer}"
    );
    let answer = http_get(port).await;
    assert!(!answer.contains("hello"), "served past the limit: {answer}");

    // the websocket is unaffected; once an idle connection closes, a new one is served
    echoes(&mut websocket, "still here").await;
    drop(idle.pop());
    until_served(
        || http_get(port),
        |answer| answer.ends_with("hello 127.0.0.1"),
    )
    .await;
}

#[tokio::test]
async fn past_the_limit_a_tls_connection_is_closed_before_its_handshake() {
    let pki = pki();
    let port = start(Some(&pki), long_timeouts(1));
    let held = tls(port, &pki).await;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let refused = timeout(
        DEADLINE,
        connector(Some(&pki.ca)).connect(name, tcp(port).await),
    )
    .await
    .expect("the refused handshake hangs");
    assert!(
        refused.is_err(),
        "a TLS connection past the limit was accepted"
    );

    drop(held);
    let pki = &pki;
    let https_get = move || async move {
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let Ok(mut stream) = connector(Some(&pki.ca))
            .connect(name, tcp(port).await)
            .await
        else {
            return String::new();
        };
        let _ = stream.write_all(LAST_REQUEST).await;
        read_until_closed(&mut stream).await
    };
    until_served(https_get, |answer| answer.ends_with("hello 127.0.0.1")).await;
}

/// A websocket over `stream` to `/ws`: it echoes, outlives two header timeouts and the idle
/// timeout (each seen to pass on another connection, opened after it), and echoes again.
async fn a_websocket_outlives_the_timeouts<S, P, F>(stream: S, probe: P)
where
    S: AsyncRead + AsyncWrite + Unpin,
    P: Fn() -> F,
    F: std::future::Future<Output = String>,
{
    let (mut websocket, _) = tokio_tungstenite::client_async("ws://127.0.0.1/ws", stream)
        .await
        .unwrap();
    echoes(&mut websocket, "before").await;
    for _ in 0..2 {
        // a silent connection is closed by the header timeout (the idle one is as short)
        assert_eq!(probe().await, "");
    }
    echoes(&mut websocket, "after the timeouts").await;
}

async fn echoes<S: AsyncRead + AsyncWrite + Unpin>(
    websocket: &mut tokio_tungstenite::WebSocketStream<S>,
    text: &str,
) {
    websocket.send(text.into()).await.unwrap();
    let echoed = timeout(DEADLINE, websocket.next()).await.unwrap();
    assert_eq!(echoed.unwrap().unwrap().to_text().unwrap(), text);
}

#[tokio::test]
async fn a_websocket_outlives_the_header_and_idle_timeouts() {
    let port = start(None, short_timeouts());
    let probe = move || async move { read_until_closed(&mut tcp(port).await).await };
    a_websocket_outlives_the_timeouts(tcp(port).await, probe).await;
}

#[tokio::test]
async fn a_websocket_over_tls_outlives_the_header_and_idle_timeouts() {
    let pki = pki();
    let port = start(Some(&pki), short_timeouts());
    let pki = &pki;
    let probe = move || async move { read_until_closed(&mut tls(port, pki).await).await };
    a_websocket_outlives_the_timeouts(tls(port, pki).await, probe).await;
}

#[tokio::test]
async fn http2_over_tls_is_served_and_closed_once_idle() {
    let pki = pki();
    let port = start(Some(&pki), short_timeouts());
    let mut config = (*crate::tls::client_config(Some(&pki.ca)).unwrap()).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp(port).await)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (client, connection) = h2::client::handshake(stream).await.unwrap();
    let mut connection = tokio::spawn(connection);
    let mut client = timeout(DEADLINE, client.ready()).await.unwrap().unwrap();

    let request = axum::http::Request::get(format!("https://127.0.0.1:{port}/"))
        .body(())
        .unwrap();
    let (answer, _) = client.send_request(request, true).unwrap();
    let answer = timeout(DEADLINE, answer).await.unwrap().unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.version(), axum::http::Version::HTTP_2);
    let mut body = answer.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = timeout(DEADLINE, body.data()).await.unwrap() {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        text.extend_from_slice(&chunk);
    }
    assert_eq!(text, b"hello 127.0.0.1");

    // the client keeps the connection (`client` is alive): the server ends it once idle
    let ended = timeout(DEADLINE, &mut connection).await;
    assert!(ended.is_ok(), "an idle HTTP/2 connection is still open");
    drop(client);
}
