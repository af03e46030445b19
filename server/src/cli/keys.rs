//! `havip key create USER`: API keys for the Tencent-compatible API, for provisioning.

use super::{finish, open, DataDir};

#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Create an API key for USER; prints `SecretId SecretKey` on one line (the SecretKey is
    /// shown only now).
    Create {
        user: String,
        #[command(flatten)]
        data: DataDir,
    },
}

pub async fn run(command: KeyCommand) -> anyhow::Result<()> {
    let KeyCommand::Create { user, data } = command;
    let store = open(&data)?;
    let created = store.create_api_key(&user).await;
    let (key, secret) = finish(&store, created)?;
    println!("{} {secret}", key.id);
    Ok(())
}
