//! Who may do what: roles, and the rules for user names and passwords (checked in the browser
//! while typing and again on the server).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Roles are ordered: each may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// HAVIPs (apply, rename, delete, allowed holders), EIPs, instances.
    Operator,
    /// Users, agent tokens, regions, VPCs, subnets, and everything an operator may do.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Its word, in the reader's language.
    pub fn word(self) -> crate::i18n::Msg {
        use crate::i18n::m::errors_words as w;
        match self {
            Role::Viewer => w::ROLE_VIEWER,
            Role::Operator => w::ROLE_OPERATOR,
            Role::Admin => w::ROLE_ADMIN,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Role, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "\"{other}\" is not a role; use admin, operator or viewer"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user: String,
    pub role: Role,
}

/// The logged-in user as their pages need them: who they are, and the time zone their pages
/// show times in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: String,
    pub role: Role,
    pub zone: super::zone::Zone,
}

/// Which session a request came with (a digest of its token, never the token): the access
/// layer puts it in the request next to the `Principal`, for limits counted per session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey(pub String);

/// When the request's session began (unix ms), put in the request by the access layer: some
/// changes need a recent login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStarted(pub u64);

pub const PASSWORD_MIN_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing it costs nothing extra.
pub const PASSWORD_MAX_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordError {
    TooShort(usize),
    TooLong,
    /// in `common_passwords.txt`
    Common,
}

impl PasswordError {
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::{m::errors as e, Text};
        match self {
            PasswordError::TooShort(n) => {
                (Text::new(e::PASSWORD_TOO_SHORT).arg("count", n)).arg("min", PASSWORD_MIN_CHARS)
            }
            PasswordError::TooLong => {
                Text::new(e::PASSWORD_TOO_LONG).arg("max", PASSWORD_MAX_BYTES)
            }
            PasswordError::Common => Text::new(e::PASSWORD_COMMON),
        }
    }
}

crate::says_by_text!(PasswordError);

/// A password must have at least 12 characters (any: a passphrase is best) and, on the
/// server, not be a common one (`is_common_password`). The browser checks the length only:
/// the list stays out of the page's WebAssembly, and the server's answer names the refusal.
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(PasswordError::TooShort(n));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(PasswordError::TooLong);
    }
    #[cfg(feature = "ssr")]
    if is_common_password(password) {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Whether `password` is in `common_passwords.txt` (a few thousand of at least 12
/// characters), compared without case.
#[cfg(feature = "ssr")]
pub fn is_common_password(password: &str) -> bool {
    const COMMON: &str = include_str!("common_passwords.txt");
    let password = password.to_lowercase();
    COMMON
        .lines()
        .filter(|line| !line.starts_with('#'))
        .any(|line| line == password)
}

/// Why a user name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserNameError {
    Empty,
    Malformed,
}

impl UserNameError {
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::{m::errors_store as e, Text};
        match self {
            UserNameError::Empty => Text::new(e::USER_NAME_EMPTY),
            UserNameError::Malformed => Text::new(e::USER_NAME_MALFORMED),
        }
    }
}

crate::says_by_text!(UserNameError);

/// A user name: 1–64 of `a-z A-Z 0-9 . _ -`, compared without case.
pub fn checked_user_name(name: &str) -> Result<String, UserNameError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(UserNameError::Empty);
    }
    if name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(UserNameError::Malformed);
    }
    Ok(name.to_ascii_lowercase())
}

/// `checked_user_name`, its refusal in English words.
pub fn check_user_name(name: &str) -> Result<String, String> {
    checked_user_name(name).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert_eq!(check_password("short"), Err(PasswordError::TooShort(5)));
        assert_eq!(
            check_password("elevenchars"),
            Err(PasswordError::TooShort(11))
        );
        assert_eq!(check_password("twelve chars"), Ok(()));
        // characters, not bytes: 12 Chinese characters are enough
        assert_eq!(check_password(&"高".repeat(12)), Ok(()));
        assert_eq!(
            check_password(&"x".repeat(PASSWORD_MAX_BYTES + 1)),
            Err(PasswordError::TooLong)
        );
        assert!(PasswordError::TooShort(3)
            .to_string()
            .contains("at least 12"));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn common_passwords_are_refused_without_case() {
        for common in [
            "password1234",
            "Password1234",
            "123456789012",
            "QWERTYUIOPAS",
            "1qaz2wsx3edc",
        ] {
            assert!(is_common_password(common), "{common}");
            assert_eq!(
                check_password(common),
                Err(PasswordError::Common),
                "{common}"
            );
        }
        assert_eq!(
            PasswordError::Common.to_string(),
            "This password is among the most common ones: choose another."
        );
        // the file's comments are not passwords; uncommon ones pass
        assert!(!is_common_password(
            "# Common passwords of at least 12 characters"
        ));
        assert_eq!(check_password("Gravel4Tulip"), Ok(()));
        // every entry is long enough to matter and written in lower case
        let entries = include_str!("common_passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#'));
        for entry in entries {
            assert!(entry.chars().count() >= PASSWORD_MIN_CHARS, "{entry}");
            assert_eq!(entry, entry.to_lowercase());
        }
    }

    #[test]
    fn user_names_and_roles() {
        assert_eq!(check_user_name(" Alice.Ops "), Ok("alice.ops".into()));
        assert!(check_user_name("").is_err());
        assert!(check_user_name("a b").is_err());
        assert!(check_user_name("<script>").is_err());
        assert!(check_user_name(&"a".repeat(65)).is_err());
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
