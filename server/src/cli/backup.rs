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
    #[arg(long, env = "HAVIP_DATA_DIR", required_unless_present = "store")]
    pub data_dir: Option<PathBuf>,
    /// Restore into etcd instead (`etcd://HOST:PORT[,...]`), under an `--etcd-prefix` that
    /// holds nothing yet. (An etcd reached over TLS or with a user: restore into a directory,
    /// then `havip migrate`.)
    #[arg(long, env = "HAVIP_STORE")]
    pub store: Option<String>,
    #[arg(
        long = "etcd-prefix",
        env = "HAVIP_ETCD_PREFIX",
        default_value = "/havip/"
    )]
    pub etcd_prefix: String,
    /// With `--store etcd://…`: where the backup's sealing key goes, the file every replica
    /// is given.
    #[arg(long = "secret-key-file", env = "HAVIP_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
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
    let mut input: Box<dyn std::io::BufRead> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file =
            std::fs::File::open(&args.file).with_context(|| args.file.display().to_string())?;
        Box::new(std::io::BufReader::new(file))
    };
    let (records, target) = match args.store.as_deref() {
        None | Some("sled") => {
            let dir =
                (args.data_dir.as_deref()).context("give --data-dir: a new, empty directory")?;
            let records = app::store::restore(&mut input, dir);
            (records, DataDir::sled(dir))
        }
        Some(store) => {
            let key_file = (args.secret_key_file.clone()).context(
                "give --secret-key-file: the file every replica will be given (the sealing key goes there)",
            )?;
            // (a store opened on etcd keeps nothing in its directory but a mode of 0700: a
            // directory of this command's own, not a shared one)
            let scratch =
                std::env::temp_dir().join(format!("havip-restore-{}", std::process::id()));
            let mut target = DataDir::sled(args.data_dir.as_deref().unwrap_or(&scratch));
            (target.store, target.etcd_prefix) = (store.to_string(), args.etcd_prefix.clone());
            target.secret_key_file = Some(key_file.clone());
            let place = target.place()?;
            let records = app::store::restore_to_etcd(&mut input, &place, &key_file);
            (records, target)
        }
    };
    let records = records.map_err(|e| anyhow::anyhow!(e.message))?;
    let store = open_existing(&target)?;
    let problems = finish(&store, store.check());
    if args.data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&target.dir);
    }
    let problems = problems?;
    anyhow::ensure!(
        problems.is_empty(),
        "restored, but inconsistent:\n{}",
        problems.join("\n")
    );
    let into = match &args.store {
        Some(url) if url != "sled" => format!("{url} under {}", args.etcd_prefix),
        _ => target.dir.display().to_string(),
    };
    println!("restored {records} records into {into} (consistent)");
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
