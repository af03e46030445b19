//! `havip backup --data-dir DIR > FILE` and `havip restore FILE --data-dir NEW`.
//!
//! A backup is taken while the console runs: the console answers on `DIR/backup.sock` (mode
//! 0600 in the 0700 data directory: only who may read the database files may ask) with a copy
//! whose indexes agree with its records. With the console stopped, the command reads the
//! database itself.

use app::store::{Store, StoreConfig};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct BackupArgs {
    #[arg(long, env = "HAVIP_DATA_DIR", default_value = "havip-data")]
    pub data_dir: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup file (`-` for standard input).
    pub file: PathBuf,
    /// A new, empty directory.
    #[arg(long, env = "HAVIP_DATA_DIR")]
    pub data_dir: PathBuf,
}

pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join("backup.sock")
}

/// Serves backups on `DIR/backup.sock` for as long as the console runs.
pub async fn serve(store: Store, dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(dir);
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)
        .map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let copy = tokio::task::spawn_blocking(move || store.backup_consistent()).await;
                match copy {
                    Ok(Ok(bytes)) => {
                        let _ = stream.write_all(&bytes).await;
                    }
                    Ok(Err(e)) => tracing::error!("backup failed: {}", e.message),
                    Err(e) => tracing::error!("backup failed: {e}"),
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(())
}

pub async fn backup(args: BackupArgs) -> Result<(), String> {
    let dir = &args.data_dir;
    if !dir.join("db").is_file() {
        return Err(format!("no database in {}", dir.display()));
    }
    let mut out = std::io::stdout().lock();
    owner_only_if_a_file(&out)?;
    match Store::open(dir, StoreConfig::default()) {
        Ok(store) => {
            let bytes = crate::serve::finish(&store, store.backup_consistent())?;
            out.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        // the console has it open: ask the console
        Err(app::store::OpenError::InUse) if socket_path(dir).exists() => {
            let mut stream = std::os::unix::net::UnixStream::connect(socket_path(dir))
                .map_err(|e| format!("the console at {} does not answer: {e}", dir.display()))?;
            let n = std::io::copy(&mut stream, &mut out).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("the console could not make a backup: see its log".into());
            }
        }
        Err(e) => return Err(e.explain(dir)),
    }
    out.flush().map_err(|e| e.to_string())
}

/// A backup holds password hashes and the key that seals API keys' secrets: when standard
/// output is a file (`havip backup > FILE`), it is made readable by its owner only, whatever
/// the umask created it with.
fn owner_only_if_a_file(out: &impl std::os::fd::AsFd) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let file = std::fs::File::from(
        out.as_fd()
            .try_clone_to_owned()
            .map_err(|e| e.to_string())?,
    );
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if meta.is_file() {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("making the backup readable by its owner only: {e}"))?;
    }
    Ok(())
}

pub fn restore(args: RestoreArgs) -> Result<(), String> {
    let records = if args.file.as_os_str() == "-" {
        app::store::restore(&mut std::io::stdin().lock(), &args.data_dir)
    } else {
        let file =
            std::fs::File::open(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
        app::store::restore(&mut std::io::BufReader::new(file), &args.data_dir)
    }
    .map_err(|e| e.message)?;
    let store = Store::open(&args.data_dir, StoreConfig::default())
        .map_err(|e| e.explain(&args.data_dir))?;
    let problems = crate::serve::finish(&store, store.check())?;
    if !problems.is_empty() {
        return Err(format!(
            "restored, but inconsistent:\n{}",
            problems.join("\n")
        ));
    }
    println!(
        "restored {records} records into {} (consistent)",
        args.data_dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_backup_file_is_made_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup.jsonl");
        let file = std::fs::File::create(&path).unwrap();
        file.set_permissions(std::fs::Permissions::from_mode(0o644))
            .unwrap();
        super::owner_only_if_a_file(&file).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // a pipe (`havip backup | gzip`) is left as it is
        let (reader, _writer) = std::io::pipe().unwrap();
        super::owner_only_if_a_file(&reader).unwrap();
    }
}
