//! `havip user add|reset-password`: users from the command line, for provisioning and for
//! recovering a lost password.

use super::{finish, open, DataDir};
use anyhow::Context;
use app::domain::auth::Role;
use std::io::BufRead;

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; the password comes from HAVIP_PASSWORD or the first line of standard input.
    Add {
        name: String,
        #[arg(long)]
        role: Role,
        /// A user of that name already there is success, left as it is (for provisioning
        /// scripts run more than once).
        #[arg(long)]
        if_absent: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Set a new password (from HAVIP_PASSWORD or standard input); ends the user's sessions
    /// and deletes their API keys.
    ResetPassword {
        name: String,
        /// Leave the user's API keys working.
        #[arg(long)]
        keep_keys: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            if_absent,
            data,
        } => {
            let password = password()?;
            let store = open(&data)?;
            if if_absent && store.user(&name).ok().flatten().is_some() {
                finish(&store, Ok(()))?;
                println!("user {} is there already: left as it is", name.trim());
                return Ok(());
            }
            let created = store.create_user(&name, &password, role).await;
            let user = finish(&store, created)?;
            println!("user {} added ({})", user.name, user.role);
        }
        UserCommand::ResetPassword {
            name,
            keep_keys,
            data,
        } => {
            let password = password()?;
            let store = open(&data)?;
            let changed = store.set_password(&name, &password, !keep_keys).await;
            finish(&store, changed)?;
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

fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("HAVIP_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
