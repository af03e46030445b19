//! The console over TLS: HTTPS with a `Secure` session cookie; TLS 1.2 and 1.3, HTTP/2 offered
//! by ALPN, and answers compressed over it; and the real agent reporting over WSS, trusting a
//! private CA given with `--ca-cert` and refusing a certificate no trusted CA signed.
//! Certificates are made here with rcgen.

use crate::agent::backoff::Outcome;
use crate::agent::client::{session, Reporter};
use crate::agent::endpoint::Endpoint;
use crate::agent::protocol::Liveness;
use crate::agent::watch::Watcher;
use crate::tests::fixture::{fixture, form, PASSWORD};
use app::domain::mac::Mac;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

/// A private CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files.
pub(crate) struct Pki {
    _dir: tempfile::TempDir,
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

pub(crate) fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    Pki {
        ca: write("ca.pem", ca_cert.pem()),
        cert: write("cert.pem", cert.pem()),
        key: write("key.pem", key.serialize_pem()),
        _dir: dir,
    }
}

/// The console's router over TLS on a free loopback port; returns the port.
pub(crate) async fn serve_tls(router: axum::Router, pki: &Pki) -> u16 {
    let config = crate::tls::server_config(&pki.cert, &pki.key).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(crate::console::listener::serve(
        listener,
        router,
        Some(config),
        crate::console::listener::Limits::default(),
        std::future::pending(),
    ));
    port
}

pub(crate) fn connector(ca: Option<&Path>) -> TlsConnector {
    TlsConnector::from(crate::tls::client_config(ca).unwrap())
}

/// One HTTP/1.1 request over TLS; the whole answer as text.
async fn https(port: u16, ca: &Path, request: String) -> String {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector(Some(ca)).connect(name, tcp).await.unwrap();
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into()
}

#[tokio::test]
async fn https_login_sets_a_secure_cookie_and_plain_http_gets_no_answer() {
    let pki = pki();
    let f = fixture().await;
    let (access, _) = crate::console::access::Access::new(f.store.clone(), true).unwrap();
    let router =
        crate::console::serve::router(f.store.clone(), "127.0.0.1:0".parse().unwrap(), access);
    let port = serve_tls(router, &pki).await;

    let body = form(&[("name", "viewer-user"), ("password", PASSWORD)]);
    let answer = https(
        port,
        &pki.ca,
        format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {answer}"));
    // the __Host- prefix: browsers keep it only if Secure, host-only and for /
    for part in [
        "__Host-havip_session=hvs_",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "HSTS over TLS: {answer}"
    );

    // over TLS, a form posted from the plain-http page of the same host is another origin
    let answer = https(
        port,
        &pki.ca,
        format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");

    // plain HTTP to the TLS port: no HTTP answer at all (a TLS alert, then the end)
    let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    plain
        .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"),
        "plain HTTP was served"
    );
}

fn reporter(token: String) -> Reporter {
    let mac: Mac = "02:00:00:00:00:fe".parse().unwrap();
    Reporter {
        interface: "eth0".into(),
        mac,
        token,
        watcher: Arc::new(Mutex::new(Watcher::new(mac))),
        probe: Box::new(|_| {}),
        liveness: Liveness::default(),
        healthy_after: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn the_agent_reports_over_wss_trusting_the_private_ca_only() {
    let pki = pki();
    let f = fixture().await;
    let (agent, token) = f
        .store
        .create_agent("tls-agent", std::slice::from_ref(&f.subnet_id))
        .await
        .unwrap();
    let (access, _) = crate::console::access::Access::new(f.store.clone(), true).unwrap();
    let router =
        crate::console::serve::router(f.store.clone(), "127.0.0.1:0".parse().unwrap(), access);
    let port = serve_tls(router, &pki).await;
    let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{port}")).unwrap();

    // the system's roots do not know the private CA: the handshake fails and says why
    let (_tx, mut rx) = tokio::sync::mpsc::channel(16);
    let without_ca = connector(None);
    let outcome = session(
        &endpoint,
        Some(&without_ca),
        &reporter(token.clone()),
        &mut rx,
    )
    .await;
    match outcome {
        Outcome::Failed(why) => assert!(why.contains("TLS handshake"), "{why}"),
        other => panic!("expected a failed handshake, got {other:?}"),
    }
    assert!(f
        .store
        .presence(&agent.id)
        .is_none_or(|p| p.connections == 0));

    // with --ca-cert: connected over WSS, and the console sees the agent
    let with_ca = connector(Some(&pki.ca));
    let store = f.store.clone();
    let running = tokio::spawn(async move {
        let reporter = reporter(token);
        session(&endpoint, Some(&with_ca), &reporter, &mut rx).await
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.presence(&agent.id).is_none_or(|p| p.connections == 0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent did not connect over WSS"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!running.is_finished());
    running.abort();
}

#[test]
fn unusable_certificates_are_refused_with_a_clear_message() {
    let pki = pki();
    let missing = pki.cert.with_file_name("missing.pem");
    let err = crate::tls::server_config(&missing, &pki.key).unwrap_err();
    assert!(
        err.starts_with("--tls-cert") && err.contains("missing.pem"),
        "{err}"
    );
    // a key file given as the certificate, and a certificate given as the key
    let err = crate::tls::server_config(&pki.key, &pki.key).unwrap_err();
    assert!(err.contains("no PEM certificate"), "{err}");
    let err = crate::tls::server_config(&pki.cert, &pki.cert).unwrap_err();
    assert!(err.contains("no PEM private key"), "{err}");
    // a key that is not the certificate's
    let other = pki.key.with_file_name("other.pem");
    std::fs::write(&other, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let err = crate::tls::server_config(&pki.cert, &other).unwrap_err();
    assert!(err.contains("do not make a usable pair"), "{err}");
    let err = crate::tls::client_config(Some(&missing)).unwrap_err();
    assert!(err.starts_with("--ca-cert"), "{err}");
}

/// The fixture's console over TLS: its `https://` base, the PKI it trusts, and the fixture
/// (whose database lives as long as it does).
async fn console_over_tls() -> (String, Pki, crate::tests::fixture::Fixture) {
    let pki = pki();
    let f = fixture().await;
    let (access, _) = crate::console::access::Access::new(f.store.clone(), true).unwrap();
    let router =
        crate::console::serve::router(f.store.clone(), "127.0.0.1:0".parse().unwrap(), access);
    let port = serve_tls(router, &pki).await;
    (format!("https://127.0.0.1:{port}"), pki, f)
}

/// A client trusting the test CA, speaking TLS `versions` (min, max). It offers HTTP/2 and
/// HTTP/1.1 by ALPN and takes what the console picks; it asks for no compression of its own.
fn https_client(
    pki: &Pki,
    versions: (reqwest::tls::Version, reqwest::tls::Version),
) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .min_tls_version(versions.0)
        .max_tls_version(versions.1)
        .build()
        .unwrap()
}

fn any_version(pki: &Pki) -> reqwest::Client {
    https_client(
        pki,
        (
            reqwest::tls::Version::TLS_1_2,
            reqwest::tls::Version::TLS_1_3,
        ),
    )
}

/// Logs in as the viewer, as a browser's form would; the answer and the session cookie.
async fn browser_login(client: &reqwest::Client, base: &str) -> (reqwest::Response, String) {
    let answer = client
        .post(format!("{base}/login"))
        .header("origin", base)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form(&[("name", "viewer-user"), ("password", PASSWORD)]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("login: {e:?}"));
    let cookie = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-havip_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no session cookie: {answer:?}"));
    (answer, cookie)
}

#[tokio::test]
async fn tls_1_2_and_tls_1_3_are_each_accepted() {
    use reqwest::tls::Version;
    let (base, pki, _console) = console_over_tls().await;
    for version in [Version::TLS_1_2, Version::TLS_1_3] {
        // a client that speaks this version only
        let client = https_client(&pki, (version, version));
        let answer = client.get(format!("{base}/login")).send().await;
        let answer = answer.unwrap_or_else(|e| panic!("{version:?} refused: {e:?}"));
        assert_eq!(answer.status(), 200, "{version:?}");
    }
}

#[tokio::test]
async fn http2_is_offered_and_a_post_over_it_works() {
    let (base, pki, _console) = console_over_tls().await;
    let client = any_version(&pki);
    // no prior knowledge: HTTP/2 only if the console offers it by ALPN
    let (login, cookie) = browser_login(&client, &base).await;
    assert_eq!(login.version(), reqwest::Version::HTTP_2, "{login:?}");
    assert_eq!(login.status(), 200);
    // a server function (a POST) over the same client, with the session
    let path = <app::api::network::NetworkPage as leptos::server_fn::ServerFn>::PATH;
    let answer = client
        .post(format!("{base}{path}"))
        .header("origin", &base)
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.version(), reqwest::Version::HTTP_2);
    assert_eq!(answer.status(), 200);
    let page: serde_json::Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert!(page["region_id"].is_string(), "{page}");
}

#[tokio::test]
async fn pages_and_server_function_answers_are_compressed_over_tls() {
    use std::io::Read;
    let (base, pki, _console) = console_over_tls().await;
    let client = any_version(&pki);
    let (_, cookie) = browser_login(&client, &base).await;
    let get = |path: &str, encoding: &str| {
        client
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("accept-encoding", encoding)
            .send()
    };
    // a page, in brotli and in gzip
    for encoding in ["br", "gzip"] {
        let page = get("/", encoding).await.unwrap();
        assert_eq!(page.status(), 200);
        let coding = page.headers().get("content-encoding").cloned();
        assert_eq!(
            coding.as_ref().map(|c| c.to_str().unwrap()),
            Some(encoding),
            "the page"
        );
        let body = page.bytes().await.unwrap();
        let mut html = String::new();
        match encoding {
            "br" => brotli::Decompressor::new(&body[..], 4096).read_to_string(&mut html),
            _ => flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut html),
        }
        .unwrap();
        assert!(html.contains("</html>"), "{encoding}: {html}");
    }
    // a server function's answer (a POST)
    let path = <app::api::network::NetworkPage as leptos::server_fn::ServerFn>::PATH;
    let answer = client
        .post(format!("{base}{path}"))
        .header("origin", &base)
        .header("cookie", &cookie)
        .header("accept-encoding", "gzip")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let coding = answer.headers().get("content-encoding").cloned();
    assert_eq!(
        coding.as_ref().map(|c| c.to_str().unwrap()),
        Some("gzip"),
        "the server function's answer"
    );
    let body = answer.bytes().await.unwrap();
    let page: serde_json::Value =
        serde_json::from_reader(flate2::read::GzDecoder::new(&body[..])).unwrap();
    assert!(page["region_id"].is_string(), "{page}");
}
