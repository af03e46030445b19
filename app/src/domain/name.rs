//! The one rule for names of HAVIPs, VPCs, subnets, instances and regions.

pub const NAME_MAX_CHARS: usize = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong(usize),
    ControlCharacter,
}

impl NameError {
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::{m::errors as e, Text};
        match self {
            NameError::Empty => Text::new(e::NAME_EMPTY),
            NameError::TooLong(n) => Text::new(e::NAME_TOO_LONG)
                .arg("count", n)
                .arg("max", NAME_MAX_CHARS),
            NameError::ControlCharacter => Text::new(e::NAME_CONTROL),
        }
    }
}

crate::says_by_text!(NameError);

impl NameError {
    /// The refusal of a request whose `field` has this name.
    pub fn refusal(self, field: &str) -> super::error::ApiError {
        let too_long = matches!(self, NameError::TooLong(_));
        let e = super::error::ApiError::invalid(field, self);
        if too_long {
            e.because(super::error::Reason::TooLong)
        } else {
            e
        }
    }
}

/// 1-60 characters after trimming, any script, no control characters. Returns the trimmed name.
pub fn check_name(text: &str) -> Result<String, NameError> {
    let name = text.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name
        .chars()
        .any(|c| c.is_control() || is_direction_control(c))
    {
        return Err(NameError::ControlCharacter);
    }
    let n = name.chars().count();
    if n > NAME_MAX_CHARS {
        return Err(NameError::TooLong(n));
    }
    Ok(name.to_string())
}

/// Unicode's bidirectional formatting characters: they make text display in another order
/// than it is stored, so a name could look like another.
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_name("  web-vip "), Ok("web-vip".into()));
        assert_eq!(check_name("数据库高可用"), Ok("数据库高可用".into()));
        assert_eq!(check_name(""), Err(NameError::Empty));
        assert_eq!(check_name(" \t "), Err(NameError::Empty));
        assert_eq!(check_name(&"a".repeat(60)), Ok("a".repeat(60)));
        assert_eq!(check_name(&"a".repeat(61)), Err(NameError::TooLong(61)));
        // 60 characters of a multi-byte script are fine: the limit counts characters, not bytes
        assert!(check_name(&"高".repeat(60)).is_ok());
        assert_eq!(check_name("a\tb"), Err(NameError::ControlCharacter));
        assert_eq!(check_name("a\nb"), Err(NameError::ControlCharacter));
        assert_eq!(check_name("a\u{7f}b"), Err(NameError::ControlCharacter));
        assert_eq!(check_name("a\u{0}b"), Err(NameError::ControlCharacter));
        // text shown in another order than it is stored ("Trojan Source")
        assert_eq!(check_name("a\u{202e}b"), Err(NameError::ControlCharacter));
        assert_eq!(check_name("a\u{2066}b"), Err(NameError::ControlCharacter));
        assert_eq!(check_name("東京-web"), Ok("東京-web".into()));
    }
}
