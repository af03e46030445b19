#![recursion_limit = "256"]
//! `havip`: the HAVIP console (`serve`) and the ARP agent (`agent`), in one binary.

mod access;
#[cfg(test)]
mod access_tests;
mod agent;
mod agent_ws;
#[cfg(test)]
mod agent_ws_tests;
mod alerts;
#[cfg(test)]
mod alerts_delivery_tests;
#[cfg(test)]
mod alerts_tests;
#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod audit_tests;
mod backup;
mod check;
mod config;
mod embedded;
#[cfg(test)]
mod flood_tests;
mod health;
#[cfg(test)]
mod hostile_tests;
mod listener;
#[cfg(test)]
mod listener_tests;
mod live_ws;
mod login;
mod metrics;
#[cfg(test)]
mod metrics_tests;
mod protocol;
mod request_log;
mod rest;
#[cfg(test)]
mod security_tests;
mod serve;
mod tcapi;
#[cfg(test)]
mod tcapi_tests;
mod tls;
#[cfg(test)]
mod tls_tests;
mod users;

use clap::{Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Parser)]
#[command(
    name = "havip",
    version,
    about = "Self-hosted console for high-availability virtual IPs"
)]
pub(crate) struct Cli {
    /// Log lines as text or as JSON objects (one per line); RUST_LOG chooses what is logged.
    #[arg(long, global = true, env = "HAVIP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Read settings from this TOML file (keys: the flags' long names; a table per command);
    /// the environment and the command line override it.
    #[arg(long, global = true, env = "HAVIP_CONFIG")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web console.
    Serve(Box<serve::ServeArgs>),
    /// Watch ARP on a host's interface and report HAVIP holders to the console.
    Agent(agent::AgentArgs),
    /// Add users and reset passwords (with the console stopped: one process opens the database).
    #[command(subcommand)]
    User(users::UserCommand),
    /// Write a backup of the database to standard output (also while the console runs).
    Backup(backup::BackupArgs),
    /// Restore a backup into a new, empty directory, and check it.
    Restore(backup::RestoreArgs),
    /// Check that the database's indexes and counters agree with its records (read-only;
    /// with the console stopped). Exit 1 with a report on any mismatch.
    Check(check::CheckArgs),
    /// Create API keys for the Tencent-compatible API (with the console stopped).
    #[command(subcommand)]
    Key(users::KeyCommand),
}

fn main() {
    // the configuration file becomes environment variables before any thread starts
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = config::apply::<Cli>(&args) {
        eprintln!("havip: {e}");
        std::process::exit(2);
    }
    let cli = Cli::parse();
    tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
        .block_on(run(cli));
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

async fn run(cli: Cli) {
    // logs go to stderr; RUST_LOG narrows or widens them (default: info, without sled's own
    // lines: what they say reaches the user as one line of ours)
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=off")),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let result = match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Agent(args) => agent::run(args).await,
        Command::User(command) => users::run(command).await,
        Command::Key(command) => users::run_key(command).await,
        Command::Check(args) => check::run(args),
        Command::Backup(args) => backup::backup(args).await,
        Command::Restore(args) => backup::restore(args),
    };
    if let Err(e) = result {
        eprintln!("havip: {e}");
        std::process::exit(1);
    }
}

/// Defaults shared by the subcommands.
pub fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 3000))
}
