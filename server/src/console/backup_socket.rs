//! The console's side of `havip backup`: while the console runs, it answers on
//! `DIR/backup.sock` (mode 0600 in the 0700 data directory: only who may read the database files
//! may ask) with a copy whose indexes agree with its records.

use app::store::Store;
use std::path::{Path, PathBuf};

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
