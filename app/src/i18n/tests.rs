use super::*;

#[path = "../../i18n/check.rs"]
mod check;

/// Every catalogue, read again as the build reads it: a message without its Chinese (or whose
/// placeholders differ) is named here too, should a build ever skip the check.
#[test]
fn every_message_has_its_translation_with_the_same_placeholders() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/i18n");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let area = path.file_stem().unwrap().to_string_lossy().to_string();
        let catalogue: check::Catalogue =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let faults = check::faults(&area, &catalogue);
        assert!(faults.is_empty(), "{}", faults.join("\n"));
        count += catalogue.len();
    }
    assert_eq!(count, COUNT);
    for (i, english) in EN.iter().enumerate() {
        let msg = Msg::at(i);
        assert_eq!(msg.text(Lang::En), *english);
        assert!(!msg.text(Lang::ZhCn).is_empty());
    }
    // a missing translation is found: the check is shown to catch one
    let broken: check::Catalogue =
        serde_json::from_str(r#"{"a": {"en": "Apply {name}", "zh-CN": "申请"}, "b": {"en": "x"}}"#)
            .unwrap();
    assert_eq!(check::faults("t", &broken).len(), 2);
}

#[test]
fn placeholders_are_filled_and_unknown_ones_stay() {
    assert_eq!(
        fill(
            "{ip} is outside {subnet}.",
            &[("ip", "10.0.0.9"), ("subnet", "10.0.1.0/24")]
        ),
        "10.0.0.9 is outside 10.0.1.0/24."
    );
    assert_eq!(fill("a {b} {c", &[]), "a {b} {c");
}

#[test]
fn the_language_of_a_first_visit_follows_accept_language() {
    assert_eq!(from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
    assert_eq!(from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En);
    assert_eq!(from_accept_language("fr-FR, zh-Hans;q=0.5"), Lang::ZhCn);
    assert_eq!(from_accept_language("de, fr;q=0.5"), Lang::En);
    assert_eq!(from_accept_language("en;q=0.2, zh-TW;q=0.7"), Lang::ZhCn);
    assert_eq!(from_accept_language("zh;q=0"), Lang::En);
    assert_eq!(from_accept_language(""), Lang::En);
}

#[test]
fn tags_name_the_languages() {
    for lang in Lang::ALL {
        assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
    }
    assert_eq!(Lang::from_tag("fr"), None);
}
