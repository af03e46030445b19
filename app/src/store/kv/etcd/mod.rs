//! The etcd backend of the seam. A table is the key prefix `PREFIX TABLE /`. Reads come from
//! a copy of the whole prefix (`Mirror`) that a watch keeps, from the revision it was read at;
//! a write returns once the copy has it, so what a process wrote it reads back at once. A
//! transaction's closure runs on the copy and remembers the revision of every key it read; its
//! writes commit as one etcd transaction that compares those revisions, and when one changed
//! meanwhile (another process wrote it) the closure runs again on the newer copy.
//!
//! Other processes on the prefix (the console's other replicas) are told apart by a marker
//! each commit writes with its own (`PREFIX \0by` = the writer's random id): what the watch
//! brings at a revision without this process's marker, another one wrote, and the listener
//! (`on_remote`) hears of it with each record's value before and after, before a wait for that
//! revision returns. So a process that waits for the cluster's revision (`catch_up`) has also
//! let its own indexes take in everything written before it.
//!
//! The etcd client is asynchronous and the seam is not: each call runs on this backend's own
//! runtime thread and the caller waits for it, as it waits for a disk.

mod leader;
mod lease;

use super::{StorageError, Value};
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, EventType, GetOptions, PutOptions,
    Txn, TxnOp, WatchOptions,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::Duration;

/// Operations etcd takes in one transaction (its `--max-txn-ops` default).
const MAX_TXN_OPS: usize = 128;
/// The time to live of this process's leases (its lead, its live records): how long the
/// others wait before they take a process that went silent for gone.
const LEASE_TTL_S: i64 = 5;
/// How long a write waits for the watch to bring it back before it is an error.
const CATCH_UP: Duration = Duration::from_secs(10);
/// How long `catch_up` waits for the cluster's revision (a request waits for it).
const CATCH_UP_READ: Duration = Duration::from_secs(1);
/// How long a write waits for etcd's answer before its outcome is in doubt. etcd answers in
/// milliseconds; a write forwarded to a leader that died is answered only after etcd's own
/// request timeout (7 s): finding out sooner (and sending it again if it was lost) keeps a
/// leader's death a short stall.
const WRITE_ANSWER: Duration = Duration::from_secs(1);
/// How long a write whose answer was lost waits to find out whether it was made.
const IN_DOUBT: Duration = Duration::from_secs(5);
/// How many copies of a write are sent at most (the first, and again after it was found
/// not made).
const MAX_RESENT: usize = 4;

type Result<T> = std::result::Result<T, StorageError>;

fn etcd_err(e: etcd_client::Error) -> StorageError {
    use tonic::Code;
    match &e {
        etcd_client::Error::GRpcStatus(s)
            if s.code() == Code::ResourceExhausted && s.message().contains("space") =>
        {
            StorageError::NoSpace
        }
        etcd_client::Error::GRpcStatus(s)
            if matches!(s.code(), Code::Unavailable | Code::DeadlineExceeded) =>
        {
            StorageError::Unavailable(e.to_string())
        }
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => {
            StorageError::Unavailable(e.to_string())
        }
        _ => StorageError::Etcd(e.to_string()),
    }
}

/// Why a transaction was not answered.
enum SendError {
    /// it may or may not have been made (the connection broke after it was sent, no answer)
    InDoubt(String),
    /// it was not made
    Failed(StorageError),
}
use SendError::{Failed, InDoubt};

/// Whether an error leaves a write's outcome unknown: it may have reached etcd. A connection
/// refused never did (`to_a_member` sends it elsewhere); a refusal by etcd is an answer.
fn in_doubt(e: &etcd_client::Error) -> bool {
    use tonic::Code;
    match e {
        etcd_client::Error::GRpcStatus(s) => match s.code() {
            Code::Unavailable => !s.message().contains("connect error"),
            Code::Unknown | Code::Cancelled | Code::DeadlineExceeded | Code::Internal => true,
            _ => false,
        },
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        _ => false,
    }
}

/// The keys under the prefix as of revision `revision`.
#[derive(Default)]
struct Copy {
    records: BTreeMap<Vec<u8>, (Value, i64)>,
    revision: i64,
}

/// A record another process changed: its table, its key in the table, and its value before
/// and after (`None`: absent).
pub struct RemoteChange {
    pub table: String,
    pub key: Vec<u8>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What the watch brought that this process did not write.
pub enum Remote {
    /// records changed, in the order they were committed
    Changed(Vec<RemoteChange>),
    /// the prefix was read again from scratch (the watch was lost or compacted away): anything
    /// may have changed
    Reset,
}

/// Told of every `Remote` on the watch's thread: it must not write to etcd (the write would
/// wait for this very thread) nor take long.
pub type Listener = Box<dyn Fn(Remote) + Send + Sync>;

#[derive(Default)]
struct Mirror {
    copy: RwLock<Copy>,
    /// notified when the copy changes
    advanced: Condvar,
    waiting: Mutex<()>,
    /// this process's id in the marker its commits write
    writer: [u8; 8],
    /// this process's commits under way (by their id in the marker): whether the watch
    /// brought them
    commits: Mutex<HashMap<u64, Seen>>,
    listener: RwLock<Option<Listener>>,
}

/// Whether the watch brought a commit of this process.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seen {
    /// not yet
    Waiting,
    /// at this revision
    At(i64),
    /// cannot be told: the prefix was read again, without its history
    Unknown,
}

/// A commit under way, forgotten when it is dropped.
struct Pending<'a>(&'a Mirror, u64);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.commits.lock().expect("commits lock").remove(&self.1);
    }
}

impl Mirror {
    /// Notes commit `id` as under way, until the guard is dropped.
    fn expect_commit(&self, id: u64) -> Pending<'_> {
        self.commits
            .lock()
            .expect("commits lock")
            .insert(id, Seen::Waiting);
        Pending(self, id)
    }

    /// The watch brought this process's marker with `id` (big-endian) at `revision`.
    fn seen_commit(&self, id: &[u8], revision: i64) {
        let Ok(id) = <[u8; 8]>::try_from(id).map(u64::from_be_bytes) else {
            return;
        };
        if let Some(seen) = self.commits.lock().expect("commits lock").get_mut(&id) {
            *seen = Seen::At(revision);
        }
    }

    /// What the watch brought of commit `id`.
    fn seen(&self, id: u64) -> Seen {
        let commits = self.commits.lock().expect("commits lock");
        commits.get(&id).copied().unwrap_or(Seen::Unknown)
    }

    /// The prefix was read again: the commits under way that the watch has not brought can
    /// no longer be told made or not.
    fn lost_history(&self) {
        for seen in self.commits.lock().expect("commits lock").values_mut() {
            if *seen == Seen::Waiting {
                *seen = Seen::Unknown;
            }
        }
    }

    /// Waits until the copy is at `revision` or later.
    fn wait_for(&self, revision: i64) -> Result<()> {
        self.wait_until(&format!("reach revision {revision}"), |copy| {
            copy.revision >= revision
        })
    }

    /// Waits until `done` holds of the copy (which only the watch changes), at most
    /// `CATCH_UP`; `what` names it in the error.
    fn wait_until(&self, what: &str, done: impl Fn(&Copy) -> bool) -> Result<()> {
        let deadline = std::time::Instant::now() + CATCH_UP;
        let mut guard = self.waiting.lock().expect("mirror wait lock");
        while !done(&self.copy.read().expect("mirror lock")) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StorageError::Unavailable(format!(
                    "its watch did not {what} within {CATCH_UP:?}"
                )));
            }
            guard = (self.advanced.wait_timeout(guard, left))
                .expect("mirror wait lock")
                .0;
        }
        Ok(())
    }

    /// Changes the copy's records (its revision stays, so nobody waiting for a newer one
    /// goes on yet).
    fn update<T>(&self, update: impl FnOnce(&mut Copy) -> T) -> T {
        update(&mut self.copy.write().expect("mirror lock"))
    }

    /// Tells the listener, if there is one.
    fn tell(&self, remote: Remote) {
        if let Some(listener) = &*self.listener.read().expect("listener lock") {
            listener(remote);
        }
    }

    /// The copy is at `revision`: everyone waiting for it goes on.
    fn reach(&self, revision: i64) {
        {
            let mut copy = self.copy.write().expect("mirror lock");
            copy.revision = copy.revision.max(revision);
        }
        let _guard = self.waiting.lock().expect("mirror wait lock");
        self.advanced.notify_all();
    }
}

/// A connection to etcd under one prefix.
pub struct Etcd {
    client: Client,
    prefix: Vec<u8>,
    mirror: Arc<Mirror>,
    /// where the client's calls run (`None` once dropped)
    runtime: Option<tokio::runtime::Runtime>,
    tables: Mutex<BTreeSet<String>>,
    /// this process's lease and the records written with it (see `lease`)
    leased: Arc<Mutex<lease::Leased>>,
    granting: Mutex<()>,
    /// the id of this process's next commit (in its marker)
    next_commit: AtomicU64,
    /// commits whose answer was lost, found made and found not made (then sent again)
    lost_answers: [AtomicU64; 2],
}

impl Etcd {
    /// Connects, reads the prefix and starts following it.
    pub fn connect(
        endpoints: &[String],
        prefix: &str,
        access: &crate::store::EtcdAccess,
    ) -> Result<Arc<Etcd>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("havip-etcd")
            .enable_all()
            .build()
            .map_err(|e| StorageError::Etcd(format!("cannot start etcd's runtime: {e}")))?;
        // a member that does not answer is given up on, and a connection gone quiet is noticed
        let mut options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_keep_alive(Duration::from_secs(10), Duration::from_secs(5));
        let endpoints: Vec<String> = match &access.ca {
            Some(ca) => {
                options = options.with_tls(tls_options(ca, access.identity.as_ref())?);
                endpoints.iter().map(|e| format!("https://{e}")).collect()
            }
            None if access.identity.is_some() => {
                return Err(StorageError::Etcd(
                    "a client certificate (--etcd-cert) is for TLS: give --etcd-ca too".into(),
                ))
            }
            None => endpoints.to_vec(),
        };
        if let Some((user, password)) = &access.user {
            options = options.with_user(user, password);
        }
        let client = run_on(&runtime, async move {
            Client::connect(endpoints, Some(options))
                .await
                .map_err(etcd_err)
        });
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                // (dropping a runtime waits for its threads, which an async caller may not do)
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let mirror = Mirror {
            writer: rand::random(),
            ..Mirror::default()
        };
        let etcd = Arc::new(Etcd {
            client,
            prefix: prefix.as_bytes().to_vec(),
            mirror: Arc::new(mirror),
            runtime: Some(runtime),
            tables: Mutex::default(),
            leased: Arc::default(),
            granting: Mutex::default(),
            next_commit: AtomicU64::new(1),
            lost_answers: Default::default(),
        });
        let started = etcd.follow()?;
        etcd.mirror.wait_for(started)?;
        Ok(etcd)
    }

    /// Starts the task that keeps the mirror: a read of the prefix, then a watch from the
    /// revision after it. A watch lost with its connection resumes from the copy's revision
    /// (so no change is missed, this process's commits included); one whose revision was
    /// compacted away starts again with a fresh read. Returns the first read's revision.
    fn follow(self: &Arc<Self>) -> Result<i64> {
        let (client, prefix, mirror) = (
            self.client.clone(),
            self.prefix.clone(),
            self.mirror.clone(),
        );
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        self.runtime().spawn(async move {
            let mut first = Some(first_tx);
            let mut pause = Duration::from_millis(200);
            let mut reread = true;
            loop {
                let following = std::time::Instant::now();
                let outcome = follow_once(&client, &prefix, &mirror, &mut first, reread).await;
                if following.elapsed() > Duration::from_secs(30) {
                    // (it followed for a while: a new loss is not one of a series)
                    pause = Duration::from_millis(200);
                }
                let (e, again) = match outcome {
                    Ok(()) => continue,
                    Err(Ended::Reread(e)) => (e, true),
                    Err(Ended::Lost(e)) => (e, false),
                };
                if let Some(first) = first.take() {
                    let _ = first.send(Err(e));
                    return;
                }
                reread = again;
                let again = if again {
                    "reading the prefix again"
                } else {
                    "resuming it"
                };
                tracing::warn!("etcd watch ended ({e}); {again} in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        });
        first_rx
            .recv()
            .map_err(|_| StorageError::Etcd("etcd's watch task ended".into()))?
    }

    /// Runs `f` on this backend's runtime and waits for it.
    fn run<T: Send + 'static>(&self, f: impl Future<Output = T> + Send + 'static) -> T {
        run_on(self.runtime(), f)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the backend")
    }

    /// Who hears of what other processes write (replacing whoever did).
    pub fn on_remote(&self, listener: Listener) {
        *self.mirror.listener.write().expect("listener lock") = Some(listener);
    }

    /// Waits until the copy (and the listener) has everything the cluster committed before
    /// this call: after it, this process reads what any other wrote before (read-your-writes
    /// across processes). One linearizable read of the commit marker, which every commit of
    /// every process writes: its revision is the last commit's.
    pub fn catch_up(&self) -> Result<()> {
        let kv = self.client.kv_client();
        let key = self.marker_key();
        let revision = self.run(async move {
            let read = to_a_member(Sent::Read, || {
                let (mut kv, key) = (kv.clone(), key.clone());
                async move { kv.get(key, Some(GetOptions::new().with_keys_only())).await }
            });
            let read = tokio::time::timeout(CATCH_UP_READ, read).await;
            let read = read.map_err(|_| StorageError::Unavailable("no member answers".into()))?;
            let read = read.map_err(etcd_err)?;
            Ok::<_, StorageError>(read.kvs().first().map_or(0, |kv| kv.mod_revision()))
        })?;
        self.mirror.wait_for(revision)
    }

    /// `PREFIX \0by`: the key of the marker every commit writes.
    fn marker_key(&self) -> Vec<u8> {
        [self.prefix.as_slice(), b"\0by"].concat()
    }

    /// The put of this process's marker, one in each commit: its id and the commit's.
    fn marker_of(&self, commit: u64) -> TxnOp {
        let value = [self.mirror.writer, commit.to_be_bytes()].concat();
        TxnOp::put(self.marker_key(), value, None::<PutOptions>)
    }

    /// The marker of a commit nobody waits for (a lease's records written again).
    fn marker(&self) -> TxnOp {
        self.marker_of(0)
    }

    pub fn table_key(&self, table: &str, key: &[u8]) -> Vec<u8> {
        let mut full = self.prefix.clone();
        full.extend_from_slice(table.as_bytes());
        full.push(b'/');
        full.extend_from_slice(key);
        full
    }

    pub fn open_table(&self, name: &str) {
        self.tables.lock().expect("tables lock").insert(name.into());
    }

    /// The tables opened or holding records.
    pub fn table_names(&self) -> Vec<String> {
        let mut names = self.tables.lock().expect("tables lock").clone();
        let copy = self.mirror.copy.read().expect("mirror lock");
        for full in copy.records.keys() {
            if let Some((table, _)) = table_and_key(&self.prefix, full) {
                names.insert(String::from_utf8_lossy(table).into_owned());
            }
        }
        names.into_iter().collect()
    }

    /// Every table's records, as of one revision (the copy read at once): (table, key, value).
    pub fn snapshot(&self) -> Vec<super::Record> {
        let copy = self.mirror.copy.read().expect("mirror lock");
        (copy.records.iter())
            .filter_map(|(full, (value, _))| {
                let (table, key) = table_and_key(&self.prefix, full)?;
                let table = String::from_utf8_lossy(table).into_owned();
                Some((table, key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    /// A number larger than every one before: the revision of a write to the prefix's counter.
    pub fn generate_id(&self) -> Result<u64> {
        let kv = self.client.kv_client();
        let key = [self.prefix.as_slice(), b"\0ids"].concat();
        let revision = self.run(async move {
            let put = to_a_member(Sent::Repeatable, || {
                let (mut kv, key) = (kv.clone(), key.clone());
                async move { kv.put(key, [], None).await }
            });
            let put = put.await.map_err(etcd_err)?;
            Ok::<_, StorageError>(put.header().map_or(0, |h| h.revision()))
        })?;
        Ok(revision as u64)
    }

    /// Whether etcd answers a read within 2 s. The error names no address (`/readyz` shows
    /// it to anyone); the log has the details.
    pub fn reachable(&self) -> Result<()> {
        let kv = self.client.kv_client();
        let key = [self.prefix.as_slice(), b"\0ids"].concat();
        let answer = self.run(async move {
            let read = to_a_member(Sent::Read, || {
                let (mut kv, key) = (kv.clone(), key.clone());
                async move { kv.get(key, None).await }
            });
            tokio::time::timeout(Duration::from_secs(2), read).await
        });
        let failure = match answer {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 2 s".to_string(),
        };
        tracing::warn!("etcd does not answer: {failure}");
        Err(StorageError::Etcd("no member answers".into()))
    }

    pub fn get(&self, full: &[u8]) -> Option<Value> {
        let copy = self.mirror.copy.read().expect("mirror lock");
        copy.records.get(full).map(|(v, _)| v.clone())
    }

    /// How many records there are between `from` and `to`.
    pub fn count(&self, from: Bound<Vec<u8>>, to: Bound<Vec<u8>>) -> usize {
        let copy = self.mirror.copy.read().expect("mirror lock");
        copy.records.range((from, to)).count()
    }

    /// The records between `from` and `to`, in key order, their keys without their first
    /// `skip` bytes (the prefix and the table's name).
    pub fn range(
        &self,
        from: Bound<Vec<u8>>,
        to: Bound<Vec<u8>>,
        skip: usize,
    ) -> Vec<(Value, Value)> {
        let copy = self.mirror.copy.read().expect("mirror lock");
        (copy.records.range((from, to)))
            .map(|(k, (v, _))| (Value::bytes(&k[skip..]), v.clone()))
            .collect()
    }

    /// Commits `ops` if every key in `read` is still at its revision (0: absent); the
    /// revision committed at, or `None` if one changed (the copy is then at least as new).
    pub fn commit(&self, read: &HashMap<Vec<u8>, i64>, ops: Vec<TxnOp>) -> Result<Option<i64>> {
        let compares: Vec<Compare> = (read.iter())
            .map(|(key, revision)| Compare::mod_revision(key.clone(), CompareOp::Equal, *revision))
            .collect();
        // every copy sent, each with its own id: each compares every key it writes, so at
        // most one of them is made
        let mut sent: Vec<Pending> = Vec::new();
        let made = loop {
            let id = self.next_commit.fetch_add(1, Ordering::SeqCst);
            let mut ops = ops.clone();
            if !ops.is_empty() {
                ops.push(self.marker_of(id));
            }
            let txn = Txn::new().when(compares.clone()).and_then(ops);
            sent.push(self.mirror.expect_commit(id));
            match self.send(txn) {
                Ok((true, revision)) => break Some(revision),
                Ok((false, _)) => break None,
                Err(InDoubt(why)) if sent.len() <= MAX_RESENT => match self.find_out(id, &why)? {
                    Some(revision) => break Some(revision),
                    // it was not made and never will be: sent again
                    None => continue,
                },
                Err(InDoubt(why)) => return Err(StorageError::Unavailable(why)),
                Err(Failed(e)) => return Err(e),
            }
        };
        if let Some(revision) = made {
            self.mirror.wait_for(revision)?;
            return Ok(Some(revision));
        }
        // a key read has changed: wait until the copy shows its change (the watch brings
        // every change under the prefix)
        self.mirror
            .wait_until("bring the conflicting change", |copy| {
                (read.iter())
                    .any(|(key, seen)| copy.records.get(key).map_or(0, |(_, r)| *r) != *seen)
            })?;
        // ... which may be an earlier copy of this very commit, made after all (its answer
        // was slow, not lost): then it is done
        let earlier = sent.iter().find_map(|p| match self.mirror.seen(p.1) {
            Seen::At(revision) => Some(revision),
            _ => None,
        });
        Ok(earlier)
    }

    /// Commits whose answer was lost since start: (found made, found not made and sent again).
    pub fn lost_answers(&self) -> (u64, u64) {
        let [made, not_made] = &self.lost_answers;
        (
            made.load(Ordering::Relaxed),
            not_made.load(Ordering::Relaxed),
        )
    }

    /// Sends a transaction: whether it succeeded and at which revision; or why it failed,
    /// telling apart an answer that leaves its outcome unknown (a connection that broke after
    /// it was sent, no answer in time).
    fn send(&self, txn: Txn) -> std::result::Result<(bool, i64), SendError> {
        let kv = self.client.kv_client();
        self.run(async move {
            let answer = to_a_member(Sent::Write, || {
                let (mut kv, txn) = (kv.clone(), txn.clone());
                async move { kv.txn(txn).await }
            });
            match tokio::time::timeout(WRITE_ANSWER, answer).await {
                Ok(Ok(answer)) => Ok((
                    answer.succeeded(),
                    answer.header().map_or(0, |h| h.revision()),
                )),
                Ok(Err(e)) if in_doubt(&e) => Err(InDoubt(e.to_string())),
                Ok(Err(e)) => Err(Failed(etcd_err(e))),
                Err(_) => Err(InDoubt(format!("no answer within {WRITE_ANSWER:?}"))),
            }
        })
    }

    /// Whether commit `id`, whose answer was lost (`why`), was made: once a member answers a
    /// linearizable read again, the cluster has settled every write it will ever make of
    /// those sent before, and this copy has caught up with it. Its revision if it was made;
    /// `None` if it was not (and will not be). Unknown for `IN_DOUBT`: the error.
    fn find_out(&self, id: u64, why: &str) -> Result<Option<i64>> {
        let deadline = std::time::Instant::now() + IN_DOUBT;
        let unknown =
            || StorageError::Unavailable(format!("{why}; whether it was made is not known"));
        loop {
            match self.catch_up() {
                Ok(()) => {
                    let found = match self.mirror.seen(id) {
                        Seen::At(revision) => Some(revision),
                        Seen::Waiting => None,
                        Seen::Unknown => return Err(unknown()),
                    };
                    self.lost_answers[usize::from(found.is_none())].fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        "an etcd write's answer was lost ({why}); it was {}",
                        if found.is_some() {
                            "made"
                        } else {
                            "not made, and is sent again"
                        }
                    );
                    return Ok(found);
                }
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(_) => return Err(unknown()),
            }
        }
    }

    /// Writes (`Some`) and removes (`None`) records unconditionally, `MAX_TXN_OPS` at a time
    /// (less the marker).
    pub fn write(&self, writes: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<()> {
        for chunk in writes.chunks(MAX_TXN_OPS - 1) {
            let ops = chunk
                .iter()
                .map(|(k, v)| op(k.clone(), v.clone()))
                .collect();
            self.commit(&HashMap::new(), ops)?;
        }
        Ok(())
    }

    /// Removes every record of `[from, to)`.
    pub fn remove_range(&self, from: Vec<u8>, to: Vec<u8>) -> Result<()> {
        let range = TxnOp::delete(from, Some(DeleteOptions::new().with_range(to)));
        self.commit(&HashMap::new(), vec![range]).map(|_| ())
    }

    /// Runs `attempt` until it commits: each run reads through a fresh `EtcdTx`.
    pub fn transaction<R, E>(
        &self,
        attempt: impl Fn(&EtcdTx<'_>) -> std::result::Result<R, super::Abort<E>>,
    ) -> std::result::Result<R, super::TxError<E>> {
        loop {
            let tx = EtcdTx {
                etcd: self,
                read: RefCell::default(),
                writes: RefCell::default(),
            };
            let value = match attempt(&tx) {
                Ok(value) => value,
                Err(super::Abort::Abort(e)) => return Err(super::TxError::Abort(e)),
                Err(super::Abort::Failed(f)) => return Err(super::TxError::Storage(f.into())),
            };
            let ops: Vec<TxnOp> = (tx.writes.into_inner().into_iter())
                .map(|(k, v)| op(k, v))
                .collect();
            if ops.is_empty() {
                // it only read, from the copy: nothing to send (an agent's report that changes
                // nothing costs etcd nothing)
                return Ok(value);
            }
            match self.commit(&tx.read.into_inner(), ops) {
                Ok(Some(_)) => return Ok(value),
                Ok(None) => continue,
                Err(e) => return Err(super::TxError::Storage(e)),
            }
        }
    }
}

fn op(key: Vec<u8>, value: Option<Vec<u8>>) -> TxnOp {
    match value {
        Some(value) => TxnOp::put(key, value, None::<PutOptions>),
        None => TxnOp::delete(key, None),
    }
}

/// One run of a transaction's closure: the revisions of the keys it read, and its writes.
pub struct EtcdTx<'a> {
    etcd: &'a Etcd,
    read: RefCell<HashMap<Vec<u8>, i64>>,
    writes: RefCell<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl EtcdTx<'_> {
    pub fn get(&self, full: Vec<u8>) -> Option<Value> {
        if let Some(written) = self.writes.borrow().get(&full) {
            return written.as_deref().map(Value::bytes);
        }
        let copy = self.etcd.mirror.copy.read().expect("mirror lock");
        let found = copy.records.get(&full);
        self.read
            .borrow_mut()
            .entry(full)
            .or_insert(found.map_or(0, |(_, r)| *r));
        found.map(|(v, _)| v.clone())
    }

    /// Writes or removes `full`; returns what it held (read, so compared at the commit).
    pub fn set(&self, full: Vec<u8>, value: Option<Vec<u8>>) -> Option<Value> {
        let before = self.get(full.clone());
        self.writes.borrow_mut().insert(full, value);
        before
    }
}

/// Why following the prefix stopped.
enum Ended {
    /// the watch's revision was compacted away, or the prefix could not be read: read it again
    Reread(StorageError),
    /// the watch was lost (its connection): resume it from the copy's revision
    Lost(StorageError),
}

/// Reads the prefix (`reread`, or the first time), then follows it from the copy's revision
/// until the watch ends.
async fn follow_once(
    client: &Client,
    prefix: &[u8],
    mirror: &Mirror,
    first: &mut Option<std::sync::mpsc::Sender<Result<i64>>>,
    reread: bool,
) -> std::result::Result<(), Ended> {
    let revision = if reread || first.is_some() {
        read_prefix(client, prefix, mirror, first)
            .await
            .map_err(Ended::Reread)?
    } else {
        mirror.copy.read().expect("mirror lock").revision
    };
    let watch = client.watch_client();
    let started = to_a_member(Sent::Read, || {
        let (mut watch, prefix) = (watch.clone(), prefix.to_vec());
        let options = WatchOptions::new()
            .with_prefix()
            .with_start_revision(revision + 1);
        async move { watch.watch(prefix, Some(options)).await }
    });
    let lost = |e| Ended::Lost(etcd_err(e));
    let mut stream = started.await.map_err(lost)?;
    follow_stream(&mut stream, prefix, mirror).await
}

/// The whole prefix into the copy; its revision. After the first read, the listener hears of
/// a reset, and commits under way can no longer be told made or not.
async fn read_prefix(
    client: &Client,
    prefix: &[u8],
    mirror: &Mirror,
    first: &mut Option<std::sync::mpsc::Sender<Result<i64>>>,
) -> Result<i64> {
    let kv = client.kv_client();
    let read = to_a_member(Sent::Read, || {
        let mut kv = kv.clone();
        let prefix = prefix.to_vec();
        async move { kv.get(prefix, Some(GetOptions::new().with_prefix())).await }
    });
    let read = read.await.map_err(etcd_err)?;
    let revision = read.header().map_or(0, |h| h.revision());
    let records = (read.kvs().iter())
        .map(|kv| {
            (
                kv.key().to_vec(),
                (Value::bytes(kv.value()), kv.mod_revision()),
            )
        })
        .collect();
    mirror.update(|copy| copy.records = records);
    match first.take() {
        Some(first) => {
            mirror.reach(revision);
            let _ = first.send(Ok(revision));
        }
        None => {
            mirror.lost_history();
            mirror.tell(Remote::Reset);
            mirror.reach(revision);
        }
    }
    Ok(revision)
}

/// Takes what the watch brings into the copy, until it ends.
async fn follow_stream(
    stream: &mut etcd_client::WatchStream,
    prefix: &[u8],
    mirror: &Mirror,
) -> std::result::Result<(), Ended> {
    let marker = [prefix, b"\0by"].concat();
    let lost = |e| Ended::Lost(etcd_err(e));
    while let Some(answer) = stream.message().await.map_err(lost)? {
        if answer.canceled() || answer.compact_revision() > 0 {
            return Err(Ended::Reread(StorageError::Etcd(format!(
                "the watch was cancelled ({}; compacted at {})",
                answer.cancel_reason(),
                answer.compact_revision()
            ))));
        }
        if answer.created() {
            // its revision is the cluster's now, ahead of the changes still to come from
            // where the watch starts: nothing is reached yet
            continue;
        }
        // the revisions this process committed (its marker is among their changes)
        let ours: BTreeSet<i64> = (answer.events().iter())
            .filter_map(|event| event.kv())
            .filter(|kv| kv.key() == marker && kv.value().starts_with(&mirror.writer))
            .map(|kv| {
                mirror.seen_commit(&kv.value()[mirror.writer.len()..], kv.mod_revision());
                kv.mod_revision()
            })
            .collect();
        let remote = mirror.update(|copy| {
            let mut remote = Vec::new();
            for event in answer.events() {
                let Some(kv) = event.kv() else { continue };
                let key = kv.key().to_vec();
                let after = match event.event_type() {
                    EventType::Put => Some(Value::bytes(kv.value())),
                    EventType::Delete => None,
                };
                let before = match &after {
                    Some(value) => copy.records.insert(key, (value.clone(), kv.mod_revision())),
                    None => copy.records.remove(&key),
                };
                if !ours.contains(&kv.mod_revision()) {
                    let before = before.map(|(value, _)| value);
                    remote.extend(remote_change(prefix, kv.key(), before, after));
                }
            }
            remote
        });
        if !remote.is_empty() {
            mirror.tell(Remote::Changed(remote));
        }
        mirror.reach(answer.header().map_or(0, |h| h.revision()));
    }
    Err(Ended::Lost(StorageError::Etcd(
        "the watch stream ended".into(),
    )))
}

/// A table's record that changed (`PREFIX TABLE / KEY`), or `None` for the backend's own
/// keys (`PREFIX \0…`).
fn remote_change(
    prefix: &[u8],
    full: &[u8],
    before: Option<Value>,
    after: Option<Value>,
) -> Option<RemoteChange> {
    let (table, key) = table_and_key(prefix, full)?;
    Some(RemoteChange {
        table: String::from_utf8_lossy(table).into_owned(),
        key: key.to_vec(),
        before,
        after,
    })
}

/// The table and the key in it of `PREFIX TABLE / KEY`; `None` for the backend's own keys
/// (`PREFIX \0…`: the id counter, the commit marker, the election's).
fn table_and_key<'a>(prefix: &[u8], full: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
    let rest = full.strip_prefix(prefix)?;
    if rest.first() == Some(&0) {
        return None;
    }
    let slash = rest.iter().position(|b| *b == b'/')?;
    Some((&rest[..slash], &rest[slash + 1..]))
}

/// TLS to the members: their CA, and this console's certificate if etcd asks for one.
fn tls_options(
    ca: &std::path::Path,
    identity: Option<&(std::path::PathBuf, std::path::PathBuf)>,
) -> Result<etcd_client::TlsOptions> {
    let read = |flag: &str, path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| StorageError::Etcd(format!("{flag} {}: {e}", path.display())))
    };
    let ca = etcd_client::Certificate::from_pem(read("--etcd-ca", ca)?);
    let mut tls = etcd_client::TlsOptions::new().ca_certificate(ca);
    if let Some((cert, key)) = identity {
        let (cert, key) = (read("--etcd-cert", cert)?, read("--etcd-key", key)?);
        tls = tls.identity(etcd_client::Identity::from_pem(cert, key));
    }
    Ok(tls)
}

/// What a request does, for sending it again after an error.
#[derive(Clone, Copy, PartialEq)]
enum Sent {
    /// sent again after any "unavailable"
    Read,
    /// sent again only when it never left: its member refused the connection
    Write,
    /// a write that may be made twice (a new id): sent again whenever its answer was lost
    Repeatable,
}

/// Sends a request until a member answers it (at most 20 times): the client spreads requests
/// over the members, and one that is down refuses them, so another try goes to another. A
/// write is sent again only when the connection was refused (it never reached etcd); after a
/// connection broke, whether it was committed is not known, and the error is the answer.
async fn to_a_member<T, F: Future<Output = std::result::Result<T, etcd_client::Error>>>(
    sent: Sent,
    mut send: impl FnMut() -> F,
) -> std::result::Result<T, etcd_client::Error> {
    let mut tries = 1;
    loop {
        let answer = match sent {
            // (one that may be made twice need not wait for an answer that may never come: a
            // member whose leader died answers only after etcd's request timeout, 7 s)
            Sent::Repeatable => match tokio::time::timeout(WRITE_ANSWER, send()).await {
                Ok(answer) => answer,
                Err(_) => Err(etcd_client::Error::GRpcStatus(
                    tonic::Status::deadline_exceeded(format!("no answer within {WRITE_ANSWER:?}")),
                )),
            },
            _ => send().await,
        };
        let again = match &answer {
            Ok(_) => false,
            Err(etcd_client::Error::GRpcStatus(status))
                if status.code() == tonic::Code::Unavailable =>
            {
                sent == Sent::Read
                    || status.message().contains("connect error")
                    || sent == Sent::Repeatable
            }
            Err(e) => sent == Sent::Repeatable && in_doubt(e),
        };
        if !again || tries >= 20 {
            return answer;
        }
        tries += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs `f` on `runtime` and waits for it (from any thread, inside another runtime or not).
fn run_on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    f: impl Future<Output = T> + Send + 'static,
) -> T {
    let (done, answer) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = done.send(f.await);
    });
    answer
        .recv()
        .expect("etcd's runtime runs as long as the store")
}

impl Drop for Etcd {
    fn drop(&mut self) {
        // dropping a runtime waits for its threads, which an async caller may not do
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
