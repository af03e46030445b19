//! The work one replica does for all, while it leads (see `Store::leading`): alert
//! deliveries and the station sweep. On sled the one process leads from the start.

use app::store::Store;

/// Does the work whenever this replica leads. A replica that stops leading stops it (a
/// delivery under way is taken up by the next leader, from the outbox).
pub async fn run(store: Store) {
    let mut leading = store.leading();
    loop {
        tokio::select! {
            open = until_leading(&mut leading, true) => if !open { return },
            _ = store.closing() => return,
        }
        tracing::info!("this replica leads: it delivers alerts and sweeps stations");
        let dispatcher = crate::alerts::spawn(store.clone());
        let sweep = tokio::spawn(sweep_stations(store.clone()));
        tokio::select! {
            // (closed: sled's, which leads for good)
            open = until_leading(&mut leading, false) => if !open {
                store.closing().await
            },
            _ = store.closing() => {}
        }
        dispatcher.abort();
        sweep.abort();
        if !store.is_closing() {
            tracing::warn!("this replica no longer leads: another one delivers alerts");
        }
    }
}

/// Waits until leading is `lead`; false if it never changes again (sled's).
async fn until_leading(leading: &mut tokio::sync::watch::Receiver<bool>, lead: bool) -> bool {
    leading.wait_for(|leads| *leads == lead).await.is_ok()
}

/// Forgets discovered stations nobody has seen for the configured time, every few minutes.
async fn sweep_stations(store: Store) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        every.tick().await;
        match store.expire_stations(app::support::now_ms()) {
            Ok(0) => {}
            Ok(n) => tracing::info!("forgot {n} stations not seen for a while"),
            Err(e) => tracing::warn!("sweeping stations: {e}"),
        }
    }
}
