//! `havip check --data-dir DIR`: a consistency check of a stopped console's database (or of a
//! restored backup): every index and counter against the records. Exit 0 when they agree, 1
//! with one line per mismatch. It changes no record; like every stop, it saves the audit log's
//! length for the next start.

use app::store::{Store, StoreConfig};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct CheckArgs {
    #[arg(long, env = "HAVIP_DATA_DIR", default_value = "havip-data")]
    pub data_dir: PathBuf,
}

pub fn run(args: CheckArgs) -> Result<(), String> {
    // never create a database where there is none
    if !args.data_dir.join("db").is_file() {
        return Err(format!("no database in {}", args.data_dir.display()));
    }
    let store = Store::open(&args.data_dir, StoreConfig::default())
        .map_err(|e| e.explain(&args.data_dir))?;
    let problems = crate::serve::finish(&store, store.check())?;
    if problems.is_empty() {
        println!("{}: consistent", args.data_dir.display());
        return Ok(());
    }
    for p in &problems {
        println!("{p}");
    }
    Err(format!(
        "{}: {} inconsistencies",
        args.data_dir.display(),
        problems.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            data_dir: dir.path().to_path_buf(),
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
