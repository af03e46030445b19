//! `havip`: the HAVIP console (`serve`), the ARP agent (`agent`) and the commands that
//! provision and look after a console, in one binary. The code is the `havip` library.

use clap::Parser;
use havip::command::Cli;

fn main() {
    // the configuration file becomes environment variables before any thread starts
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = havip::config::apply::<Cli>(&args) {
        eprintln!("havip: {e}");
        std::process::exit(2);
    }
    let cli = Cli::parse();
    tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
        .block_on(havip::command::run(cli));
}

/// Keeps what glibc's allocator holds close to what is in use, before any thread starts:
/// - two arenas (unless the operator sets `MALLOC_ARENA_MAX`): by default a thread that
///   allocates under contention gets an arena of its own (up to 8 per core) and what it frees
///   stays there; with tokio's workers and blocking pool that kept tens of MiB resident after
///   bursts;
/// - allocations of 1 MiB and more are always mapped on their own (unless the operator sets
///   `MALLOC_MMAP_THRESHOLD_`), so freeing one gives it back: by default the threshold grows to
///   the largest block freed, and each login's 19 MiB argon2 block then stayed in an arena.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; no other thread runs yet
    unsafe {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}
