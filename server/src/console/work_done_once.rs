//! The work one replica does for all, while it leads (see `Store::leading`): alert
//! deliveries and the sweeps (the audit log's trimming; accepted API signatures and login
//! failures past their window; stations not seen for a while; sessions ended by time; old API tasks and client tokens). On
//! sled the one process leads from the start.

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
        tracing::info!("this replica leads: it delivers alerts and sweeps");
        let dispatcher = crate::alerts::spawn(store.clone());
        let sweep = tokio::spawn(sweep(store.clone()));
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

/// How often the sweep runs; stations are swept every `STATION_SWEEPS`th time.
const SWEEP: std::time::Duration = std::time::Duration::from_secs(10);
const STATION_SWEEPS: u32 = 30;

/// Trims the audit log to its limit (the other replicas' records included), forgets API
/// signatures whose window ended and login failures past theirs, and every five minutes, stations nobody has seen for the
/// configured time, sessions that ended by time, and API tasks and client tokens over a day old.
async fn sweep(store: Store) {
    let mut every = tokio::time::interval(SWEEP);
    for round in 0u32.. {
        every.tick().await;
        let store = store.clone();
        // (each step waits for the database: off the async workers)
        let swept = tokio::task::spawn_blocking(move || sweep_once(&store, round)).await;
        if let Err(e) = swept {
            tracing::warn!("sweeping: {e}");
        }
    }
}

fn sweep_once(store: &Store, round: u32) {
    store.trim_audit();
    let now = app::support::now_ms();
    if let Err(e) = store.forget_old_signatures((now / 1000) as i64) {
        tracing::warn!("forgetting old API signatures: {e}");
    }
    let max_keys = crate::console::login::throttle::MAX_KEYS;
    if let Err(e) = store.forget_old_login_failures(now, max_keys) {
        tracing::warn!("forgetting old login failures: {e}");
    }
    if !round.is_multiple_of(STATION_SWEEPS) {
        return;
    }
    match store.expire_stations(now) {
        Ok(0) => {}
        Ok(n) => tracing::info!("forgot {n} stations not seen for a while"),
        Err(e) => tracing::warn!("sweeping stations: {e}"),
    }
    if let Err(e) = store.forget_expired_sessions(now) {
        tracing::warn!("forgetting ended sessions: {e}");
    }
    if let Err(e) = store.forget_old_api_tasks(now) {
        tracing::warn!("forgetting old API tasks: {e}");
    }
    if let Err(e) = store.forget_old_client_tokens(now) {
        tracing::warn!("forgetting old API client tokens: {e}");
    }
}
