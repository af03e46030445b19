//! A view's first load: a resource in the browser, the value itself on the server.
//!
//! In the browser, a key change (navigation) loads again, over the network, so the load is a
//! leptos resource, which the page's `Suspend` awaits.
//!
//! On the server, the data functions read the embedded store and are ready when first polled,
//! so the value is read right there and the page is rendered in one pass. With leptos'
//! resources and `Suspense` boundaries, a page settled through tasks and wake-ups on the
//! runtime's worker threads, and under load one of them was now and then lost: about once in
//! twenty runs of the server tests, a list page loaded during the agent flood stopped after its
//! shell and never ended, every thread idle. Once it was the top bar's `Suspense` that never
//! resolved; with the boundaries gone from the server (`Loading`), the list's `Suspend` waited
//! for its resource forever. Read in place, nothing is left to wait for.
//!
//! The browser's resource still finds its first value in the page: the value is written under
//! the hydration id the resource takes, in the same encoding, as leptos writes a resource's.

use crate::domain::error::ApiError;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::future::{Future, IntoFuture};

/// The first load of a view's data (see the module).
pub struct FirstLoad<T: Send + Sync + 'static> {
    #[cfg(not(feature = "ssr"))]
    resource: crate::ui::codec::JsonResource<Result<T, ApiError>>,
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
            FirstLoad {
                resource: crate::ui::codec::JsonResource::new_with_options(key, fetch, false),
            }
        }
        #[cfg(feature = "ssr")]
        {
            use crate::ui::codec::Json;
            use futures::FutureExt;
            use leptos::server::codee::Encoder;
            // the id the browser's resource takes
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
            self.resource.get()
        }
        #[cfg(feature = "ssr")]
        {
            self.value.try_get_value()
        }
    }
}

impl<T> IntoFuture for FirstLoad<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    type Output = Result<T, ApiError>;
    #[cfg(not(feature = "ssr"))]
    type IntoFuture =
        <crate::ui::codec::JsonResource<Result<T, ApiError>> as IntoFuture>::IntoFuture;
    #[cfg(feature = "ssr")]
    type IntoFuture = std::future::Ready<Result<T, ApiError>>;

    fn into_future(self) -> Self::IntoFuture {
        #[cfg(not(feature = "ssr"))]
        {
            self.resource.into_future()
        }
        #[cfg(feature = "ssr")]
        {
            std::future::ready(self.get().unwrap_or_else(|| {
                Err(ApiError::internal(
                    "the page was closed before it was shown",
                ))
            }))
        }
    }
}
