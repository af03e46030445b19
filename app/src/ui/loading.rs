//! Where a view waits for its data: leptos' `Transition` in the browser, nothing on the server.
//!
//! In the browser, data comes over the network: the fallback shows until the first load, and
//! later loads keep the previous content until the new one is ready.
//!
//! On the server, every page's data is read from the embedded store in one go, so it is ready
//! before the view is rendered and there is nothing to wait for. The children are rendered in
//! place. Leptos' `Suspense` would instead wait for an effect run on another worker thread, and
//! under load that wake-up was sometimes lost: the response stopped after the shell and never
//! ended (a flood test caught it about once in twenty runs; all threads idle, the top bar's
//! boundary never sent). Rendered in place, the page is one chunk with nothing left to wait for.
//!
//! The browser's boundary finds the same page either way: after the server's streamed templates
//! were swapped in, the DOM is the children alone, which is what is rendered here. The one thing
//! to keep equal is the sequence of hydration ids: the boundary takes one, so this does too, and
//! the resources created after it keep their ids on both sides.

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
