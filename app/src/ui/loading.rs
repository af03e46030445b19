//! Where a view waits for its data: leptos' `Transition` in the browser, nothing on the server.
//!
//! In the browser, data comes over the network: the fallback shows until the first load, and
//! later loads keep the previous content until the new one is ready.
//!
//! On the server, a view's data is read in place (`FirstLoad`) and is there before the view is
//! rendered, so the children are rendered in place. Leptos' `Suspense` would wait for an effect
//! run as a task on another worker thread; under load that wake-up was now and then lost, and
//! the response stopped after the shell and never ended (see `first_load`).
//!
//! The browser's boundary finds the same page either way: after the streamed templates were
//! swapped in, the DOM was the children alone, which is what is rendered here. The one thing to
//! keep equal is the sequence of hydration ids: the boundary takes one, so this does too, and
//! what is created after it keeps its id on both sides.

use leptos::children::ViewFnOnce;
use leptos::prelude::*;

/// A `Transition` in the browser; the children in place on the server (see the module).
#[component]
pub fn Loading(
    /// shown in the browser until the first load is ready
    #[prop(optional, into)]
    fallback: ViewFnOnce,
    children: Children,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        // the id the browser's boundary takes (see the module)
        if let Some(context) = Owner::current_shared_context() {
            context.next_id();
        }
        drop(fallback);
        children()
    }
    #[cfg(not(feature = "ssr"))]
    {
        view! { <Transition fallback>{children()}</Transition> }
    }
}
