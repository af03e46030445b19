mod apply;
mod bind_eip;
mod confirm;
mod rename;

pub use apply::ApplyDialog;
pub use bind_eip::BindEipDialog;
pub use confirm::ConfirmDeleteDialog;
pub use rename::RenameDialog;

use crate::i18n::Msg;
use crate::ui::lang::t;
use leptos::prelude::*;

/// A message whose `{placeholder}` is shown in bold (`<strong>`): the sentence stays one
/// message, and the bold part stands where each language puts it.
pub fn with_bold(
    msg: Msg,
    placeholder: &'static str,
    bold: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        let text = t(msg);
        let mark = format!("{{{placeholder}}}");
        let (before, after) = text.split_once(mark.as_str()).unwrap_or((text, ""));
        let part = |s: &'static str| (!s.is_empty()).then_some(s);
        view! { {part(before)}<strong>{bold()}</strong>{part(after)} }
    }
}
