//! Single sign-on's rules, shared by the login page and the server: what the login page
//! offers, how far local (password) logins are allowed, which role a person's groups at the
//! identity provider give, and which user name a person signing in for the first time gets.

use super::auth::Role;
use serde::{Deserialize, Serialize};

/// Who may log in with a local password on the login page (`--local-login`). The command
/// line (`havip user …`) works whatever this says: it is the way back in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalLogin {
    /// every local user
    #[default]
    All,
    /// local administrators only: the break-glass way in while everyone else uses SSO
    AdminsOnly,
    /// nobody: the login page offers single sign-on alone
    Off,
}

impl LocalLogin {
    /// Whether a local user of `role` may log in with their password.
    pub fn allows(self, role: Role) -> bool {
        match self {
            LocalLogin::All => true,
            LocalLogin::AdminsOnly => role == Role::Admin,
            LocalLogin::Off => false,
        }
    }
}

impl std::str::FromStr for LocalLogin {
    type Err = String;
    fn from_str(text: &str) -> Result<LocalLogin, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(LocalLogin::All),
            "admins-only" => Ok(LocalLogin::AdminsOnly),
            "off" => Ok(LocalLogin::Off),
            other => Err(format!(
                "\"{other}\" is not a local-login setting; use all, admins-only or off"
            )),
        }
    }
}

/// What the login page offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginOptions {
    /// the identity provider's name, when single sign-on is configured
    pub sso: Option<String>,
    pub local: LocalLogin,
}

/// Other origins the console's forms may send the browser to (the identity provider's, where
/// logging out ends the provider's session too), for the pages' Content-Security-Policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormTargets(pub Vec<String>);

/// The roles given by groups (`--oidc-admin-group`, `--oidc-operator-group`,
/// `--oidc-require-group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRoles {
    pub admin: Option<String>,
    pub operator: Option<String>,
    /// a person in neither group is refused, instead of being a viewer
    pub require_group: bool,
}

impl GroupRoles {
    /// The role of a person in `groups` (the role claim's values), or None when they are
    /// refused. The highest role any of their groups gives wins.
    pub fn role(&self, groups: &[String]) -> Option<Role> {
        let member = |group: &Option<String>| {
            group
                .as_deref()
                .is_some_and(|g| groups.iter().any(|have| have == g))
        };
        if member(&self.admin) {
            Some(Role::Admin)
        } else if member(&self.operator) {
            Some(Role::Operator)
        } else if self.require_group {
            None
        } else {
            Some(Role::Viewer)
        }
    }
}

/// The user name for a person signing in for the first time: the first of `hints` (their
/// `preferred_username`, then their e-mail's local part) made into a valid name, else `sso`;
/// when that name is `taken` (by a local user or another person), a suffix from `tag` (a digest
/// of who they are at the provider) is added. A local account is never taken over by a name.
pub fn sso_user_name(hints: &[&str], tag: &str, taken: impl Fn(&str) -> bool) -> String {
    let cleaned = hints
        .iter()
        .map(|hint| clean_name(hint))
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "sso".to_string());
    if !taken(&cleaned) {
        return cleaned;
    }
    for length in [6, 12, tag.len()] {
        let suffix: String = tag.chars().take(length).collect();
        let base: String = cleaned.chars().take(64 - 1 - suffix.len()).collect();
        let name = format!("{base}-{suffix}");
        if !taken(&name) {
            return name;
        }
    }
    format!("sso-{}", tag.chars().take(59).collect::<String>())
}

/// `hint` as a user name: lower case, each run of characters a name cannot have made one `-`,
/// at most 64 characters (see `auth::check_user_name`).
fn clean_name(hint: &str) -> String {
    let hint = hint.split('@').next().unwrap_or_default();
    let mut name = String::new();
    for c in hint.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches(|c| c == '-' || c == '.');
    name.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_highest_group_gives_the_role() {
        let roles = GroupRoles {
            admin: Some("havip-admins".into()),
            operator: Some("havip-operators".into()),
            require_group: false,
        };
        let both = groups(&["havip-operators", "havip-admins"]);
        assert_eq!(roles.role(&both), Some(Role::Admin));
        let operator = groups(&["staff", "havip-operators"]);
        assert_eq!(roles.role(&operator), Some(Role::Operator));
        assert_eq!(roles.role(&groups(&["staff"])), Some(Role::Viewer));
        assert_eq!(roles.role(&[]), Some(Role::Viewer));
        // a group's name is matched whole and with its case
        assert_eq!(roles.role(&groups(&["HAVIP-admins"])), Some(Role::Viewer));
        assert_eq!(roles.role(&groups(&["havip-admins-x"])), Some(Role::Viewer));
        let strict = GroupRoles {
            require_group: true,
            ..roles
        };
        assert_eq!(strict.role(&groups(&["staff"])), None);
        assert_eq!(strict.role(&operator), Some(Role::Operator));
        // no group configured: everyone is a viewer, or everyone is refused
        assert_eq!(GroupRoles::default().role(&both), Some(Role::Viewer));
    }

    #[test]
    fn local_logins_as_configured() {
        assert!(LocalLogin::All.allows(Role::Viewer));
        assert!(LocalLogin::AdminsOnly.allows(Role::Admin));
        assert!(!LocalLogin::AdminsOnly.allows(Role::Operator));
        assert!(!LocalLogin::Off.allows(Role::Admin));
        assert_eq!("admins-only".parse(), Ok(LocalLogin::AdminsOnly));
        assert!("some".parse::<LocalLogin>().is_err());
    }

    #[test]
    fn first_sign_in_names_never_take_a_local_account() {
        let none = |_: &str| false;
        assert_eq!(
            sso_user_name(&["Alice.Smith"], "ab12cd34ef56", none),
            "alice.smith"
        );
        assert_eq!(
            sso_user_name(&["Zhang San"], "ab12cd34ef56", none),
            "zhang-san"
        );
        assert_eq!(sso_user_name(&["", "bob@corp.example"], "ab", none), "bob");
        assert_eq!(sso_user_name(&["张三"], "ab12cd34ef56", none), "sso");
        let admin_exists = |n: &str| n == "admin";
        assert_eq!(
            sso_user_name(&["admin"], "ab12cd34ef56", admin_exists),
            "admin-ab12cd"
        );
        let both_exist = |n: &str| n == "admin" || n == "admin-ab12cd";
        assert_eq!(
            sso_user_name(&["admin"], "ab12cd34ef56", both_exist),
            "admin-ab12cd34ef56"
        );
        let long = "x".repeat(80);
        let name = sso_user_name(&[&long], "ab12cd34ef56", |n| n == "x".repeat(64));
        assert_eq!(name, format!("{}-ab12cd", "x".repeat(57)));
        for name in [
            sso_user_name(&["a b\tc\u{0}"], "t", none),
            sso_user_name(&["-.-"], "t", none),
        ] {
            assert!(
                crate::domain::auth::check_user_name(&name).is_ok(),
                "{name}"
            );
        }
    }
}
