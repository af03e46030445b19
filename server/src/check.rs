//! `havip check --data-dir DIR`: a read-only consistency check of a stopped console's database
//! (or of a restored backup): every index and counter against the records. Exit 0 when they
//! agree, 1 with one line per mismatch.

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
        .map_err(|e| crate::serve::open_error(&args.data_dir, &e))?;
    let problems = store.check().map_err(|e| e.message)?;
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
