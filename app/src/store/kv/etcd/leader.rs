//! One process of those on a prefix leads, elected with etcd's own election (a key under
//! `PREFIX \0leader/`, on a lease of `LEASE_TTL_S` kept alive every second: how long the
//! others wait for a leader that died). The leader does
//! the work done once for all (alert deliveries, sweeps). It stops leading as soon as a keep-alive
//! fails or goes unanswered, before its lease can run out on the server: then another process
//! is elected. A process that loses etcd for longer leads again only after a new election.

use super::lease::Keeper;
use super::{Etcd, LEASE_TTL_S};
use tokio::sync::watch;

impl Etcd {
    /// Whether this process leads, as it changes (from false).
    pub fn lead(&self) -> watch::Receiver<bool> {
        let (leading, told) = watch::channel(false);
        let client = self.client.clone();
        let name = [self.prefix.as_slice(), b"\0leader"].concat();
        let me = self.mirror.writer;
        self.runtime().spawn(async move {
            let mut retry = super::lease::Retry::new();
            loop {
                if let Err(e) = term(&client, &name, &me, &leading).await {
                    tracing::warn!("not leading: {e}");
                }
                if leading.is_closed() {
                    return;
                }
                leading.send_replace(false);
                retry.after_failure().await;
            }
        });
        told
    }
}

/// One lease: a campaign, then leading until the lease is lost. Returns why it ended.
async fn term(
    client: &etcd_client::Client,
    name: &[u8],
    me: &[u8],
    leading: &watch::Sender<bool>,
) -> Result<(), String> {
    let mut lease = client.lease_client();
    let granted = lease
        .grant(LEASE_TTL_S, None)
        .await
        .map_err(|e| e.to_string())?;
    let id = granted.id();
    let mut kept = Keeper::start(client, id).await?;
    let mut election = client.election_client();
    let campaign = election.campaign(name.to_vec(), me.to_vec(), id);
    tokio::pin!(campaign);
    let mut elected = false;
    loop {
        tokio::select! {
            won = &mut campaign, if !elected => {
                won.map_err(|e| e.to_string())?;
                elected = true;
                leading.send_replace(true);
            }
            // (a keep-alive interrupted by the election's answer is sent again at the next
            // tick)
            alive = kept.next() => {
                alive?;
                if leading.is_closed() {
                    // nobody listens: give the lead up at once
                    let _ = lease.revoke(id).await;
                    return Ok(());
                }
            }
        }
    }
}
