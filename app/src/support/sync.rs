use std::sync::{Mutex, MutexGuard};

/// Locks a mutex even if a thread panicked while holding it: the maps behind these locks are
/// updated in single steps, so they are never left half-changed, and one panic must not turn
/// every later request into another.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::lock;
    use std::sync::Mutex;

    #[test]
    fn a_panic_while_holding_a_lock_does_not_poison_later_requests() {
        let shared = std::sync::Arc::new(Mutex::new(vec![1]));
        let clone = shared.clone();
        let _ = std::thread::spawn(move || {
            let _held = clone.lock().unwrap();
            panic!("a request handler panics while holding the lock");
        })
        .join();
        assert!(shared.is_poisoned());
        lock(&shared).push(2);
        assert_eq!(*lock(&shared), vec![1, 2]);
    }
}
