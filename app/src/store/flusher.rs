//! Group commit: one thread per store makes the database durable for every write that asked
//! since its last flush, and tells every waiting writer at once.
//!
//! A writer counts itself in (`requested`), wakes the thread if it sleeps, and waits on a watch
//! channel for a flush attempt that started after its write. Writers that arrive while a flush
//! runs share the next one. No writer waits for another writer's turn (no lock is handed from
//! writer to writer), and no task is spawned per flush.

use super::{db_err, lock};
use crate::domain::error::ApiError;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use tokio::sync::watch;

/// sled 0.34's flushes are serialized here, process-wide (two stores in one process, as in
/// tests, never flush at once; see spacejam/sled#1308).
static FLUSHING: Mutex<()> = Mutex::new(());

pub(super) struct Flusher {
    wanted: Arc<(Mutex<Wanted>, Condvar)>,
    progress: watch::Receiver<Progress>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Wanted {
    /// writes that asked to be made durable, counted from 1
    requested: u64,
    /// the thread waits for a request
    asleep: bool,
    stop: bool,
}

/// How far the flushes have got: every write counted up to `attempted` was in the database when
/// the latest flush began; up to `durable`, when the latest one that succeeded began.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    attempted: u64,
    durable: u64,
}

impl Flusher {
    pub(super) fn start(db: sled::Db) -> std::io::Result<Flusher> {
        let wanted = Arc::new((Mutex::new(Wanted::default()), Condvar::new()));
        let (report, progress) = watch::channel(Progress::default());
        let thread = std::thread::Builder::new()
            .name("havip-flush".into())
            .spawn({
                let wanted = wanted.clone();
                move || flush_when_asked(&db, &wanted, &report)
            })?;
        Ok(Flusher {
            wanted,
            progress,
            thread: Some(thread),
        })
    }

    /// Returns once every write made before this call is on disk.
    pub(super) async fn durable(&self) -> Result<(), ApiError> {
        let mine = {
            let (wanted, wake) = &*self.wanted;
            let mut wanted = lock(wanted);
            wanted.requested += 1;
            if wanted.asleep {
                wanted.asleep = false;
                wake.notify_one();
            }
            wanted.requested
        };
        let mut progress = self.progress.clone();
        let reached = *progress
            .wait_for(|p| p.attempted >= mine)
            .await
            .map_err(|_| ApiError::internal("the database is closing"))?;
        if reached.durable >= mine {
            Ok(())
        } else {
            Err(db_err("the write could not be flushed to disk"))
        }
    }
}

fn flush_when_asked(
    db: &sled::Db,
    wanted: &(Mutex<Wanted>, Condvar),
    report: &watch::Sender<Progress>,
) {
    let mut progress = Progress::default();
    loop {
        let covered = {
            let (wanted, wake) = wanted;
            let mut wanted = lock(wanted);
            while wanted.requested == progress.attempted && !wanted.stop {
                wanted.asleep = true;
                wanted = wake.wait(wanted).unwrap_or_else(|e| e.into_inner());
            }
            if wanted.requested == progress.attempted {
                return; // stopping, and nothing is waiting
            }
            wanted.requested
        };
        let flushed = {
            let _one_at_a_time = lock(&FLUSHING);
            db.flush()
        };
        progress.attempted = covered;
        match flushed {
            Ok(_) => progress.durable = covered,
            Err(e) => tracing::error!("flushing the database failed: {e}"),
        }
        report.send_replace(progress);
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        let (wanted, wake) = &*self.wanted;
        lock(wanted).stop = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
