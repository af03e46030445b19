//! `havip user add|reset-password`: users from the command line, for provisioning and for
//! recovering a lost password. The console must be stopped: one process opens the database.

use app::domain::auth::Role;
use app::store::{Store, StoreConfig};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; the password comes from HAVIP_PASSWORD or the first line of standard input.
    Add {
        name: String,
        #[arg(long)]
        role: Role,
        #[arg(long, env = "HAVIP_DATA_DIR", default_value = "havip-data")]
        data_dir: PathBuf,
    },
    /// Set a new password (from HAVIP_PASSWORD or standard input); ends the user's sessions
    /// and deletes their API keys.
    ResetPassword {
        name: String,
        /// Leave the user's API keys working.
        #[arg(long)]
        keep_keys: bool,
        #[arg(long, env = "HAVIP_DATA_DIR", default_value = "havip-data")]
        data_dir: PathBuf,
    },
}

#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Create an API key for USER; prints `SecretId SecretKey` on one line (the SecretKey is
    /// shown only now).
    Create {
        user: String,
        #[arg(long, env = "HAVIP_DATA_DIR", default_value = "havip-data")]
        data_dir: PathBuf,
    },
}

pub async fn run_key(command: KeyCommand) -> Result<(), String> {
    let KeyCommand::Create { user, data_dir } = command;
    let store = open(&data_dir)?;
    let created = store.create_api_key(&user).await;
    let (key, secret) = crate::serve::finish(&store, created)?;
    println!("{} {secret}", key.id);
    Ok(())
}

fn password() -> Result<String, String> {
    if let Ok(p) = std::env::var("HAVIP_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn open(dir: &std::path::Path) -> Result<Store, String> {
    Store::open(dir, StoreConfig::default())
        .map(|store| store.acting(app::domain::audit::Actor::command_line()))
        .map_err(|e| e.explain(dir))
}

pub async fn run(command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Add {
            name,
            role,
            data_dir,
        } => {
            let password = password()?;
            let store = open(&data_dir)?;
            let created = store.create_user(&name, &password, role).await;
            let user = crate::serve::finish(&store, created)?;
            println!("user {} added ({})", user.name, user.role);
        }
        UserCommand::ResetPassword {
            name,
            keep_keys,
            data_dir,
        } => {
            let password = password()?;
            let store = open(&data_dir)?;
            let changed = store.set_password(&name, &password, !keep_keys).await;
            crate::serve::finish(&store, changed)?;
            let keys = if keep_keys {
                "its API keys kept"
            } else {
                "its API keys deleted"
            };
            println!(
                "password of {} changed; its sessions are ended, {keys}",
                name.trim()
            );
        }
    }
    Ok(())
}
