//! `havip backup --data-dir DIR > FILE`, `havip restore FILE --data-dir NEW` and
//! `havip migrate --from DIR --store etcd://…`.
//!
//! A backup is taken while the console runs: the console answers on `DIR/backup.sock`
//! (`backup_socket`). With the console stopped, the command reads the database itself. On etcd
//! (`--store etcd://…`) it reads the records as of one revision, beside the running replicas.

use super::{a_database_in, finish, open_existing, DataDir};
use crate::console::backup_socket::socket_path;
use anyhow::Context;
use app::store::StorePlace;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup file (`-` for standard input).
    pub file: PathBuf,
    /// A new, empty directory (no default: a restore never goes where a console may be).
    #[arg(long, env = "HAVIP_DATA_DIR")]
    pub data_dir: PathBuf,
}

pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let dir = &args.data.dir;
    let mut out = std::io::stdout().lock();
    owner_only_if_a_file(&out)?;
    if args.data.place()? != StorePlace::Sled {
        let store = open_existing(&args.data)?;
        let bytes = finish(&store, store.backup_consistent())?;
        out.write_all(&bytes)?;
        return Ok(out.flush()?);
    }
    a_database_in(dir)?;
    match app::store::Store::open(dir, app::store::StoreConfig::default()) {
        Ok(store) => {
            let bytes = finish(&store, store.backup_consistent())?;
            out.write_all(&bytes)?;
        }
        // the console has it open: ask the console
        Err(app::store::OpenError::InUse) if socket_path(dir).exists() => {
            let mut stream = std::os::unix::net::UnixStream::connect(socket_path(dir))
                .with_context(|| format!("the console at {} does not answer", dir.display()))?;
            let n = std::io::copy(&mut stream, &mut out)?;
            anyhow::ensure!(n > 0, "the console could not make a backup: see its log");
        }
        Err(e) => anyhow::bail!(e.explain(dir)),
    }
    Ok(out.flush()?)
}

/// A backup holds password hashes and the key that seals API keys' secrets: when standard
/// output is a file (`havip backup > FILE`), it is made readable by its owner only, whatever
/// the umask created it with.
fn owner_only_if_a_file(out: &impl std::os::fd::AsFd) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let file = std::fs::File::from(out.as_fd().try_clone_to_owned()?);
    if file.metadata()?.is_file() {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .context("making the backup readable by its owner only")?;
    }
    Ok(())
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let records = if args.file.as_os_str() == "-" {
        app::store::restore(&mut std::io::stdin().lock(), &args.data_dir)
    } else {
        let file =
            std::fs::File::open(&args.file).with_context(|| args.file.display().to_string())?;
        app::store::restore(&mut std::io::BufReader::new(file), &args.data_dir)
    }
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let store = open_existing(&super::DataDir::sled(&args.data_dir))?;
    let problems = finish(&store, store.check())?;
    anyhow::ensure!(
        problems.is_empty(),
        "restored, but inconsistent:\n{}",
        problems.join("\n")
    );
    println!(
        "restored {records} records into {} (consistent)",
        args.data_dir.display()
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The data directory of the console to move (stopped).
    #[arg(long)]
    pub from: PathBuf,
    /// Where to: `--store etcd://HOST:PORT[,...]` with an empty `--etcd-prefix`, and the
    /// `--secret-key-file` every replica will be given (the sealing key is copied there).
    #[command(flatten)]
    pub to: DataDir,
}

/// Moves a sled console's records to an empty etcd prefix, then verifies them: the records
/// read back from etcd are the ones moved, and `check` finds nothing.
pub fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let place = args.to.place()?;
    let StorePlace::Etcd { prefix, .. } = &place else {
        anyhow::bail!(
            "--store: migrate moves a console to etcd: give --store etcd://HOST:PORT[,...]"
        );
    };
    let key_file = (args.to.secret_key_file.clone()).context(
        "give --secret-key-file: the file every replica will be given (the sealing key goes there)",
    )?;
    let source = open_existing(&DataDir::sled(&args.from))?;
    let copy = finish(&source, source.backup_consistent())?;
    drop(source);
    let records = app::store::restore_to_etcd(&mut copy.as_slice(), &place, &key_file)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let target = open_existing(&args.to)?;
    let again = target.backup_consistent();
    let problems = target.check();
    let (again, problems) = (finish(&target, again)?, finish(&target, problems)?);
    anyhow::ensure!(
        records_of(&again) == records_of(&copy),
        "moved, but the records read back from etcd differ from the ones moved"
    );
    anyhow::ensure!(
        problems.is_empty(),
        "moved, but inconsistent:\n{}",
        problems.join("\n")
    );
    println!(
        "moved {records} records from {} to etcd under {prefix}; verified (the same records, consistent)",
        args.from.display()
    );
    Ok(())
}

/// A backup's record lines, sorted (its header says when it was made).
fn records_of(backup: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = backup.split(|b| *b == b'\n').skip(1).collect();
    lines.sort();
    lines
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
