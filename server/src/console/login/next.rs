//! Where a browser goes after logging in (`next`): a path of this console, never another site.

/// `next` resolved as a path of this console, or `/`.
///
/// Refused (answering `/`): anything with a control character or a backslash anywhere (a
/// browser drops tabs and newlines from a URL and reads `\` as `/`: `/<TAB>/evil.example`
/// becomes `//evil.example`), anything not starting with one `/`, and whatever — once
/// resolved against the console (`.` and `..` segments, escapes) — names a scheme, another
/// host, or a path starting with `//`.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(resolve).unwrap_or_else(|| "/".into())
}

fn resolve(next: &str) -> Option<String> {
    if !next.starts_with('/')
        || next.starts_with("//")
        || next.chars().any(|c| c.is_control() || c == '\\')
    {
        return None;
    }
    let base = url::Url::parse("http://console.invalid/").expect("literal");
    let resolved = base.join(next).ok()?;
    let same_place = resolved.scheme() == "http"
        && resolved.host_str() == Some("console.invalid")
        && resolved.port().is_none()
        && resolved.username().is_empty()
        && resolved.password().is_none();
    let path = resolved.path();
    if !same_place || path.starts_with("//") || path.contains('\\') {
        return None;
    }
    Some(match resolved.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_login_only_paths_of_this_console() {
        assert_eq!(
            safe_next(Some("/havip/havip-00000000?page=2")),
            "/havip/havip-00000000?page=2"
        );
        assert_eq!(safe_next(Some("/eips/../havips")), "/havips");
        for bad in [
            None,
            Some(""),
            Some("havips"),
            Some("https://evil.example/"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("/\t/evil.example"),
            Some("/\n/evil.example"),
            Some("/\r\n/evil.example"),
            Some("/%2F/evil.example/../.."),
            Some("/./\t/evil.example"),
            Some("/a/..//evil.example"),
            Some("/.//evil.example"),
        ] {
            let resolved = safe_next(bad);
            assert!(
                resolved == "/" || (!resolved.starts_with("//") && !resolved.contains("evil")),
                "{bad:?} -> {resolved}"
            );
            assert!(!resolved.starts_with("//"), "{bad:?} -> {resolved}");
        }
        assert_eq!(safe_next(Some("/a/..//evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
    }
}
