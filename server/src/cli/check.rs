//! `havip check --data-dir DIR`: a consistency check of a stopped console's database (or of a
//! restored backup): every index and counter against the records. Exit 0 when they agree, 1
//! with one line per mismatch. It changes no record; like every stop, it saves the audit log's
//! length for the next start.

use super::{finish, open_existing, DataDir};

#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub data: DataDir,
}

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let dir = &args.data.dir;
    let store = open_existing(&args.data)?;
    let problems = finish(&store, store.check())?;
    if problems.is_empty() {
        println!("{}: consistent", dir.display());
        return Ok(());
    }
    for p in &problems {
        println!("{p}");
    }
    anyhow::bail!("{}: {} inconsistencies", dir.display(), problems.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::store::{Store, StoreConfig};

    #[test]
    fn a_check_leaves_the_audit_count_saved_for_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        let counted = store.audit_len();
        store.shut_down_cleanly().unwrap();
        // a record only a count that reads the whole log would find
        store
            .raw_tree("audit")
            .unwrap()
            .insert(u64::MAX.to_be_bytes(), b"{}".as_slice())
            .unwrap();
        store.flush_now().unwrap();
        drop(store);

        run(CheckArgs {
            data: DataDir::sled(dir.path()),
        })
        .expect("the records agree with their indexes: consistent");
        let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
        assert_eq!(
            store.audit_len(),
            counted,
            "the saved count, kept by the check"
        );
    }
}
