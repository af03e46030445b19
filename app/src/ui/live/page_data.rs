//! A page's data: its first load, kept current with the live channel.

use super::use_live;
use crate::api::live::Interest;
use crate::domain::error::ApiError;
use crate::domain::list_changes::{Applied, RowChange};
use crate::ui::first_load::FirstLoad;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// A page's data for the key (region, query, id…) in the URL.
pub struct PageData<K: Send + Sync + 'static, T: Send + Sync + 'static> {
    /// the load for the current key: server-rendered; the page's `Suspend` awaits it, so only
    /// a new key (navigation) rebuilds the view
    pub first: FirstLoad<T>,
    /// the latest data for the current key: `first`, or what a live change brought since
    pub current: Memo<Option<T>>,
    _key: std::marker::PhantomData<K>,
}

impl<K: Send + Sync + 'static, T: Send + Sync + 'static> Clone for PageData<K, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: Send + Sync + 'static, T: Send + Sync + 'static> Copy for PageData<K, T> {}

impl<K: Send + Sync + 'static, T: Clone + PartialEq + Send + Sync + 'static> PageData<K, T> {
    /// Reads a part of the latest data (the default while there is none).
    pub fn with<R: Default>(&self, part: impl FnOnce(&T) -> R) -> R {
        self.current
            .with(|d| d.as_ref().map(part).unwrap_or_default())
    }
}

/// What a page's data follows on the live channel: the changes `interest` concerns (given
/// the key, and the data once loaded); `apply` takes an HAVIP's change in place where it can,
/// else (and for every other change) the data is loaded again.
pub struct Watch<K, T> {
    pub interest: fn(&K, Option<&T>) -> Interest,
    pub apply: Option<fn(&mut T, &K, &RowChange) -> Applied>,
}

impl<K, T> Watch<K, T> {
    /// Loads the data again for every change `interest` concerns.
    pub fn reload(interest: fn(&K, Option<&T>) -> Interest) -> Watch<K, T> {
        Watch {
            interest,
            apply: None,
        }
    }
}

/// Loads a page's data for `key` and keeps it current with the live channel.
pub fn page_data<K, T, Fut>(
    key: impl Fn() -> K + Clone + Send + Sync + 'static,
    fetch: impl Fn(K) -> Fut + Clone + Send + Sync + 'static,
    watch: Watch<K, T>,
) -> PageData<K, T>
where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let live = use_live();
    let first = FirstLoad::new(key.clone(), fetch.clone());
    // (key, tick it was fetched for, data) of the latest live refetch or applied change
    let fresh = RwSignal::new(None::<(K, u64, T)>);
    // this page's own reloads (a change it cannot apply), beside every page's `live.tick`
    let own = RwSignal::new(0u64);
    // refetches under way: a change arriving meanwhile asks for one more, not applied to data
    // the refetch will replace
    let loading = StoredValue::new(0u32);
    Effect::new({
        let key = key.clone();
        move |seen: Option<u64>| {
            let tick = live.tick.get() + own.get();
            if seen.is_some_and(|s| s != tick) {
                let (key, fetch) = (untrack(&key), fetch.clone());
                loading.update_value(|n| *n += 1);
                leptos::task::spawn_local(async move {
                    let data = fetch(key.clone()).await;
                    loading.update_value(|n| *n -= 1);
                    if let Ok(data) = data {
                        // an answer to an older refetch never replaces a newer one
                        if fresh.with_untracked(|f| f.as_ref().is_none_or(|(_, t, _)| *t < tick)) {
                            fresh.set(Some((key, tick, data)));
                        }
                    }
                });
            }
            tick
        }
    });
    // a new key starts from its own first load (going back to an older key must not show what
    // a refetch brought for it long ago)
    Effect::new({
        let key = key.clone();
        move |before: Option<K>| {
            let now = key();
            if before.is_some_and(|b| b != now) {
                fresh.set(None);
            }
            now
        }
    });
    let current = Memo::new({
        let key = key.clone();
        move |_| {
            let key = key();
            let first = first.get().and_then(Result::ok);
            match fresh.get() {
                Some((k, _, data)) if k == key => Some(data),
                _ => first,
            }
        }
    });
    follow(key, current, fresh, own, loading, watch);
    PageData {
        first,
        current,
        _key: std::marker::PhantomData,
    }
}

/// Hooks the page's data to the live channel (in the browser, for as long as the page shows).
#[allow(unused_variables)]
fn follow<K, T>(
    key: impl Fn() -> K + Clone + Send + Sync + 'static,
    current: Memo<Option<T>>,
    fresh: RwSignal<Option<(K, u64, T)>>,
    own: RwSignal<u64>,
    loading: StoredValue<u32>,
    watch: Watch<K, T>,
) where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + PartialEq + Send + Sync + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        let Watch { interest, apply } = watch;
        let interest_now = {
            let key = key.clone();
            Memo::new(move |_| current.with(|data| interest(&key(), data.as_ref())))
        };
        let on_change = move |_: &crate::api::live::About, row: Option<&RowChange>| {
            let reload = || own.update(|n| *n += 1);
            let (Some(apply), Some(row)) = (apply, row) else {
                return reload();
            };
            if loading.get_value() > 0 {
                return reload();
            }
            let key = untrack(&key);
            let Some(mut data) = current.get_untracked() else {
                return reload();
            };
            match apply(&mut data, &key, row) {
                Applied::Done => {
                    let tick = fresh.with_untracked(|f| f.as_ref().map_or(0, |(_, t, _)| *t));
                    fresh.set(Some((key, tick, data)));
                }
                Applied::Reload => reload(),
            }
        };
        use super::hooks;
        let id = hooks::add(interest_now.get_untracked(), std::rc::Rc::new(on_change));
        Effect::new(move |_| hooks::set_interest(id, interest_now.get()));
        on_cleanup(move || hooks::remove(id));
    }
}
