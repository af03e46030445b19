//! The console's two languages: every word it shows is a message of the catalogues in
//! `app/i18n/` (English and Simplified Chinese side by side), named by a constant
//! (`m::AREA::KEY`) the compiler checks. English is built into the browser's module; the
//! Chinese table comes with the page when the page is in Chinese, or is fetched when the
//! language is chosen (`api::language`). Errors carry their message's code and arguments
//! (`Text`), so each reader gets them in their own language.

mod accept;
mod text;

pub use accept::from_accept_language;
pub use text::{fill, say, Coded, Text};

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

use serde::{Deserialize, Serialize};
#[cfg(not(feature = "ssr"))]
use std::sync::OnceLock;

/// A language the console speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// Its BCP 47 tag, as in `<html lang>`, the cookie and the user's setting.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// Its name in itself, as the language menu shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    /// The language of a tag this console gave (`tag`); any other is none.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.tag() == tag)
    }
}

/// One message of the catalogues: its place in the tables, and its English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Msg(pub(crate) u16, pub(crate) &'static str);

impl Msg {
    /// Its text in `lang`; English while the Chinese table has not arrived in the browser
    /// (never its key).
    pub fn text(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.1,
            Lang::ZhCn => table(Lang::ZhCn).map_or(self.1, |t| t[self.0 as usize]),
        }
    }

    /// The code it is sent or stored by (`errors….`, `causes….`), if it is one of those.
    pub fn code(self) -> Option<&'static str> {
        CODES.iter().find(|(_, i)| *i == self.0).map(|(c, _)| *c)
    }

    /// The message at `index` of the tables (the server's).
    #[cfg(feature = "ssr")]
    pub fn at(index: usize) -> Msg {
        Msg(index as u16, EN[index])
    }
}

/// The text in `lang` of the message whose code is `code` (an error's, a cause's), where this
/// side has that language's table: the server has both; the browser has the Chinese one once
/// it came, and says such a message in English by the words it came with.
pub fn coded_text(code: &str, lang: Lang) -> Option<&'static str> {
    let index = CODES.iter().find(|(c, _)| *c == code)?.1;
    table(lang).map(|t| t[index as usize])
}

/// A language's table of every message, by the messages' order: the server's, built in.
#[cfg(feature = "ssr")]
pub fn table(lang: Lang) -> Option<&'static [&'static str]> {
    match lang {
        Lang::En => Some(&EN),
        Lang::ZhCn => Some(&ZH_CN),
    }
}

/// A language's table of every message: in the browser, English is built in and the other
/// once `install_table` has it.
#[cfg(not(feature = "ssr"))]
pub fn table(lang: Lang) -> Option<&'static [&'static str]> {
    match lang {
        // English rides with each message (`Msg`): the browser has no English table
        Lang::En => None,
        Lang::ZhCn => ZH_CN_LOADED.get().copied(),
    }
}

#[cfg(not(feature = "ssr"))]
static ZH_CN_LOADED: OnceLock<&'static [&'static str]> = OnceLock::new();

/// Takes the Chinese table the server sent (with the page or when asked); one of another build
/// (a different count) is refused, and English stays.
pub fn install_table(lang: Lang, texts: Vec<String>) -> bool {
    #[cfg(not(feature = "ssr"))]
    if lang == Lang::ZhCn && texts.len() == COUNT {
        let leaked: Vec<&'static str> = texts
            .into_iter()
            .map(|t| &*Box::leak(t.into_boxed_str()))
            .collect();
        let _ = ZH_CN_LOADED.set(Box::leak(leaked.into_boxed_slice()));
        return true;
    }
    let _ = texts;
    lang == Lang::En || table(lang).is_some()
}

#[cfg(test)]
mod tests;
