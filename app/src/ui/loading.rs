//! Where a view waits for its first load: the fallback until it is there (in the browser, while
//! a page opened by navigation loads), then the view of its value. The server has the value
//! before it renders, and the browser reads it back from the page as it hydrates (`first_load`),
//! so both render the same view in one pass, with no `Suspense` boundary on either side.

use crate::domain::error::ApiError;
use crate::tr;
use crate::ui::first_load::FirstLoad;
use crate::ui::lang::te;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// `view` of the first load's value once it is there, `fallback` until then; built again when
/// a new load (a new key) arrives.
pub fn loaded<T, F, V>(
    first: FirstLoad<T>,
    fallback: impl Fn() -> F + Send + Sync + 'static,
    view: impl Fn(Result<T, ApiError>) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: IntoView + 'static,
    V: IntoView + 'static,
{
    move || match first.get() {
        Some(result) => view(result).into_any(),
        None => fallback().into_any(),
    }
}

/// A page's body: "Loading…" until its first load is there, then `view` of its data, or the
/// error the load gave.
pub fn page_view<T, V>(
    first: FirstLoad<T>,
    view: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    V: IntoView + 'static,
{
    loaded(
        first,
        || view! { <p class="loading">{tr!(status::LOADING)}</p> },
        move |result| match result {
            Ok(data) => view(data).into_any(),
            Err(e) => view! { <p class="error" role="alert">{move || te(&e)}</p> }.into_any(),
        },
    )
}
