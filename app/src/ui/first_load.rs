//! A view's first load: a signal in the browser, the value itself on the server.
//!
//! On the server, the data functions read the embedded store and are ready when first polled,
//! so the value is read right there and the page is rendered in one pass. (With leptos'
//! resources and `Suspense` boundaries a page settled through tasks and wake-ups on the
//! runtime's worker threads, and under load one of them was now and then lost: about once in
//! twenty runs of the server tests, a list page loaded during the agent flood stopped after its
//! shell and never ended, every thread idle.)
//!
//! The value is written into the page under a hydration id, as leptos writes a resource's. The
//! browser takes the same id and reads it back while it hydrates, so the page it hydrates is the
//! one the server rendered, with nothing to wait for; a page opened by navigation, or a new key
//! (the list's filters), loads over the network. A plain signal instead of a resource and a
//! `Transition`: their machinery was 18 KB of the first page's gzipped wasm.

use crate::domain::error::ApiError;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// The first load of a view's data (see the module).
pub struct FirstLoad<T: Send + Sync + 'static> {
    #[cfg(not(feature = "ssr"))]
    value: RwSignal<Option<Result<T, ApiError>>>,
    #[cfg(feature = "ssr")]
    value: StoredValue<Result<T, ApiError>>,
}

impl<T: Send + Sync + 'static> Clone for FirstLoad<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for FirstLoad<T> {}

impl<T> FirstLoad<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Loads `fetch(key())`; in the browser again whenever the key changes.
    pub fn new<K, Fut>(
        key: impl Fn() -> K + Send + Sync + 'static,
        fetch: impl Fn(K) -> Fut + Send + Sync + 'static,
    ) -> Self
    where
        K: PartialEq + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        #[cfg(not(feature = "ssr"))]
        {
            use crate::ui::codec::Json;
            use leptos::server::codee::Decoder;
            // the server's value, under the id it took (read only while the page hydrates)
            let from_page = Owner::current_shared_context()
                .and_then(|context| context.read_data(&context.next_id()))
                .and_then(|text| <Json as Decoder<Result<T, ApiError>>>::decode(&text).ok());
            let in_page = from_page.is_some();
            let value = RwSignal::new(from_page);
            // the latest load asked for: an older answer never replaces a newer one
            let asked = StoredValue::new(0u64);
            Effect::new(move |before: Option<K>| {
                let now = key();
                let wanted = match &before {
                    None => !in_page,
                    Some(before) => *before != now,
                };
                if wanted {
                    let number = asked.get_value() + 1;
                    asked.set_value(number);
                    let load = fetch(now.clone());
                    leptos::task::spawn_local(async move {
                        let result = load.await;
                        if asked.try_get_value() == Some(number) {
                            value.set(Some(result));
                        }
                    });
                }
                now
            });
            FirstLoad { value }
        }
        #[cfg(feature = "ssr")]
        {
            use crate::ui::codec::Json;
            use futures::FutureExt;
            use leptos::server::codee::Encoder;
            // the id the browser reads the value back under
            let context = Owner::current_shared_context();
            let id = context.as_ref().map(|c| c.next_id());
            let value = fetch(key()).now_or_never().unwrap_or_else(|| {
                // ours: every page's data function reads the store without waiting
                let problem = "a page's data was not ready when read on the server";
                tracing::error!("{problem}");
                Err(ApiError::internal(problem))
            });
            if let (Some(context), Some(id)) = (context, id) {
                if context.get_is_hydrating() {
                    if let Ok(text) = <Json as Encoder<Result<T, ApiError>>>::encode(&value) {
                        context.write_async(id, Box::pin(std::future::ready(text)));
                    }
                }
            }
            FirstLoad {
                value: StoredValue::new(value),
            }
        }
    }

    /// The loaded value; `None` while the browser loads it (tracked there).
    pub fn get(&self) -> Option<Result<T, ApiError>> {
        #[cfg(not(feature = "ssr"))]
        {
            self.value.get()
        }
        #[cfg(feature = "ssr")]
        {
            self.value.try_get_value()
        }
    }
}
