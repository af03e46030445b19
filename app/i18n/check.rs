//! The rules every catalogue of `app/i18n/` keeps, checked by the build (`build.rs`, so a
//! missing translation fails it) and by a test: each message has its English and its Chinese,
//! neither empty, with the same `{placeholders}`; each key is a name Rust code can use.

use std::collections::BTreeMap;

/// The languages a message must have, in the order the tables are built.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// One catalogue: its messages by key, each with its text by language.
pub type Catalogue = BTreeMap<String, BTreeMap<String, String>>;

/// The `{name}` placeholders of a text, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        found.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    found
}

/// What is wrong with catalogue `area`, one line per fault.
pub fn faults(area: &str, catalogue: &Catalogue) -> Vec<String> {
    let mut faults = Vec::new();
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !is_name(area) {
        faults.push(format!("{area}: a catalogue's name is lower_snake_case"));
    }
    for (key, texts) in catalogue {
        if !is_name(key) {
            faults.push(format!("{area}.{key}: a key is lower_snake_case"));
        }
        for language in texts.keys() {
            if !LANGUAGES.contains(&language.as_str()) {
                faults.push(format!("{area}.{key}: unknown language {language}"));
            }
        }
        let mut expected: Option<Vec<&str>> = None;
        for language in LANGUAGES {
            match texts.get(language).map(|t| t.trim()) {
                None | Some("") => faults.push(format!("{area}.{key}: no {language} text")),
                Some(text) => {
                    let mut names = placeholders(text);
                    names.sort();
                    match &expected {
                        None => expected = Some(names),
                        Some(e) if *e != names => faults.push(format!(
                            "{area}.{key}: {language} has placeholders {names:?}, English {e:?}"
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    faults
}
