//! A message with its arguments: what an error carries, so each reader gets it in their own
//! language (its code and arguments travel; the English stays the API's `message`).

use super::{Lang, Msg};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A message and the values of its `{placeholders}`: plain values (addresses, names, numbers)
/// and words, themselves messages, said in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub msg: Msg,
    pub args: Vec<(&'static str, String)>,
    pub words: Vec<(&'static str, Msg)>,
}

impl Text {
    pub fn new(msg: Msg) -> Self {
        Text {
            msg,
            args: Vec::new(),
            words: Vec::new(),
        }
    }

    /// The value of `{name}`.
    pub fn arg(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// A word for `{name}`, in the reader's language.
    pub fn word(mut self, name: &'static str, word: Msg) -> Self {
        self.words.push((name, word));
        self
    }

    /// The text in `lang`.
    pub fn in_lang(&self, lang: Lang) -> String {
        let words: Vec<(&str, String)> = (self.words.iter())
            .map(|(n, w)| (*n, w.text(lang).to_string()))
            .collect();
        let args: Vec<(&str, &str)> = (self.args.iter().map(|(n, v)| (*n, v.as_str())))
            .chain(words.iter().map(|(n, v)| (*n, v.as_str())))
            .collect();
        fill(self.msg.text(lang), &args)
    }

    /// Its arguments as an error carries them: plain values, and words by their code. Put in
    /// one by one: collecting into a `BTreeMap` sorts, and the sort is 5 KB of code in the browser.
    pub fn wire_args(&self) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let (mut args, mut words) = (BTreeMap::new(), BTreeMap::new());
        for (name, value) in &self.args {
            args.insert(name.to_string(), value.clone());
        }
        for (name, word) in &self.words {
            if let Some(code) = word.code() {
                words.insert(name.to_string(), code.to_string());
            }
        }
        (args, words)
    }
}

/// A message kept or sent by its code, with its arguments (values, and words by their code), to
/// be said later in the reader's language: a history event's cause, an alert delivery's
/// outcome. Its English is kept beside it, as written then, for programs and for a side without
/// the reader's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coded {
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub words: BTreeMap<String, String>,
}

impl Coded {
    /// `text` by its code; none for a message that has no code (not sent or stored by code).
    pub fn of(text: &Text) -> Option<Coded> {
        let code = text.msg.code()?.to_string();
        let (args, words) = text.wire_args();
        Some(Coded { code, args, words })
    }

    /// What it says in `lang`, or `english` (its words as written) where this side lacks the
    /// table of `lang`, or in English.
    pub fn in_lang(&self, lang: Lang, english: &str) -> String {
        say(&self.code, &self.args, &self.words, lang).unwrap_or_else(|| english.to_string())
    }
}

/// The message of `code` in `lang`, its placeholders filled with `args` and with `words` (codes
/// of words, said in `lang`); none in English (the sender's words are the English), or where
/// this side lacks the table of `lang` or the code.
pub fn say(
    code: &str,
    args: &BTreeMap<String, String>,
    words: &BTreeMap<String, String>,
    lang: Lang,
) -> Option<String> {
    if lang == Lang::En {
        return None;
    }
    let template = super::coded_text(code, lang)?;
    let words =
        (words.iter()).filter_map(|(n, code)| Some((n.as_str(), super::coded_text(code, lang)?)));
    let args: Vec<(&str, &str)> = (args.iter())
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .chain(words)
        .collect();
    Some(fill(template, &args))
}

impl From<Msg> for Text {
    fn from(msg: Msg) -> Self {
        Text::new(msg)
    }
}

/// In English: the API's message, the logs' words.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.in_lang(Lang::En))
    }
}

/// `template` with each `{name}` replaced by its value (an unknown one stays as written).
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Gives an error type that has a `text()` its `Display` (in English) and makes it what an
/// `ApiError` says (its code and arguments, for the reader's language).
#[macro_export]
macro_rules! says_by_text {
    ($error:ty) => {
        impl std::fmt::Display for $error {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.text(), f)
            }
        }

        impl $crate::domain::error::Says for $error {
            fn says(self) -> (String, Option<$crate::i18n::Text>) {
                $crate::domain::error::Says::says(self.text())
            }
        }
    };
}
