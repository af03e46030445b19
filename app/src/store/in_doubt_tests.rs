//! Writes whose answer is lost: etcd may commit a write and the answer never arrive (the
//! connection breaks). The store finds out from its watch whether the write was made, so a
//! create whose answer was lost is made once, and one that never arrived is sent again:
//! neither answers an error nor makes two HAVIPs. A proxy between the store and etcd loses
//! the traffic on purpose.

use super::kv::tests::EtcdServer;
use super::on_etcd_tests::{request, small_subnet};
use super::{Store, StoreConfig, StorePlace};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the proxy does to the next request.
const PASS: u8 = 0;
/// forwards it, then loses etcd's answers for 100 ms and cuts the connection
const LOSE_ANSWER: u8 = 1;
/// loses it (and everything for 100 ms), then cuts the connection
const LOSE_REQUEST: u8 = 2;

/// The proxy's switch: what it does to the first request at least `bigger` bytes long (a
/// transaction, not the small writes and frames around it).
#[derive(Default)]
struct Switch {
    mode: AtomicU8,
    bigger: AtomicUsize,
}

/// A TCP proxy on loopback to `etcd`; its port and its switch.
fn proxy(etcd: &str) -> (u16, Arc<Switch>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let switch = Arc::new(Switch::default());
    let (etcd, armed) = (etcd.to_string(), switch.clone());
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&etcd) else {
                continue;
            };
            let deaf = Arc::new(AtomicU8::new(0));
            let (client2, server2, deaf2) = (
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                deaf.clone(),
            );
            // etcd -> client: dropped while deaf
            std::thread::spawn(move || {
                pump(server2, client2, |_| deaf2.load(Ordering::SeqCst) == 0)
            });
            let armed = armed.clone();
            std::thread::spawn(move || {
                let mut cut_at: Option<Instant> = None;
                let mut mode = PASS;
                let (mut from, mut to) = (client, server);
                let mut buf = [0u8; 65536];
                from.set_read_timeout(Some(Duration::from_millis(20)))
                    .unwrap();
                loop {
                    if cut_at.is_some_and(|at| Instant::now() >= at) {
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                        return;
                    }
                    let n = match from.read(&mut buf) {
                        Ok(0) => return,
                        Ok(n) => n,
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::TimedOut =>
                        {
                            continue
                        }
                        Err(_) => return,
                    };
                    let small = n < armed.bigger.load(Ordering::SeqCst);
                    if cut_at.is_none() && !small {
                        mode = armed.mode.swap(PASS, Ordering::SeqCst);
                        if mode != PASS {
                            deaf.store(1, Ordering::SeqCst);
                            cut_at = Some(Instant::now() + Duration::from_millis(100));
                        }
                    }
                    if mode != LOSE_REQUEST && to.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, switch)
}

/// Copies `from` to `to` while `pass` says so (what it does not pass is dropped).
fn pump(mut from: TcpStream, mut to: TcpStream, pass: impl Fn(&[u8]) -> bool) {
    let mut buf = [0u8; 65536];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || (pass(&buf[..n]) && to.write_all(&buf[..n]).is_err()) {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_lost_is_made_once_and_one_never_sent_is_sent_again() {
    let etcd = EtcdServer::start();
    let (port, switch) = proxy(&etcd.endpoint);
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        place: StorePlace::parse(&format!("etcd://127.0.0.1:{port}"), "/havip/").unwrap(),
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let at = small_subnet(&store).await;
    // a create sends two requests: the audit record's id (a small write that may be made
    // twice), then the transaction, which is what the proxy loses
    let rounds = [LOSE_ANSWER, LOSE_REQUEST, LOSE_ANSWER, LOSE_REQUEST];
    for (round, lose) in rounds.into_iter().enumerate() {
        // (what the client had to send settles first: the next thing it sends is the create)
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (made_before, resent_before) = store.lost_answers();
        switch.bigger.store(300, Ordering::SeqCst);
        switch.mode.store(lose, Ordering::SeqCst);
        let name = format!("lost-{round}");
        let made = store.create_havip(request(&at, name.clone())).await;
        assert!(made.is_ok(), "round {round}: {made:?}");
        assert_eq!(
            switch.mode.load(Ordering::SeqCst),
            PASS,
            "round {round}: the proxy cut it"
        );
        let (made_after, resent_after) = store.lost_answers();
        let found = match lose {
            LOSE_ANSWER => (made_after - made_before, resent_after - resent_before),
            _ => (resent_after - resent_before, made_after - made_before),
        };
        assert_eq!(
            found,
            (1, 0),
            "round {round}: the lost answer was found out"
        );
        store.catch_up().unwrap();
        let named = store
            .havip_page(&at.0, &Default::default())
            .unwrap()
            .havips
            .into_iter()
            .filter(|h| h.name == name)
            .count();
        assert_eq!(named, 1, "round {round}: made once");
    }
    assert!(store.check().unwrap().is_empty(), "{:?}", store.check());
}
