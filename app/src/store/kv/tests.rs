//! What the store may rely on from the seam, checked on both backends: sled in a temporary
//! directory, and a real etcd (Debian's `etcd`, started here on loopback ports with a data
//! directory of its own, and stopped after).

use super::*;
use crate::store::TestEtcd;
use std::time::{Duration, Instant};

/// An etcd server for one test, with its data directory.
pub(crate) struct EtcdServer {
    server: TestEtcd,
    pub(crate) endpoint: String,
    _dir: tempfile::TempDir,
}

impl EtcdServer {
    pub(crate) fn start() -> EtcdServer {
        let dir = tempfile::tempdir().unwrap();
        let server = TestEtcd::start(dir.path());
        EtcdServer {
            endpoint: server.endpoint.clone(),
            server,
            _dir: dir,
        }
    }

    pub(crate) fn stop(&mut self) {
        self.server.stop();
    }

    pub(crate) fn restart(&mut self) {
        self.server.restart();
    }

    fn kv(&self, prefix: &str) -> Kv {
        Kv::etcd(
            std::slice::from_ref(&self.endpoint),
            prefix,
            &Default::default(),
        )
        .unwrap()
    }
}

fn sled_kv(dir: &tempfile::TempDir) -> Kv {
    Kv::sled(sled::Config::new().path(dir.path()).open().unwrap())
}

/// Runs `check` on a sled database and on etcd.
fn on_both(check: impl Fn(&Kv)) {
    let dir = tempfile::tempdir().unwrap();
    check(&sled_kv(&dir));
    let etcd = EtcdServer::start();
    check(&etcd.kv("/havip-test/"));
}

fn keys(iter: impl Iterator<Item = Result<(Value, Value)>>) -> Vec<Vec<u8>> {
    iter.map(|r| r.unwrap().0.to_vec()).collect()
}

#[test]
fn records_are_written_read_and_listed_in_key_order() {
    on_both(|kv| {
        let t = kv.table("things").unwrap();
        let other = kv.table("thingsx").unwrap();
        other.insert(b"a", b"not mine").unwrap();
        assert!(t.is_empty());
        for key in [&b"b2"[..], b"a1", b"b1", b"c"] {
            assert_eq!(t.insert(key, [key, b"!"].concat()).unwrap(), None);
        }
        assert_eq!(t.insert(b"c", b"C").unwrap().as_deref(), Some(&b"c!"[..]));
        assert_eq!(t.get(b"c").unwrap().as_deref(), Some(&b"C"[..]));
        assert!(t.contains_key(b"a1").unwrap() && !t.contains_key(b"a").unwrap());
        assert_eq!(t.len(), 4);
        let all = [
            b"a1".to_vec(),
            b"b1".to_vec(),
            b"b2".to_vec(),
            b"c".to_vec(),
        ];
        assert_eq!(keys(t.iter()), all);
        assert_eq!(keys(t.iter().rev()).first(), Some(&b"c".to_vec()));
        assert_eq!(keys(t.scan_prefix(b"b")), all[1..3]);
        assert_eq!(keys(t.range(&b"b1"[..]..&b"c"[..])), all[1..3]);
        assert_eq!(keys(t.range(&b"b2"[..]..)), all[2..]);
        assert_eq!(t.first().unwrap().unwrap().0.to_vec(), b"a1");
        assert_eq!(t.pop_min().unwrap().unwrap().1.to_vec(), b"a1!");
        assert_eq!(t.remove(b"b1").unwrap().as_deref(), Some(&b"b1!"[..]));
        assert!(!t.remove_if(b"c", b"not C").unwrap());
        assert!(t.remove_if(b"c", b"C").unwrap());
        let mut batch = Batch::default();
        batch.insert(b"x", b"1");
        batch.insert(b"y", b"2");
        batch.remove(b"b2");
        t.apply_batch(batch).unwrap();
        assert_eq!(keys(t.iter()), [b"x".to_vec(), b"y".to_vec()]);
        t.clear().unwrap();
        assert!(t.is_empty());
        assert_eq!(other.len(), 1, "another table is left alone");
        assert!(kv.table_names().contains(&"things".to_string()));
        let (a, b) = (kv.generate_id().unwrap(), kv.generate_id().unwrap());
        assert!(b > a);
    });
}

#[test]
fn a_transaction_commits_whole_or_not_at_all() {
    on_both(|kv| {
        let (a, b) = (kv.table("a").unwrap(), kv.table("b").unwrap());
        let moved = (&a, &b).transaction(|(a, b)| {
            a.insert(b"k", b"1")?;
            // what it wrote, it reads back
            assert_eq!(a.get(b"k")?.as_deref(), Some(&b"1"[..]));
            b.insert(b"k", b"2")?;
            Ok::<_, Abort<()>>(7)
        });
        assert_eq!(moved.unwrap(), 7);
        let refused = (&a, &b).transaction(|(a, b)| {
            a.remove(b"k")?;
            b.insert(b"k", b"changed")?;
            Err::<(), _>(Abort::Abort("no"))
        });
        assert!(matches!(refused, Err(TxError::Abort("no"))));
        assert_eq!(a.get(b"k").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(b.get(b"k").unwrap().as_deref(), Some(&b"2"[..]));
    });
}

/// Adds 1 to a counter in `table` and counts the change in `log`, `times` times, in
/// transactions.
fn count(table: &Table, log: &Table, times: u32) {
    for _ in 0..times {
        (table, log)
            .transaction(|(t, log)| {
                let n = t
                    .get(b"n")?
                    .map_or(0, |v| u32::from_be_bytes((*v).try_into().unwrap()));
                t.insert(b"n", (n + 1).to_be_bytes())?;
                log.insert((n + 1).to_be_bytes(), b"")?;
                Ok::<_, Abort<()>>(())
            })
            .unwrap();
    }
}

fn counted(table: &Table, log: &Table) -> (u32, usize) {
    let n = table.get(b"n").unwrap().unwrap();
    (u32::from_be_bytes((*n).try_into().unwrap()), log.len())
}

#[test]
fn concurrent_transactions_lose_no_update() {
    on_both(|kv| {
        let (t, log) = (kv.table("counter").unwrap(), kv.table("log").unwrap());
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| count(&t, &log, 25));
            }
        });
        assert_eq!(counted(&t, &log), (100, 100));
    });
}

/// Two consoles sharing one etcd prefix (two replicas): each one's transactions see the other's
/// writes, and no update is lost between them; another prefix is another console.
#[test]
fn two_processes_on_one_etcd_prefix_keep_one_set_of_rules() {
    let etcd = EtcdServer::start();
    let (first, second) = (etcd.kv("/havip-a/"), etcd.kv("/havip-a/"));
    let elsewhere = etcd.kv("/havip-b/");
    let tables = |kv: &Kv| (kv.table("counter").unwrap(), kv.table("log").unwrap());
    let ((t1, l1), (t2, l2)) = (tables(&first), tables(&second));
    std::thread::scope(|s| {
        s.spawn(|| count(&t1, &l1, 30));
        s.spawn(|| count(&t2, &l2, 30));
    });
    // each reads all 60, once its copy has caught up with the other's last write (the thread
    // that finished first may not have seen the other's last commit yet)
    for (table, log) in [(&t1, &l1), (&t2, &l2)] {
        let t0 = Instant::now();
        while counted(table, log) != (60, 60) {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "a copy catches up: {:?}",
                counted(table, log)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let (t3, _) = tables(&elsewhere);
    assert_eq!(
        t3.get(b"n").unwrap(),
        None,
        "another prefix sees none of it"
    );
}

#[test]
fn an_etcd_that_does_not_answer_is_an_error_not_a_wait() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = closed.local_addr().unwrap().to_string();
    drop(closed);
    let Err(e) = Kv::etcd(&[endpoint], "/havip/", &Default::default()) else {
        panic!("connected to nothing");
    };
    assert!(e.to_string().starts_with("etcd does not answer: "), "{e}");
}
