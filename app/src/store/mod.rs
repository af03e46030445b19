//! The console's state (server only): the rules over its records, written once, and the
//! records behind one seam (`kv`: tables and transactions; sled today). One table per resource
//! plus the IP index `subnet_id ‖ u32 BE ip -> owner id`; every multi-key change runs in one
//! transaction and is durable before the caller gets its answer.

mod agents;
mod alerts;
mod api_keys;
mod api_records;
mod audit;
mod audit_archive;
mod backup;
mod check;
mod client_tokens;
mod config;
mod counters;
mod eips;
mod fences;
mod flusher;
mod free_ranges;
mod havips;
mod history;
#[cfg(test)]
mod in_doubt_tests;
mod instances;
mod kv;
mod lifecycle;
mod list_index;
mod login_failures;
mod migrate;
mod network;
#[cfg(test)]
mod on_etcd_tests;
mod open_error;
mod outbox;
mod presence;
mod records;
mod replicas;
#[cfg(test)]
mod replicas_tests;
mod sessions;
mod space;
mod sso_users;
mod test_etcd;
mod user_settings;
mod users;
mod vrrp;

pub use alerts::{DEFAULT_SUBNET_FULL_PERCENT, DELIVERIES_KEPT};
pub use api_keys::{MAX_KEYS_PER_USER, MAX_KEY_CREATIONS_PER_HOUR};
pub use audit::DEFAULT_AUDIT_LIMIT;
pub use backup::{restore, restore_to_etcd};
pub use client_tokens::{ClientToken, Earlier};
pub use config::{
    EtcdAccess, StoreConfig, StorePlace, CACHE_BYTES, DEFAULT_EIP_POOL, DEFAULT_HISTORY_LIMIT,
    DEFAULT_STATION_TTL_MS,
};
pub use counters::HavipCounters;
pub use free_ranges::FreeRanges;
pub use havips::Created;
pub use instances::NewInstance;
pub use kv::Table;
pub use lifecycle::{OpenSocket, MAX_LIVE_PER_SESSION};
pub use list_index::ListPage;
pub use login_failures::{delay_ms, Failures, FAILURES_FORGOTTEN_MS};
pub use open_error::OpenError;
pub use presence::{Connected, Presence};
pub use sessions::MAX_SESSIONS_PER_USER;
pub use space::DEFAULT_MIN_FREE_BYTES;
pub use sso_users::SsoPerson;
#[doc(hidden)]
pub use test_etcd::TestEtcd;
pub use users::{SsoIdentity, User};

use crate::domain::binding::BindingState;
use crate::domain::error::ApiError;
use crate::domain::ids::{AgentId, HavipId, RegionId, SubnetId};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

// the helpers the store's modules use (`super::now_ms`, `super::encode` and so on)
use crate::support::{lock, now_ms, sha256_hex};
use kv::Kv;
use records::*;

/// 1: the first schema. 2: per-HAVIP history counters, the agent token index, no history
/// left behind by deleted HAVIPs.
pub const SCHEMA_VERSION: u32 = 2;
/// What changed, for everyone watching (browsers, agents). Carries the region so a browser
/// showing another region can ignore it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StoreChange {
    /// A new HAVIP: its address joins the watch lists of the agents of its subnet.
    HavipCreated {
        region_id: RegionId,
        havip_id: HavipId,
        subnet_id: SubnetId,
    },
    /// An HAVIP's record or binding changed; `renamed` when its name did (the only change of
    /// what the list searches and sorts by: a binding changes only its status).
    Havip {
        region_id: RegionId,
        havip_id: HavipId,
        renamed: bool,
    },
    /// An HAVIP was deleted: its last record (where it stood in the list).
    HavipDeleted {
        region_id: RegionId,
        havip_id: HavipId,
        subnet_id: SubnetId,
        havip: Box<crate::domain::model::Havip>,
    },
    Network {
        region_id: RegionId,
    },
    /// instances registered or removed, or a new station discovered
    Instances {
        region_id: RegionId,
    },
    Agents,
    Eips,
    /// users added, changed or removed, sessions ended
    Users,
    /// alert rules changed, or a delivery was logged
    Alerts,
    /// anything may have changed (another replica's changes were not all heard): whoever
    /// shows or follows the records loads them again
    Resync,
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    /// who this handle's changes are recorded for in the audit log (`acting`)
    actor: Arc<crate::domain::audit::Actor>,
}

struct Inner {
    kv: Kv,
    meta: Table,
    regions: Table,
    vpcs: Table,
    subnets: Table,
    havips: Table,
    /// subnet_id ‖ ip (u32 BE) -> id of what uses the address
    ip_index: Table,
    /// vpc_id -> number of HAVIPs (u32 BE), for the quota check inside transactions
    havip_counts: Table,
    /// havip_id ‖ u64 BE time ‖ u64 BE seq -> HistoryEvent
    events: Table,
    /// havip_id -> number of its events (u64 BE)
    history_counts: Table,
    agents: Table,
    /// SHA-256 of an agent's token (32 bytes) -> agent id
    agent_tokens: Table,
    eips: Table,
    /// u32 BE public ip -> eip id
    eip_index: Table,
    /// subnet_id ‖ ip -> Station
    stations: Table,
    /// eni_id -> Instance
    enis: Table,
    /// MAC (6 bytes) -> eni_id
    mac_index: Table,
    /// user name -> User (with its argon2id password hash)
    users: Table,
    /// SHA-256 of a session token (hex) -> Session
    sessions: Table,
    /// u64 BE id -> AuditEntry
    audit: Table,
    /// SecretId -> API key (its SecretKey sealed with `sealing_key`)
    api_keys: Table,
    /// SecretId:ClientToken -> what the create with that token made
    client_tokens: Table,
    /// TC3 signature digest -> when it may be forgotten (Unix s, big-endian)
    signatures: Table,
    /// login throttle key -> failures (`login_failures`; on etcd only)
    login_failures: Table,
    /// Tencent API task id -> when it was handed out (unix ms, big-endian)
    api_tasks: Table,
    /// user -> when they created API keys in the console, within the last hour
    key_creations: Table,
    /// alert id -> rule (with its sealed webhook secret)
    alert_rules: Table,
    /// alert id ‖ u64 BE seq -> Delivery
    alert_deliveries: Table,
    /// group name -> u64 BE counter, moved by each change a rule over the group allowed (see
    /// `fences`)
    fences: Table,
    /// u64 BE seq -> an alert event not yet matched to rules (see `outbox`)
    alert_outbox: Table,
    /// alert id ‖ u64 BE seq -> a delivery not yet ended (see `outbox`)
    alert_pending: Table,
    /// events for the alert dispatcher as they are raised (see `outbox`)
    alerts: broadcast::Sender<crate::domain::alerts::Event>,
    /// from `DIR/secret.key`
    sealing_key: [u8; 32],
    audit_len: AtomicU64,
    /// what the trim of the audit log appends to (see `audit_archive`); held while trimming
    audit_trim: Mutex<audit_archive::Archive>,
    /// trimmed audit records archived, and those that could not be (since start)
    audit_archived: AtomicU64,
    audit_dropped: AtomicU64,
    /// changes in progress (see `audit::Writing`), and whether a backup holds new ones back
    writers: Arc<AtomicUsize>,
    paused: std::sync::atomic::AtomicBool,
    /// user name -> when they created their recent API keys (in memory; see `api_keys`)
    /// subnet_id -> free addresses (in memory; also holds in-flight reservations)
    free: Mutex<HashMap<SubnetId, FreeRanges>>,
    /// havip_id -> its latest binding, when that differs from the stored one only in when
    /// claims were last heard (in memory; see `BindingState::durable`)
    fresh: Mutex<HashMap<HavipId, BindingState>>,
    /// what the HAVIP list searches, sorts and counts by, per region (in memory; see
    /// `list_index`)
    list: Mutex<list_index::ListIndex>,
    /// counted since start, for metrics (in memory)
    counters: Mutex<counters::Counters>,
    /// agent_id -> whether it is connected now (in memory)
    presence: Mutex<HashMap<AgentId, Presence>>,
    /// agent_id / replica -> its presence on each replica (etcd only, on each replica's lease;
    /// see `presence`)
    shared_presence: Table,
    /// havip_id -> the VRRP routers agents hear advertising it (in memory, see `vrrp`)
    vrrp: Mutex<HashMap<HavipId, crate::domain::vrrp::Routers>>,
    config: StoreConfig,
    /// the data directory
    dir: std::path::PathBuf,
    /// group commit: makes sled's writes durable (see `flusher`; etcd's are when written)
    flusher: Option<flusher::Flusher>,
    changes: broadcast::Sender<StoreChange>,
    /// held while a change is numbered and sent, so the numbers follow the channel's order
    publishing: Mutex<()>,
    /// true once the console is shutting down (see `lifecycle`)
    closing: tokio::sync::watch::Sender<bool>,
    open_sockets: AtomicUsize,
    /// session key -> live channels it holds open
    live_per_session: Mutex<HashMap<String, usize>>,
    /// changes published since this process opened the store: a page rendered at mark
    /// (epoch, N) missed nothing if the live channel says (epoch, N) when it connects
    change_seq: AtomicU64,
    /// random per process, so marks from before a restart never match
    epoch: u64,
    /// whether this replica leads the others (see `leading`), once asked
    leading: std::sync::OnceLock<tokio::sync::watch::Receiver<bool>>,
}

/// A tree's name and its records, in key order.
pub type TreeDump = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

/// Creates the data directory readable by its owner only (0700), or makes an existing one so:
/// it holds password hashes, session and token digests.
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Opens sled's database in `dir`. A store this process closed a moment ago may still hold the
/// file's lock while sled's I/O threads finish its last write (sled's own tests wait for that
/// too), so a held lock is tried again for up to 2 s; held longer, another process has it.
fn open_database(dir: &Path) -> Result<sled::Db, OpenError> {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let opened = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(OpenError::from);
        match opened {
            Err(OpenError::InUse) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            opened => return opened,
        }
    }
}

impl Store {
    /// Opens (or creates and seeds) the database in `dir`.
    pub fn open(dir: impl AsRef<Path>, config: StoreConfig) -> Result<Store, OpenError> {
        private_dir(dir.as_ref()).map_err(|e| OpenError::io(dir.as_ref(), e))?;
        // a console has run here before: its database must never be replaced by a fresh one
        // (sled recovers a damaged file by dropping records; etcd keeps its own copies)
        let used_before =
            dir.as_ref().join("secret.key").is_file() && config.place == StorePlace::Sled;
        let (kv, flusher) = match &config.place {
            StorePlace::Sled => {
                let db = open_database(dir.as_ref())?;
                let flusher = flusher::Flusher::start(db.clone()).map_err(db_err)?;
                (Kv::sled(db), Some(flusher))
            }
            StorePlace::Etcd {
                endpoints,
                prefix,
                access,
            } => (Kv::etcd(endpoints, prefix, access).map_err(db_err)?, None),
        };
        let tree = |name: &str| kv.table(name).map_err(db_err);
        let (changes, _) = broadcast::channel(1024);
        let (meta, audit) = (tree("meta")?, tree("audit")?);
        let store = Store {
            inner: Arc::new(Inner {
                regions: tree("regions")?,
                vpcs: tree("vpcs")?,
                subnets: tree("subnets")?,
                havips: tree("havips")?,
                ip_index: tree("ip_index")?,
                havip_counts: tree("havip_counts")?,
                events: tree("events")?,
                history_counts: tree("history_counts")?,
                agents: tree("agents")?,
                agent_tokens: tree("agent_tokens")?,
                eips: tree("eips")?,
                eip_index: tree("eip_index")?,
                stations: tree("stations")?,
                enis: tree("enis")?,
                mac_index: tree("mac_index")?,
                users: tree("users")?,
                sessions: tree("sessions")?,
                audit_len: AtomicU64::new(audit::stored_len(&meta, &audit)?),
                audit,
                api_keys: tree("api_keys")?,
                client_tokens: tree("client_tokens")?,
                signatures: tree("signatures")?,
                login_failures: tree("login_failures")?,
                api_tasks: tree("api_tasks")?,
                key_creations: tree("key_creations")?,
                alert_rules: tree("alert_rules")?,
                alert_deliveries: tree("alert_deliveries")?,
                alert_outbox: tree("alert_outbox")?,
                fences: tree("fences")?,
                alert_pending: tree("alert_pending")?,
                shared_presence: tree("presence")?,
                meta,
                alerts: broadcast::channel(4096).0,
                sealing_key: api_keys::sealing_key(
                    &(config.secret_key_file.clone())
                        .unwrap_or_else(|| dir.as_ref().join("secret.key")),
                )?,
                audit_trim: Mutex::new(audit_archive::Archive::new(dir.as_ref())),
                audit_archived: AtomicU64::new(0),
                audit_dropped: AtomicU64::new(0),
                writers: Arc::new(AtomicUsize::new(0)),
                paused: std::sync::atomic::AtomicBool::new(false),
                free: Mutex::new(HashMap::new()),
                fresh: Mutex::new(HashMap::new()),
                list: Mutex::default(),
                counters: Mutex::default(),
                presence: Mutex::new(HashMap::new()),
                vrrp: Mutex::new(HashMap::new()),
                config,
                dir: dir.as_ref().to_path_buf(),
                flusher,
                changes,
                publishing: Mutex::new(()),
                closing: tokio::sync::watch::Sender::new(false),
                open_sockets: AtomicUsize::new(0),
                live_per_session: Mutex::new(HashMap::new()),
                change_seq: AtomicU64::new(0),
                epoch: rand::random::<u64>() >> 12,
                leading: std::sync::OnceLock::new(),
                kv,
            }),
            actor: Arc::new(crate::domain::audit::Actor::console()),
        };
        store.migrate(used_before)?;
        // first, so that nothing another replica commits while the indexes are built is missed
        store.follow_other_replicas();
        store.build_list_index()?;
        store.rebuild_free_ranges()?;
        crate::support::give_back_freed_memory();
        Ok(store)
    }

    fn migrate(&self, used_before: bool) -> Result<(), OpenError> {
        let version = self
            .inner
            .meta
            .get("schema_version")
            .map_err(db_err)?
            .map(|v| be_u32(&v));
        match version {
            Some(SCHEMA_VERSION) => return Ok(()),
            // sled recovers a damaged log by dropping what follows the damage: a database
            // that lost its schema version lost its records too; refuse, never re-seed it
            None if used_before => {
                return Err(OpenError::Damaged(
                    "it was used before but has no records now; if this console never finished its first start, remove the directory instead".into(),
                ))
            }
            None => self.seed()?,
            Some(1) => self.migrate_1_to_2()?,
            Some(v) if v > SCHEMA_VERSION => {
                return Err(ApiError::internal(format!(
                "the database has schema version {v}, newer than this binary's {SCHEMA_VERSION}"
            ))
            .into())
            }
            Some(v) => {
                return Err(ApiError::internal(format!(
                    "no migration from schema version {v}"
                ))
                .into())
            }
        }
        self.inner
            .meta
            .insert("schema_version", SCHEMA_VERSION.to_be_bytes())
            .map_err(db_err)?;
        self.inner.kv.flush().map_err(db_err)?;
        Ok(())
    }

    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StoreChange> {
        self.inner.changes.subscribe()
    }

    /// The changes from now on, and the number of the last change before them: the first one
    /// received is number `seq + 1`, and so on in order (until the receiver lags).
    pub fn subscribe_numbered(&self) -> (u64, broadcast::Receiver<StoreChange>) {
        let _numbering = lock(&self.inner.publishing);
        let changes = self.inner.changes.subscribe();
        (self.inner.change_seq.load(Ordering::SeqCst), changes)
    }

    fn publish(&self, change: StoreChange) {
        let _numbering = lock(&self.inner.publishing);
        self.inner.change_seq.fetch_add(1, Ordering::SeqCst);
        // no receivers is fine
        let _ = self.inner.changes.send(change);
    }

    /// Where the stream of changes stands: (this process's epoch, changes published so far).
    pub fn change_mark(&self) -> (u64, u64) {
        (
            self.inner.epoch,
            self.inner.change_seq.load(Ordering::SeqCst),
        )
    }

    /// Whether this replica leads the others, as it changes: the leader does the work done
    /// once for all (alert deliveries, sweeps). On sled, the one process leads at once; on
    /// etcd, the replicas elect one (the first call campaigns).
    pub fn leading(&self) -> tokio::sync::watch::Receiver<bool> {
        (self.inner.leading.get_or_init(|| self.inner.kv.lead())).clone()
    }

    /// Writes to etcd whose answer was lost since start: (found made, found not made and sent
    /// again). None of them answered an error or was made twice.
    pub fn lost_answers(&self) -> (u64, u64) {
        self.inner.kv.lost_answers()
    }

    /// Whether the store is shared by replicas (etcd): state they must agree on goes there
    /// rather than into one process's memory.
    pub fn is_shared(&self) -> bool {
        matches!(self.inner.kv, Kv::Etcd(_))
    }

    /// Whether this replica leads now: on sled, always; on etcd, once elected (a process
    /// that never campaigned, such as a command-line tool, does not).
    pub(crate) fn leads_now(&self) -> bool {
        match self.inner.leading.get() {
            Some(leading) => *leading.borrow(),
            None => !self.is_shared(),
        }
    }

    /// Writes everything to disk now, blocking (benches and shutdown; requests use `flush`).
    pub fn flush_now(&self) -> Result<(), ApiError> {
        self.inner.kv.flush().map_err(db_err)
    }

    /// The console's last words: what the next start would otherwise count by reading every
    /// record (the audit log's length), then everything to disk.
    pub fn shut_down_cleanly(&self) -> Result<(), ApiError> {
        self.save_audit_len()?;
        self.flush_now()
    }

    /// Every tree with every record, in order: two dumps are equal exactly when nothing
    /// was written in between (tests compare them around refusals).
    #[doc(hidden)]
    pub fn dump(&self) -> Result<Vec<TreeDump>, ApiError> {
        (self.inner.kv.table_names().into_iter())
            .map(|name| {
                let table = self.inner.kv.table(&name).map_err(db_err)?;
                let records = table
                    .iter()
                    .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(db_err))
                    .collect::<Result<_, _>>()?;
                Ok((name.into_bytes(), records))
            })
            .collect()
    }

    /// A table by name, for tools and tests that inspect or damage the raw records.
    #[doc(hidden)]
    pub fn raw_tree(&self, name: &str) -> Result<Table, ApiError> {
        self.inner.kv.table(name).map_err(db_err)
    }

    /// Tells everyone watching that this HAVIP (its record or its binding) changed.
    fn publish_havip(&self, havip: &crate::domain::model::Havip, renamed: bool) {
        self.publish(StoreChange::Havip {
            region_id: havip.region_id.clone(),
            havip_id: havip.id.clone(),
            renamed,
        });
    }

    /// Makes every write done before this call durable. Concurrent callers share one fsync
    /// (group commit, see `flusher`).
    async fn flush(&self) -> Result<(), ApiError> {
        match &self.inner.flusher {
            Some(flusher) => flusher.durable().await,
            None => Ok(()),
        }
    }

    fn get<T: DeserializeOwned>(&self, tree: &Table, id: &str) -> Result<Option<T>, ApiError> {
        match tree.get(id).map_err(db_err)? {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    fn all<T: DeserializeOwned>(&self, tree: &Table) -> Result<Vec<T>, ApiError> {
        tree.iter()
            .values()
            .map(|v| decode(&v.map_err(db_err)?))
            .collect()
    }
}
