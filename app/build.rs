//! Builds the console's message tables from the catalogues in `i18n/` (one JSON file per part
//! of the console, each message with its English and its Chinese): a constant per message
//! (`crate::i18n::m::AREA::KEY`), the English table, the Chinese table (the server's; the
//! browser asks for it when the language is chosen), and the codes of the messages that are
//! sent or stored by code: errors (`errors*`), the history's causes (`causes`) and the alerts'
//! delivery outcomes (`outcomes`). A message
//! without its translation, or whose placeholders differ, fails the build.

#[path = "i18n/check.rs"]
mod check;

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

fn main() {
    println!("cargo:rerun-if-changed=i18n");
    let mut areas: Vec<(String, check::Catalogue)> = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir("i18n")
        .expect("app/i18n")
        .map(|e| e.expect("a catalogue").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut faults = Vec::new();
    for path in paths {
        let area = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).expect("a readable catalogue");
        let catalogue: check::Catalogue =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        faults.extend(check::faults(&area, &catalogue));
        areas.push((area, catalogue));
    }
    if !faults.is_empty() {
        panic!("the catalogues in app/i18n:\n{}", faults.join("\n"));
    }
    let mut out = String::new();
    let (mut en, mut zh, mut codes) = (Vec::new(), Vec::new(), Vec::new());
    out.push_str("/// Every message, by the part of the console it belongs to.\npub mod m {\n");
    for (area, catalogue) in &areas {
        writeln!(out, "    pub mod {area} {{\n        use crate::i18n::Msg;").unwrap();
        for (key, texts) in catalogue {
            let index = en.len();
            // the English rides with the constant: it is in the code that uses the message
            // (a page's chunk), not in one table every page would carry
            writeln!(
                out,
                "        pub const {}: Msg = Msg({index}, {:?});",
                key.to_uppercase(),
                texts["en"]
            )
            .unwrap();
            en.push(texts["en"].clone());
            zh.push(texts["zh-CN"].clone());
            if area.starts_with("errors") || area == "causes" || area == "outcomes" {
                // by index, not `Msg`: the English of every error would else be in the browser's
                // first module (it says an error in English by the `message` it came with)
                codes.push(format!("({:?}, {index})", format!("{area}.{key}")));
            }
        }
        out.push_str("    }\n");
    }
    out.push_str("}\n");
    let count = en.len();
    writeln!(
        out,
        "/// How many messages there are.\npub const COUNT: usize = {count};"
    )
    .unwrap();
    writeln!(
        out,
        "#[cfg(feature = \"ssr\")]\nstatic EN: [&str; {count}] = {en:?};"
    )
    .unwrap();
    writeln!(
        out,
        "#[cfg(feature = \"ssr\")]\nstatic ZH_CN: [&str; {count}] = {zh:?};"
    )
    .unwrap();
    writeln!(
        out,
        "static CODES: [(&str, u16); {}] = [{}];",
        codes.len(),
        codes.join(", ")
    )
    .unwrap();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    zh.hash(&mut hasher);
    en.len().hash(&mut hasher);
    writeln!(
        out,
        "/// Names this build's tables: a table of another build is never taken for this one's.\npub const TABLES_VERSION: &str = \"{:016x}\";",
        hasher.finish()
    )
    .unwrap();
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("messages.rs");
    std::fs::write(dest, out).expect("messages.rs written");
}
