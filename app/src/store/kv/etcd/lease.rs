//! Records that live as long as this process does (which agents are connected to it): written
//! with a lease of this process, kept alive every second. When the process dies, or loses etcd
//! for longer than the lease, etcd removes them, and every other process's watch says so. A
//! lease found gone while the process lives is replaced, and its records written again.

use super::{etcd_err, Etcd, Result, LEASE_TTL_S};
use etcd_client::{Client, PutOptions, Txn, TxnOp};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a lease is kept alive, and how long a keep-alive may take before the lease counts
/// as lost (well inside its time to live).
pub(super) const KEEP_ALIVE: Duration = Duration::from_secs(1);
const KEEP_ALIVE_ANSWER: Duration = Duration::from_secs(2);

/// The wait before trying etcd again after a failure: `KEEP_ALIVE`, doubling up to 8 s while
/// failures follow each other (an outage logs a line every few seconds, not every second),
/// and `KEEP_ALIVE` again once a failure comes after a long quiet spell.
pub(super) struct Retry {
    pause: Duration,
    last: Option<std::time::Instant>,
}

impl Retry {
    pub(super) fn new() -> Retry {
        Retry {
            pause: KEEP_ALIVE,
            last: None,
        }
    }

    /// Waits after a failure.
    pub(super) async fn after_failure(&mut self) {
        if self
            .last
            .is_some_and(|t| t.elapsed() > Duration::from_secs(30))
        {
            self.pause = KEEP_ALIVE;
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(8));
        self.last = Some(std::time::Instant::now());
    }
}

/// A lease being kept alive: a keep-alive every `KEEP_ALIVE` (this process's lead, its live
/// records).
pub(super) struct Keeper {
    keeper: etcd_client::LeaseKeeper,
    answers: etcd_client::LeaseKeepAliveStream,
    every: tokio::time::Interval,
}

impl Keeper {
    pub(super) async fn start(client: &Client, id: i64) -> std::result::Result<Keeper, String> {
        let (keeper, answers) = (client.lease_client().keep_alive(id).await)
            .map_err(|e| format!("keeping the lease: {e}"))?;
        let every = tokio::time::interval(KEEP_ALIVE);
        Ok(Keeper {
            keeper,
            answers,
            every,
        })
    }

    /// At the next tick, keeps the lease alive once; why not, when that failed.
    pub(super) async fn next(&mut self) -> std::result::Result<(), String> {
        self.every.tick().await;
        let kept = tokio::time::timeout(KEEP_ALIVE_ANSWER, async {
            self.keeper.keep_alive().await?;
            self.answers.message().await
        });
        match kept.await {
            Ok(Ok(Some(answer))) if answer.ttl() > 0 => Ok(()),
            Ok(Ok(_)) => Err("the lease expired".into()),
            Ok(Err(e)) => Err(format!("keeping the lease: {e}")),
            Err(_) => Err(format!("no keep-alive answer within {KEEP_ALIVE_ANSWER:?}")),
        }
    }
}

/// The lease (once granted) and what is written with it.
#[derive(Default)]
pub(super) struct Leased {
    id: Option<i64>,
    /// full key -> value, to write again with a new lease
    records: BTreeMap<Vec<u8>, Vec<u8>>,
}

fn leased_put(key: Vec<u8>, value: Vec<u8>, lease: i64) -> TxnOp {
    TxnOp::put(key, value, Some(PutOptions::new().with_lease(lease)))
}

impl Etcd {
    /// Writes `full` for as long as this process lives.
    pub fn put_leased(&self, full: Vec<u8>, value: Vec<u8>) -> Result<()> {
        let lease = self.lease()?;
        // (no lock is held while committing: the commit waits for this backend's runtime,
        // whose renewal takes the lock)
        (self.leased.lock().expect("lease lock").records).insert(full.clone(), value.clone());
        let put = leased_put(full, value, lease);
        self.commit(&HashMap::new(), vec![put]).map(drop)
    }

    /// This process's lease, granted (and kept alive from then on) the first time.
    fn lease(&self) -> Result<i64> {
        let _one_at_a_time = self.granting.lock().expect("grant lock");
        if let Some(id) = self.leased.lock().expect("lease lock").id {
            return Ok(id);
        }
        let id = self.grant()?;
        self.leased.lock().expect("lease lock").id = Some(id);
        self.keep_alive(id);
        Ok(id)
    }

    fn grant(&self) -> Result<i64> {
        let mut lease = self.client.lease_client();
        self.run(async move { lease.grant(LEASE_TTL_S, None).await.map(|g| g.id()) })
            .map_err(etcd_err)
    }

    /// Keeps the lease alive, and replaces it when it is gone.
    fn keep_alive(&self, mut id: i64) {
        let (client, leased, marker) = (self.client.clone(), self.leased.clone(), self.marker());
        self.runtime().spawn(async move {
            let mut retry = Retry::new();
            loop {
                let why = keep(&client, id).await;
                tracing::warn!(
                    "etcd lease of this replica's live records lost ({why}); renewing it"
                );
                loop {
                    match renew(&client, &leased, &marker).await {
                        Ok(new) => break id = new,
                        Err(e) => tracing::warn!("renewing the etcd lease: {e}"),
                    }
                    retry.after_failure().await;
                }
            }
        });
    }
}

/// Keeps lease `id` alive until that fails; why it did.
async fn keep(client: &Client, id: i64) -> String {
    let mut kept = match Keeper::start(client, id).await {
        Ok(kept) => kept,
        Err(why) => return why,
    };
    loop {
        if let Err(why) = kept.next().await {
            return why;
        }
    }
}

/// A new lease, with every record written again on it (and this process's marker, so its own
/// watch does not take them for another's); its id.
async fn renew(
    client: &Client,
    leased: &Arc<Mutex<Leased>>,
    marker: &TxnOp,
) -> std::result::Result<i64, etcd_client::Error> {
    let mut lease = client.lease_client();
    let id = lease.grant(LEASE_TTL_S, None).await?.id();
    let records = leased.lock().expect("lease lock").records.clone();
    let mut ops: Vec<TxnOp> = (records.into_iter())
        .map(|(key, value)| leased_put(key, value, id))
        .collect();
    ops.push(marker.clone());
    client.kv_client().txn(Txn::new().and_then(ops)).await?;
    leased.lock().expect("lease lock").id = Some(id);
    Ok(id)
}
