use super::*;
use tokio::io::DuplexStream;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request as Upgrade, Response,
};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

const ME: Mac = Mac([2, 0, 0, 0x16, 0x16, 0x99]);

fn reporter(liveness: Liveness, healthy_after: Duration) -> (Reporter, Arc<Mutex<Vec<Ipv4Addr>>>) {
    let probed = Arc::new(Mutex::new(Vec::new()));
    let record = probed.clone();
    let reporter = Reporter {
        interface: "eth0".into(),
        mac: ME,
        token: "hvt_test".into(),
        watcher: Arc::new(Mutex::new(Watcher::new(ME))),
        probe: Box::new(move |ip| record.lock().unwrap().push(ip)),
        liveness,
        healthy_after,
    };
    (reporter, probed)
}

type Fake = WebSocketStream<DuplexStream>;

/// Runs the real `report` over an in-memory stream against a fake console.
async fn against<F, Fut>(reporter: &Reporter, console: F) -> Outcome
where
    F: FnOnce(Fake) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (agent_end, console_end) = tokio::io::duplex(64 * 1024);
    let console = tokio::spawn(async move {
        if let Ok(ws) = tokio_tungstenite::accept_async(console_end).await {
            console(ws).await;
        }
    });
    let (_tx, mut rx) = mpsc::channel(16);
    let outcome = report(agent_end, UNIX_URL, reporter, &mut rx).await;
    console.abort();
    outcome
}

async fn text<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>, body: &str) {
    ws.send(Message::Text(body.to_string().into()))
        .await
        .unwrap();
}

/// Reads the hello, optionally welcomes, then closes with `code`.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: WebSocketStream<S>,
    welcome: bool,
    code: u16,
    reason: &'static str,
) {
    let hello = ws.next().await.unwrap().unwrap().into_text().unwrap();
    assert!(hello.contains(r#""type":"hello""#), "{hello}");
    if welcome {
        text(&mut ws, r#"{"type":"welcome","version":1,"agent":"a1"}"#).await;
    }
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = ws.close(Some(frame)).await;
    while let Some(Ok(_)) = ws.next().await {}
}

#[tokio::test]
async fn refusals_over_a_real_websocket() {
    let (r, _) = reporter(Liveness::default(), HEALTHY_AFTER);
    let version = "unsupported protocol version 1; this server speaks 2";
    match against(&r, move |ws| refuse(ws, false, 1002, version)).await {
        Outcome::Fatal(why) => assert!(why.contains(version), "{why}"),
        other => panic!("{other:?}"),
    }
    match against(&r, |ws| refuse(ws, true, 1008, "agent token revoked")).await {
        Outcome::Fatal(why) => assert!(why.contains("Agents page"), "{why}"),
        other => panic!("{other:?}"),
    }
    // a console going away right after the handshake: retry, but do not reset the back-off
    match against(&r, |ws| refuse(ws, true, 1001, "going away")).await {
        Outcome::Failed(why) => assert!(why.contains("(1001)"), "{why}"),
        other => panic!("{other:?}"),
    }
    // ... while a session that was welcomed and lasted long enough was healthy
    let (quick, _) = reporter(Liveness::default(), Duration::ZERO);
    match against(&quick, |ws| refuse(ws, true, 1001, "going away")).await {
        Outcome::Lost(why) => assert!(why.contains("going away"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// The console's answer to a token it does not know (the type is tungstenite's callback).
#[allow(clippy::result_large_err)]
fn unauthorized(_: &Upgrade, _: Response) -> Result<Response, ErrorResponse> {
    let mut resp = ErrorResponse::new(Some("invalid or revoked agent token".into()));
    *resp.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED;
    Err(resp)
}

#[tokio::test]
async fn a_refused_token_stops_the_agent() {
    let (r, _) = reporter(Liveness::default(), HEALTHY_AFTER);
    let (agent_end, console_end) = tokio::io::duplex(64 * 1024);
    tokio::spawn(tokio_tungstenite::accept_hdr_async(
        console_end,
        unauthorized,
    ));
    let (_tx, mut rx) = mpsc::channel(16);
    match report(agent_end, UNIX_URL, &r, &mut rx).await {
        Outcome::Fatal(why) => {
            assert!(why.contains("invalid or revoked agent token"), "{why}");
            assert!(why.contains("Agents page"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

const SHORT: Liveness = Liveness {
    ping: Duration::from_millis(50),
    idle: Duration::from_millis(300),
};

#[tokio::test]
async fn a_console_that_goes_silent_is_dropped_after_the_idle_timeout() {
    let (r, probed) = reporter(SHORT, Duration::ZERO);
    let started = Instant::now();
    let silent = against(&r, |mut ws| async move {
        ws.next().await; // hello
        text(&mut ws, r#"{"type":"welcome","version":1,"agent":"a1"}"#).await;
        text(&mut ws, r#"{"type":"watch","ips":["172.16.16.12"]}"#).await;
        // then never reads (so never answers a ping) and never writes
        std::future::pending::<()>().await;
        drop(ws);
    });
    // a deadline that only stops a hung test: how soon the agent gives up is for benchmarks
    let outcome = timeout(Duration::from_secs(10), silent)
        .await
        .expect("the agent still waits, 10 s after the console went silent");
    let took = started.elapsed();
    match outcome {
        Outcome::Lost(why) => assert!(why.contains("nothing heard from the console"), "{why}"),
        other => panic!("{other:?}"),
    }
    // the lower bound is behaviour, not speed: the agent must not give up on a console
    // before it has been silent for the whole idle timeout (its last words came after
    // `started`), however fast the machine
    assert!(
        took >= SHORT.idle,
        "gave up after {took:?}, before the idle timeout"
    );
    assert_eq!(
        *probed.lock().unwrap(),
        ["172.16.16.12".parse::<Ipv4Addr>().unwrap()]
    );
}

#[tokio::test]
async fn pongs_keep_a_quiet_connection_alive() {
    let (r, _) = reporter(SHORT, Duration::ZERO);
    let session = against(&r, |mut ws| async move {
        ws.next().await; // hello
        text(&mut ws, r#"{"type":"welcome","version":1,"agent":"a1"}"#).await;
        // read (which answers pings) but say nothing, until several pings have been
        // answered and the console has been quiet for three idle timeouts (however slow
        // the machine, the silence outlasts the timeout); then go away. An agent that
        // gave up meanwhile ends the loop early, and its outcome says so below.
        let quiet_since = Instant::now();
        let mut pings = 0;
        while pings < 3 || quiet_since.elapsed() < SHORT.idle * 3 {
            match ws.next().await {
                Some(Ok(msg)) => pings += usize::from(msg.is_ping()),
                _ => return,
            }
        }
        refuse_now(ws).await;
    });
    // a deadline that only stops a hung test
    let outcome = timeout(Duration::from_secs(10), session)
        .await
        .expect("the session still runs after 10 s");
    match outcome {
        Outcome::Lost(why) => assert!(why.contains("(1001)"), "{why}"),
        other => panic!("{other:?}"),
    }
}

async fn refuse_now(mut ws: Fake) {
    let frame = CloseFrame {
        code: CloseCode::Away,
        reason: "going away".into(),
    };
    let _ = ws.close(Some(frame)).await;
    while let Some(Ok(_)) = ws.next().await {}
}

#[tokio::test]
async fn with_several_consoles_the_agent_moves_to_the_next_when_one_is_down() {
    let (r, _) = reporter(Liveness::default(), HEALTHY_AFTER);
    // a replica that is down: a port nothing listens on any more
    let down = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down_addr = down.local_addr().unwrap();
    drop(down);
    // a replica that is up: it welcomes the agent, then revokes its token (which ends the test)
    let up = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_addr = up.local_addr().unwrap();
    let console = tokio::spawn(async move {
        let (stream, _) = up.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        refuse(ws, true, 1008, "agent token revoked").await;
    });
    let endpoints = [down_addr, up_addr].map(|a| Endpoint::parse(&format!("http://{a}")).unwrap());
    let (_tx, mut rx) = mpsc::channel(16);
    let why = timeout(
        Duration::from_secs(10),
        report_forever(&endpoints, None, &r, &mut rx),
    )
    .await
    .expect("the agent never reached the replica that is up");
    assert!(why.contains("revoked"), "{why}");
    console
        .await
        .expect("the replica that is up heard the agent's hello");
}
