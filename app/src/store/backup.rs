//! Backups: every record of every tree as JSON lines, with the key that seals API keys'
//! secrets (so a restored console can still check their signatures). A backup holds everything
//! the data directory holds: keep it as private as the directory.
//!
//! ```text
//! {"format":"havip-backup","version":1,"schema":2,"created":1795636025000,"sealing_key":"…"}
//! {"tree":"havips","key":"<hex>","value":"<hex>"}
//! …
//! {"end":true,"records":1234}
//! ```
//!
//! While the console runs, writes go on during the copy; `backup_consistent` copies, restores
//! the copy into a scratch directory, checks it with `check`, and copies again if a write
//! slipped between two trees (rare: a copy takes milliseconds).

use super::{db_err, Store, StoreConfig, SCHEMA_VERSION};
use crate::domain::error::ApiError;
use crate::i18n::{m, Text};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::Path;

const FORMAT: &str = "havip-backup";
/// What lives only as long as a replica (the agents connected to it): never in a backup.
const NOT_BACKED_UP: &[&str] = &["presence"];
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    schema: u32,
    created: u64,
    sealing_key: String,
}

#[derive(Serialize, Deserialize)]
struct Record {
    tree: String,
    key: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
struct End {
    end: bool,
    records: u64,
}

fn unhex(text: &str) -> Result<Vec<u8>, ApiError> {
    hex::decode(text).map_err(|_| ApiError::malformed(m::errors_store::BACKUP_MALFORMED_RECORD))
}

fn io_err(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("writing the backup: {e}"))
}

impl Store {
    /// Writes every record: on etcd as of one revision; on sled in one pass, not isolated
    /// from concurrent writes (`backup_consistent` holds them back).
    pub fn backup(&self, out: &mut dyn Write) -> Result<u64, ApiError> {
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            schema: SCHEMA_VERSION,
            created: super::now_ms(),
            sealing_key: hex::encode(self.inner.sealing_key),
        };
        writeln!(
            out,
            "{}",
            serde_json::to_string(&header).expect("serializes")
        )
        .map_err(io_err)?;
        let mut records = 0;
        for (tree, key, value) in self.inner.kv.snapshot().map_err(db_err)? {
            if NOT_BACKED_UP.contains(&tree.as_str()) {
                continue;
            }
            let record = Record {
                tree,
                key: hex::encode(&key),
                value: hex::encode(&value),
            };
            writeln!(
                out,
                "{}",
                serde_json::to_string(&record).expect("serializes")
            )
            .map_err(io_err)?;
            records += 1;
        }
        writeln!(
            out,
            "{}",
            serde_json::to_string(&End { end: true, records }).expect("serializes")
        )
        .map_err(io_err)?;
        out.flush().map_err(io_err)?;
        Ok(records)
    }

    /// A point-in-time backup, taken while the console may be writing: new changes wait while
    /// the changes in progress finish and the records are copied; then the copy is restored
    /// into a scratch directory and checked before it is handed out.
    pub fn backup_consistent(&self) -> Result<Vec<u8>, ApiError> {
        let copy = {
            // (on etcd the copy is of one revision already; other replicas go on writing)
            let _paused = match self.inner.config.place {
                super::StorePlace::Sled => Some(Paused::new(self)?),
                super::StorePlace::Etcd { .. } => None,
            };
            let mut copy = vec![];
            self.backup(&mut copy)?;
            copy
        };
        let scratch = tempfile_dir()?;
        restore(&mut copy.as_slice(), scratch.path())?;
        let problems = Store::open(scratch.path(), StoreConfig::default())?.check()?;
        if !problems.is_empty() {
            return Err(ApiError::internal(format!(
                "the copy is not consistent: {}",
                problems.join("; ")
            )));
        }
        Ok(copy)
    }
}

/// New changes held back, and none in progress, for as long as it lives.
struct Paused<'a>(&'a Store);

impl<'a> Paused<'a> {
    fn new(store: &'a Store) -> Result<Paused<'a>, ApiError> {
        use std::sync::atomic::Ordering;
        store.inner.paused.store(true, Ordering::SeqCst);
        let paused = Paused(store);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.inner.writers.load(Ordering::SeqCst) > 0 {
            if std::time::Instant::now() > deadline {
                return Err(ApiError::internal(
                    "changes in progress did not finish within 10 s",
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(paused)
    }
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        self.0
            .inner
            .paused
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A scratch directory removed when dropped.
fn tempfile_dir() -> Result<ScratchDir, ApiError> {
    let path =
        std::env::temp_dir().join(format!("havip-backup-check-{:016x}", rand::random::<u64>()));
    // 0700: it holds a copy of the database while the backup is checked
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&path)
        .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
    Ok(ScratchDir(path))
}

struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A backup read whole: its header and records, checked complete.
struct Read {
    header: Header,
    records: Vec<(String, Vec<u8>, Vec<u8>)>,
}

fn read_backup(input: &mut dyn BufRead) -> Result<Read, ApiError> {
    let mut lines = input.lines();
    let header: Header = match lines.next() {
        Some(Ok(line)) => serde_json::from_str(&line)
            .map_err(|_| ApiError::malformed(m::errors_store::BACKUP_NO_HEADER))?,
        _ => return Err(ApiError::malformed(m::errors_store::BACKUP_EMPTY)),
    };
    if header.format != FORMAT || header.version != VERSION {
        return Err(ApiError::malformed(
            Text::new(m::errors_store::BACKUP_UNKNOWN_VERSION)
                .arg("format", &header.format)
                .arg("version", header.version),
        ));
    }
    if header.schema > SCHEMA_VERSION {
        return Err(ApiError::malformed(
            Text::new(m::errors_store::BACKUP_SCHEMA_NEWER)
                .arg("schema", header.schema)
                .arg("ours", SCHEMA_VERSION),
        ));
    }
    let mut records = Vec::new();
    for line in lines {
        let line = line.map_err(|e| ApiError::internal(format!("reading the backup: {e}")))?;
        if let Ok(end) = serde_json::from_str::<End>(&line) {
            if end.records != records.len() as u64 {
                return Err(ApiError::malformed(
                    Text::new(m::errors_store::BACKUP_INCOMPLETE)
                        .arg("count", records.len())
                        .arg("total", end.records),
                ));
            }
            return Ok(Read { header, records });
        }
        let record: Record = serde_json::from_str(&line)
            .map_err(|_| ApiError::malformed(m::errors_store::BACKUP_MALFORMED_RECORD))?;
        records.push((record.tree, unhex(&record.key)?, unhex(&record.value)?));
    }
    Err(ApiError::malformed(m::errors_store::BACKUP_TRUNCATED))
}

/// Writes the backup's sealing key to `path` (see `api_keys::key_file`); an existing file
/// must hold the same key.
fn write_key(path: &Path, key: &[u8]) -> Result<(), ApiError> {
    let key: [u8; 32] =
        (key.try_into()).map_err(|_| ApiError::malformed(m::errors_store::BACKUP_KEY_SIZE))?;
    match super::api_keys::key_file(path, || key)? == key {
        true => Ok(()),
        false => Err(ApiError::conflict(
            Text::new(m::errors_store::BACKUP_KEY_DIFFERS).arg("path", path.display()),
        )),
    }
}

/// Restores a backup into `dir`, which must be empty or absent. Returns the records written.
pub fn restore(input: &mut dyn BufRead, dir: &Path) -> Result<u64, ApiError> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(|e| ApiError::internal(format!("{}: {e}", dir.display())))?
            .next()
            .is_some()
    {
        return Err(ApiError::conflict(
            Text::new(m::errors_store::RESTORE_DIR_NOT_EMPTY).arg("dir", dir.display()),
        ));
    }
    let backup = read_backup(input)?;
    super::private_dir(dir).map_err(|e| ApiError::internal(format!("{}: {e}", dir.display())))?;
    write_key(&dir.join("secret.key"), &unhex(&backup.header.sealing_key)?)?;
    let db = sled::Config::new().path(dir).open().map_err(db_err)?;
    for (tree, key, value) in &backup.records {
        db.open_tree(tree.as_bytes())
            .map_err(db_err)?
            .insert(key.as_slice(), value.as_slice())
            .map_err(db_err)?;
    }
    db.flush().map_err(db_err)?;
    Ok(backup.records.len() as u64)
}

/// Restores a backup under an etcd prefix that holds nothing yet (`place`), its sealing key
/// into `key_file` (made, or holding the same key). Returns the records written.
pub fn restore_to_etcd(
    input: &mut dyn BufRead,
    place: &super::StorePlace,
    key_file: &Path,
) -> Result<u64, ApiError> {
    let super::StorePlace::Etcd {
        endpoints,
        prefix,
        access,
    } = place
    else {
        return Err(ApiError::internal("not an etcd store"));
    };
    let kv = super::kv::Kv::etcd(endpoints, prefix, access).map_err(db_err)?;
    if !kv.snapshot().map_err(db_err)?.is_empty() {
        return Err(ApiError::conflict(
            Text::new(m::errors_store::RESTORE_PREFIX_NOT_EMPTY).arg("prefix", prefix),
        ));
    }
    let backup = read_backup(input)?;
    write_key(key_file, &unhex(&backup.header.sealing_key)?)?;
    // by table, MAX_TXN_OPS records to an etcd transaction
    let mut by_table: std::collections::BTreeMap<&str, super::kv::Batch> = Default::default();
    for (tree, key, value) in &backup.records {
        by_table.entry(tree).or_default().insert(key, value);
    }
    for (tree, batch) in by_table {
        kv.table(tree)
            .map_err(db_err)?
            .apply_batch(batch)
            .map_err(db_err)?;
    }
    Ok(backup.records.len() as u64)
}
