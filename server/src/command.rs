//! The command line: `havip serve|agent|user|key|check|backup|restore`, global flags, and
//! what each command runs.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Parser)]
#[command(
    name = "havip",
    version,
    about = "Self-hosted console for high-availability virtual IPs"
)]
pub struct Cli {
    /// Log lines as text or as JSON objects (one per line); RUST_LOG chooses what is logged.
    #[arg(long, global = true, env = "HAVIP_LOG_FORMAT", value_enum, default_value_t = crate::logs::LogFormat::Text)]
    log_format: crate::logs::LogFormat,
    /// Read settings from this TOML file (keys: the flags' long names; a table per command);
    /// the environment and the command line override it.
    #[arg(long, global = true, env = "HAVIP_CONFIG")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web console.
    Serve(Box<crate::console::serve::ServeArgs>),
    /// Watch ARP on a host's interface and report HAVIP holders to the console.
    Agent(crate::agent::AgentArgs),
    /// Add users and reset passwords (with the console stopped: one process opens the database).
    #[command(subcommand)]
    User(crate::cli::users::UserCommand),
    /// Write a backup of the database to standard output (also while the console runs).
    Backup(crate::cli::backup::BackupArgs),
    /// Restore a backup into a new, empty directory, and check it.
    Restore(crate::cli::backup::RestoreArgs),
    /// Move a console's records from its data directory to an empty etcd prefix, and verify
    /// them (the console stopped).
    Migrate(crate::cli::backup::MigrateArgs),
    /// Check that the database's indexes and counters agree with its records (read-only;
    /// with the console stopped). Exit 1 with a report on any mismatch.
    Check(crate::cli::check::CheckArgs),
    /// Create API keys for the Tencent-compatible API (with the console stopped).
    #[command(subcommand)]
    Key(crate::cli::keys::KeyCommand),
}

/// Runs the command the line asked for; its error ends the process with exit code 1.
pub async fn run(cli: Cli) {
    crate::logs::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => crate::console::serve::run(*args).await,
        Command::Agent(args) => crate::agent::run(args).await,
        Command::User(command) => crate::cli::users::run(command).await,
        Command::Key(command) => crate::cli::keys::run(command).await,
        Command::Check(args) => crate::cli::check::run(args),
        Command::Backup(args) => crate::cli::backup::backup(args),
        Command::Restore(args) => crate::cli::backup::restore(args),
        Command::Migrate(args) => crate::cli::backup::migrate(args),
    };
    if let Err(e) = result {
        // the causes on the same line: "what failed: why"
        crate::logs::fatal(format!("{e:#}"));
        std::process::exit(1);
    }
}

/// Defaults shared by the subcommands.
pub fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 3000))
}
