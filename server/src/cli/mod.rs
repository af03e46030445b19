//! The commands other than `serve` and `agent`: `user`, `key`, `check`, `backup` and
//! `restore`. Each opens the database itself, so (but for a backup) the console must be
//! stopped: sled lets one process open it. They share the data-directory argument, the opening
//! and the closing of the store, and one error type (`anyhow`), printed as one line.

pub mod backup;
pub mod check;
pub mod keys;
pub mod users;

use anyhow::Context;
use app::domain::error::ApiError;
use app::store::{Store, StoreConfig};
use std::path::{Path, PathBuf};

/// `--data-dir DIR` (or `HAVIP_DATA_DIR`): where the console keeps its database.
#[derive(clap::Args, Clone)]
pub struct DataDir {
    /// The console's data directory.
    #[arg(
        long = "data-dir",
        env = "HAVIP_DATA_DIR",
        default_value = "havip-data"
    )]
    pub dir: PathBuf,
}

/// Opens the store in `dir` for a command; actions are audited as the command line's.
pub fn open(dir: &Path) -> anyhow::Result<Store> {
    Store::open(dir, StoreConfig::default())
        .map(|store| store.acting(app::domain::audit::Actor::command_line()))
        .map_err(|e| anyhow::anyhow!(e.explain(dir)))
}

/// Opens an existing database only: a command never creates one where there is none.
pub fn open_existing(dir: &Path) -> anyhow::Result<Store> {
    a_database_in(dir)?;
    open(dir)
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
