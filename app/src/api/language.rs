//! The language a person reads the console in: chosen on any page (the login page too), kept
//! in a cookie and, for a logged-in user, in their account (their next login brings it back,
//! in any browser). Answers the chosen language's table of messages, which the browser does
//! not carry until it is chosen.

use crate::domain::error::ApiError;
use crate::i18n::Lang;
use leptos::prelude::*;

/// The cookie that keeps the language of a browser.
pub const LANGUAGE_COOKIE: &str = "havip_lang";

/// The server function's path: anyone may call it (the login page's menu), the access layer
/// lets it through without a session and names the caller when there is one.
pub const CHOOSE_LANGUAGE_PATH: &str = "/api/choose_language";

#[server(endpoint = "choose_language")]
pub async fn choose_language(lang: String) -> Result<Vec<String>, ApiError> {
    let Some(chosen) = Lang::from_tag(&lang) else {
        return Err(ApiError::invalid(
            "lang",
            crate::i18n::Text::new(crate::i18n::m::errors::NO_SUCH_LANGUAGE)
                .arg("choices", "en, zh-CN"),
        ));
    };
    // anyone may choose (the login page's menu): a logged-in user, whatever their role, keeps
    // the choice in their account
    let lowest = crate::domain::auth::Role::Viewer;
    if let Ok((me, store)) = super::caller_and_store(lowest) {
        store.set_language(&me.user, chosen).await?;
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(value) = axum::http::HeaderValue::from_str(&language_cookie(chosen)) {
            response.append_header(axum::http::header::SET_COOKIE, value);
        }
    }
    Ok(match chosen {
        Lang::En => Vec::new(),
        other => (crate::i18n::table(other).unwrap_or_default().iter())
            .map(|t| t.to_string())
            .collect(),
    })
}

/// The `Set-Cookie` value that keeps `lang` for a year (not a secret: readable by the page).
pub fn language_cookie(lang: Lang) -> String {
    format!(
        "{LANGUAGE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.tag()
    )
}
