//! One connection of the live channel (in the browser).

use crate::api::live::LiveEvent;
use leptos::prelude::*;

/// One connection of the live channel: a browser websocket whose text frames become
/// `events`; the stream ends when the socket closes, fails, or sends anything that is not an
/// event. Dropping it closes the socket.
pub(super) struct Channel {
    socket: web_sys::WebSocket,
    pub(super) events: futures::channel::mpsc::UnboundedReceiver<LiveEvent>,
    _on_message: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_end: wasm_bindgen::closure::Closure<dyn FnMut()>,
}

impl Channel {
    pub(super) fn open() -> Option<Channel> {
        use crate::api::live::LIVE_PATH;
        use wasm_bindgen::{closure::Closure, JsCast};
        let location = window().location();
        let scheme = match location.protocol().ok()?.as_str() {
            "https:" => "wss",
            _ => "ws",
        };
        let socket =
            web_sys::WebSocket::new(&format!("{scheme}://{}{LIVE_PATH}", location.host().ok()?))
                .ok()?;
        let (tx, events) = futures::channel::mpsc::unbounded();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new({
            let tx = tx.clone();
            move |message: web_sys::MessageEvent| match message
                .data()
                .as_string()
                .as_deref()
                .and_then(LiveEvent::from_frame)
            {
                Some(event) => drop(tx.unbounded_send(event)),
                None => tx.close_channel(),
            }
        });
        let on_end = Closure::<dyn FnMut()>::new(move || tx.close_channel());
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_end.as_ref().unchecked_ref()));
        socket.set_onerror(Some(on_end.as_ref().unchecked_ref()));
        Some(Channel {
            socket,
            events,
            _on_message: on_message,
            _on_end: on_end,
        })
    }
}

impl Channel {
    pub(super) fn send(&self, text: &str) {
        let _ = self.socket.send_with_str(text);
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        // nothing may call the handlers once they are dropped with this
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let _ = self.socket.close();
    }
}
