//! The commands other than `serve` and `agent`: `user`, `key`, `check`, `backup` and
//! `restore`. Each opens the database itself, so on sled (but for a backup) the console must
//! be stopped: sled lets one process open it. On etcd (`--store etcd://…`) they run beside it. They share the data-directory argument, the opening
//! and the closing of the store, and one error type (`anyhow`), printed as one line.

pub mod backup;
pub mod check;
pub mod keys;
pub mod users;

use anyhow::Context;
use app::domain::error::ApiError;
use app::store::{Store, StoreConfig, StorePlace};
use std::path::{Path, PathBuf};

/// `--data-dir DIR` (or `HAVIP_DATA_DIR`): where the console keeps its files; and `--store`
/// (or `HAVIP_STORE`): where its records live, sled in that directory or an etcd cluster.
#[derive(clap::Args, Clone)]
pub struct DataDir {
    /// The console's data directory.
    #[arg(
        long = "data-dir",
        env = "HAVIP_DATA_DIR",
        default_value = "havip-data"
    )]
    pub dir: PathBuf,
    /// Where the records live: `sled` (in the data directory) or
    /// `etcd://HOST:PORT[,HOST:PORT...]` (the data directory then keeps the sealing key).
    #[arg(long = "store", env = "HAVIP_STORE", default_value = "sled")]
    pub store: String,
    /// The prefix of the console's keys in etcd (one etcd can hold several consoles).
    #[arg(
        long = "etcd-prefix",
        env = "HAVIP_ETCD_PREFIX",
        default_value = "/havip/"
    )]
    pub etcd_prefix: String,
    /// The key that seals API keys' and webhooks' secrets (32 bytes, readable by its owner
    /// only; made if absent). Every replica on one etcd prefix is given the same file.
    /// Default: `DATA_DIR/secret.key`.
    #[arg(long = "secret-key-file", env = "HAVIP_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// The CA (PEM) that signed the etcd members' certificates: etcd is then reached over
    /// TLS (https).
    #[arg(long = "etcd-ca", env = "HAVIP_ETCD_CA")]
    pub etcd_ca: Option<PathBuf>,
    /// This console's client certificate (PEM), for an etcd started with
    /// --client-cert-auth; with --etcd-key.
    #[arg(long = "etcd-cert", env = "HAVIP_ETCD_CERT", requires = "etcd_key")]
    pub etcd_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long = "etcd-key", env = "HAVIP_ETCD_KEY", requires = "etcd_cert")]
    pub etcd_key: Option<PathBuf>,
    /// An etcd user (etcd's own authentication); its password is read from
    /// HAVIP_ETCD_PASSWORD, never from the command line.
    #[arg(long = "etcd-user", env = "HAVIP_ETCD_USER")]
    pub etcd_user: Option<String>,
}

impl DataDir {
    /// A sled database in `dir`.
    pub fn sled(dir: &Path) -> DataDir {
        DataDir {
            dir: dir.to_path_buf(),
            store: "sled".into(),
            etcd_prefix: "/havip/".into(),
            secret_key_file: None,
            etcd_ca: None,
            etcd_cert: None,
            etcd_key: None,
            etcd_user: None,
        }
    }

    pub fn place(&self) -> anyhow::Result<StorePlace> {
        let mut place = StorePlace::parse(&self.store, &self.etcd_prefix)
            .map_err(|e| anyhow::anyhow!("--store: {e}"))?;
        if let StorePlace::Etcd { access, .. } = &mut place {
            access.ca = self.etcd_ca.clone();
            access.identity = self.etcd_cert.clone().zip(self.etcd_key.clone());
            if let Some(user) = &self.etcd_user {
                let password = std::env::var("HAVIP_ETCD_PASSWORD")
                    .map_err(|_| anyhow::anyhow!("--etcd-user needs HAVIP_ETCD_PASSWORD"))?;
                access.user = Some((user.clone(), password));
            }
        }
        Ok(place)
    }
}

/// Opens the store for a command; actions are audited as the command line's.
pub fn open(data: &DataDir) -> anyhow::Result<Store> {
    let config = StoreConfig {
        place: data.place()?,
        secret_key_file: data.secret_key_file.clone(),
        ..StoreConfig::default()
    };
    Store::open(&data.dir, config)
        .map(|store| store.acting(app::domain::audit::Actor::command_line()))
        .map_err(|e| anyhow::anyhow!(e.explain(&data.dir)))
}

/// Opens an existing database only: a command never creates one where there is none.
pub fn open_existing(data: &DataDir) -> anyhow::Result<Store> {
    if data.place()? == StorePlace::Sled {
        a_database_in(&data.dir)?;
    }
    open(data)
}

/// Refuses a directory that holds no database (a command never creates one there).
pub fn a_database_in(dir: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(dir.join("db").is_file(), "no database in {}", dir.display());
    Ok(())
}

/// The end of a command that opened the store: whatever `result` is, the store stops cleanly,
/// so the next start reads the audit log's saved length instead of counting every record.
pub fn finish<T>(store: &Store, result: Result<T, ApiError>) -> anyhow::Result<T> {
    let stopped = store.shut_down_cleanly();
    let value = result.map_err(|e| anyhow::anyhow!(e.message))?;
    stopped
        .map_err(|e| anyhow::anyhow!(e.message))
        .context("flushing the database")?;
    Ok(value)
}
