//! The page's language: a signal every word of the pages reads (`tr!`, `t`, `tf`), so choosing
//! another language in the menu changes every word where it stands and keeps what the page
//! holds (an open dialog, what was typed). The server renders the page in the language of the
//! browser's cookie (else its `Accept-Language`) and sends the table of that language with it,
//! so the page hydrates in the same words: no flash of English.

use crate::domain::error::ApiError;
use crate::i18n::{Lang, Msg, Text};
use leptos::prelude::*;

/// The page's language.
#[derive(Clone, Copy)]
pub struct Language(pub RwSignal<Lang>);

/// The `id` of the script element that carries the page's table of messages.
pub const TABLE_ELEMENT: &str = "havip-messages";

#[cfg(feature = "hydrate")]
thread_local! {
    /// The page's language, for code that runs outside the pages' reactive owner (event
    /// handlers, tasks).
    static PAGE_LANGUAGE: std::cell::Cell<Option<RwSignal<Lang>>> = const { std::cell::Cell::new(None) };
}

/// Provides the page's language: on the server the request's (`request_lang`, which the shell
/// provided), in the browser the one the server rendered the page in (`<html lang>`).
pub fn provide_language() {
    #[cfg(feature = "ssr")]
    let initial = use_context::<Lang>().unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let initial = page_lang();
    let signal = RwSignal::new(initial);
    provide_context(Language(signal));
    #[cfg(feature = "hydrate")]
    {
        PAGE_LANGUAGE.with(|l| l.set(Some(signal)));
        // the menu (`language_menu`) is not hydrated: its changes are heard here
        let menu = window_event_listener(leptos::ev::change, move |ev| {
            let target = ev
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlSelectElement>(t).ok());
            if let Some(select) = target.filter(|s| s.id() == "language") {
                if let Some(lang) = Lang::from_tag(&select.value()) {
                    choose(lang, signal);
                }
            }
        });
        std::mem::forget(menu);
    }
}

/// The page's language (tracked: a view that reads it changes with it).
pub fn lang() -> Lang {
    let signal = use_context::<Language>().map(|l| l.0);
    #[cfg(feature = "hydrate")]
    let signal = signal.or_else(|| PAGE_LANGUAGE.with(|l| l.get()));
    signal.map(|s| s.get()).unwrap_or_default()
}

/// A message in the page's language.
pub fn t(msg: Msg) -> &'static str {
    msg.text(lang())
}

/// A message with its arguments in the page's language.
pub fn tf(text: Text) -> String {
    text.in_lang(lang())
}

/// An error in the page's language.
pub fn te(error: &ApiError) -> String {
    error.in_lang(lang())
}

/// A message that follows the page's language, for a view: `{tr!(havips::APPLY)}`, or an
/// attribute: `title=tr!(havips::APPLY)`.
#[macro_export]
macro_rules! tr {
    ($area:ident :: $key:ident) => {
        $crate::ui::lang::follow($crate::i18n::m::$area::$key)
    };
}

/// What `tr!` gives: one function of the language for every message, so every text of every
/// page is the same code (a closure per place would be code per place, in the browser's
/// module).
pub fn follow(msg: Msg) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || t(msg)
}

/// Piece `i` of `msg` in the page's language, cut at its placeholders `names` (in this order):
/// the words around the elements the page puts in their places.
pub fn piece(msg: Msg, names: &[&str], i: usize) -> &'static str {
    let mark = |name: &str| format!("{{{name}}}");
    let mut rest = t(msg);
    for &name in &names[..i.min(names.len())] {
        rest = rest
            .split_once(mark(name).as_str())
            .map_or("", |(_, after)| after);
    }
    match names.get(i) {
        Some(&name) => rest
            .split_once(mark(name).as_str())
            .map_or(rest, |(before, _)| before),
        None => rest,
    }
}

/// A message as a signal, for a component's text property.
pub fn signal_of(msg: Msg) -> Signal<String> {
    Signal::derive(move || t(msg).to_string())
}

/// The language the page was rendered in, from `<html lang>`; and takes the table of messages
/// that came with it.
#[cfg(not(feature = "ssr"))]
fn page_lang() -> Lang {
    #[cfg(feature = "hydrate")]
    {
        let document = document();
        let lang = (document.document_element())
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|tag| Lang::from_tag(&tag))
            .unwrap_or_default();
        if lang != Lang::En {
            let table = (document.get_element_by_id(TABLE_ELEMENT))
                .and_then(|e| e.text_content())
                .and_then(|json| serde_json::from_slice::<Vec<String>>(json.as_bytes()).ok());
            if !table.is_some_and(|t| crate::i18n::install_table(lang, t)) {
                return Lang::En;
            }
        }
        lang
    }
    #[cfg(not(feature = "hydrate"))]
    Lang::En
}

/// Switches the page to `lang`: fetches its table (the first time), remembers the choice
/// (cookie, and the user's account), then every word follows. A plain `fetch`, not the server
/// function's client: that machinery, on every page, weighed 22 KB gzipped.
pub fn choose(lang: Lang, signal: RwSignal<Lang>) {
    #[cfg(feature = "hydrate")]
    wasm_bindgen_futures::spawn_local(async move {
        if fetch_table(lang)
            .await
            .is_some_and(|table| crate::i18n::install_table(lang, table))
        {
            signal.set(lang);
            if let Some(html) = document().document_element() {
                let _ = html.set_attribute("lang", lang.tag());
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (lang, signal);
}

/// `POST /api/choose_language` (the server function `api::language::choose_language`): the
/// table of `lang`'s messages.
#[cfg(feature = "hydrate")]
async fn fetch_table(lang: Lang) -> Option<Vec<String>> {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    let headers = web_sys::Headers::new().ok()?;
    headers
        .set("Content-Type", "application/x-www-form-urlencoded")
        .ok()?;
    headers.set("Accept", "application/json").ok()?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&format!("lang={}", lang.tag())));
    let path = crate::api::language::CHOOSE_LANGUAGE_PATH;
    let answer = JsFuture::from(window().fetch_with_str_and_init(path, &init)).await;
    let answer: web_sys::Response = answer.ok()?.dyn_into().ok()?;
    if !answer.ok() {
        return None;
    }
    let json = JsFuture::from(answer.json().ok()?).await.ok()?;
    let table: js_sys::Array = json.dyn_into().ok()?;
    Some(table.iter().filter_map(|t| t.as_string()).collect())
}

/// The language menu, in the top bar of every page (the login page too). Each language is
/// named in itself. Plain HTML the page does not hydrate (a `<select>` of the view machinery,
/// in the top bar of every page, weighed 20 KB gzipped): `provide_language` listens to its
/// changes.
pub fn language_menu() -> impl IntoView {
    let current = use_context::<Language>().map(|l| l.0.get_untracked());
    let options: String = Lang::ALL
        .into_iter()
        .map(|l| {
            let selected = if Some(l) == current { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                l.tag(),
                l.own_name()
            )
        })
        .collect();
    view! {
        <select id="language" class="language" aria-label="Language / 语言" inner_html=options></select>
    }
}
