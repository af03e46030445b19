//! The page's live connection: one websocket per open console. Every pushed change bumps
//! `tick`, which the pages' resources depend on, so they reload; `connected` drives the
//! indicator in the top bar. After a drop it reconnects and resyncs (the server's first
//! message, `Hello`, bumps `tick` too).

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Live {
    pub connected: RwSignal<bool>,
    pub tick: RwSignal<u64>,
}

pub fn provide_live() {
    let live = Live {
        connected: RwSignal::new(false),
        tick: RwSignal::new(0),
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(run(live));
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

#[cfg(feature = "hydrate")]
async fn run(live: Live) {
    use crate::api::live::{live_events, LiveEvent};
    use futures::StreamExt;
    let mut backoff_ms = 250u32;
    loop {
        // the sender is kept alive for as long as the connection: dropping it closes the socket
        let (_keep, rx) = futures::channel::mpsc::channel::<Result<String, ServerFnError>>(1);
        if let Ok(mut events) = live_events(rx.into()).await {
            while let Some(Ok(event)) = events.next().await {
                if event == LiveEvent::Hello {
                    live.connected.set(true);
                    backoff_ms = 250;
                }
                live.tick.update(|t| *t += 1);
            }
        }
        live.connected.set(false);
        gloo_sleep(backoff_ms).await;
        backoff_ms = (backoff_ms * 2).min(5_000);
    }
}

#[cfg(feature = "hydrate")]
async fn gloo_sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
