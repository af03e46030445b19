//! The audit log: who changed what, when, from where, with the object before and after.
//! Separate from an HAVIP's binding history (what the agents saw on the wire).

use serde::{Deserialize, Serialize};

/// Who makes a change: a logged-in user (and the address they came from), or the command
/// line, or the console itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    /// the client's address; empty when there is none (the command line)
    pub client: String,
}

/// The user an operator's `havip user …` on the shell is recorded as.
pub const COMMAND_LINE: &str = "(command line)";
/// The user the console's own changes are recorded as.
pub const CONSOLE: &str = "(console)";

impl Actor {
    pub fn user(user: impl Into<String>, client: Option<std::net::IpAddr>) -> Actor {
        Actor {
            user: user.into(),
            client: client.map(|c| c.to_string()).unwrap_or_default(),
        }
    }

    /// `havip user …` on the operator's shell.
    pub fn command_line() -> Actor {
        Actor {
            user: COMMAND_LINE.into(),
            client: String::new(),
        }
    }

    /// Changes the console makes by itself.
    pub fn console() -> Actor {
        Actor {
            user: CONSOLE.into(),
            client: String::new(),
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// increases with every record: the order of the log, and the paging cursor
    pub id: u64,
    /// Unix milliseconds
    pub at: u64,
    pub user: String,
    pub client: String,
    /// what was done, e.g. `havip.create`, `user.role`, `login.failed`
    pub action: String,
    /// what it was done to, e.g. `havip-1a2b3c4d`, `user alice`
    pub object: String,
    /// the object before and after (absent when created or deleted); secrets never included
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The most entries one page returns.
pub const AUDIT_PAGE_MAX: usize = 200;
pub const AUDIT_PAGE_DEFAULT: usize = 50;

/// Which entries to list: all filters must match (each a case-insensitive substring), newest
/// first, starting below `before` (the previous page's `next`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub before: Option<u64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

impl AuditQuery {
    pub fn limit(&self) -> usize {
        self.limit
            .unwrap_or(AUDIT_PAGE_DEFAULT)
            .clamp(1, AUDIT_PAGE_MAX)
    }

    pub fn matches(&self, e: &AuditEntry) -> bool {
        let has = |field: &str, wanted: &str| {
            wanted.trim().is_empty() || field.to_lowercase().contains(&wanted.trim().to_lowercase())
        };
        has(&e.user, &self.user) && has(&e.object, &self.object) && has(&e.action, &self.action)
    }
}

/// One page of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// the cursor of the next (older) page, when there is one
    pub next: Option<u64>,
}

/// What a record changed, in short lines: `field: before → after` for each field that differs,
/// or the object's fields when it was created or deleted; `none` stands for a field that was
/// not there (the reader's "(none)").
pub fn changes(
    before: &Option<serde_json::Value>,
    after: &Option<serde_json::Value>,
    none: &str,
) -> Vec<String> {
    use serde_json::Value;
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let fields = |v: &Option<Value>| -> Vec<(String, Value)> {
        match v {
            Some(Value::Object(map)) => {
                let mut fields: Vec<_> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                fields
            }
            Some(other) => vec![(String::new(), other.clone())],
            None => vec![],
        }
    };
    let (before, after) = (fields(before), fields(after));
    let label = |k: &str, text: String| {
        if k.is_empty() {
            text
        } else {
            format!("{k}: {text}")
        }
    };
    match (before.is_empty(), after.is_empty()) {
        (true, true) => vec![],
        (true, false) => after.iter().map(|(k, v)| label(k, show(v))).collect(),
        (false, true) => before.iter().map(|(k, v)| label(k, show(v))).collect(),
        (false, false) => {
            let old = |k: &str| before.iter().find(|(b, _)| b == k).map(|(_, v)| v.clone());
            let mut lines: Vec<String> = after
                .iter()
                .filter(|(k, v)| old(k).as_ref() != Some(v))
                .map(|(k, v)| {
                    let was = old(k).map_or_else(|| none.to_string(), |o| show(&o));
                    label(k, format!("{was} → {}", show(v)))
                })
                .collect();
            for (k, v) in &before {
                if !after.iter().any(|(a, _)| a == k) {
                    lines.push(label(k, format!("{} → {none}", show(v))));
                }
            }
            lines
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_list_what_differs_or_what_was_made_or_removed() {
        let mut e = entry("alice", "havip.rename", "havip-1");
        e.before = Some(serde_json::json!({"name": "old", "ip": "10.0.0.5", "eip": null}));
        e.after = Some(serde_json::json!({"name": "new", "ip": "10.0.0.5", "eip": "203.0.113.1"}));
        assert_eq!(
            changes(&e.before, &e.after, "(none)"),
            vec!["eip: null → 203.0.113.1", "name: old → new"]
        );
        e.before = None;
        e.after = Some(serde_json::json!({"name": "web"}));
        assert_eq!(changes(&e.before, &e.after, "(none)"), vec!["name: web"]);
        e.before = Some(serde_json::json!({"name": "web"}));
        e.after = None;
        assert_eq!(changes(&e.before, &e.after, "(none)"), vec!["name: web"]);
        e.before = None;
        assert!(changes(&e.before, &e.after, "(none)").is_empty());
    }

    fn entry(user: &str, action: &str, object: &str) -> AuditEntry {
        AuditEntry {
            id: 1,
            at: 0,
            user: user.into(),
            client: String::new(),
            action: action.into(),
            object: object.into(),
            before: None,
            after: None,
        }
    }

    #[test]
    fn filters_are_case_insensitive_substrings_and_all_must_match() {
        let e = entry("alice", "havip.create", "havip-0000abcd");
        let q = |user: &str, action: &str, object: &str| AuditQuery {
            user: user.into(),
            action: action.into(),
            object: object.into(),
            ..Default::default()
        };
        assert!(q("", "", "").matches(&e));
        assert!(q("ALI", "havip.", "abcd").matches(&e));
        assert!(!q("bob", "", "").matches(&e));
        assert!(!q("alice", "delete", "").matches(&e));
        assert!(!q("", "", "eip-").matches(&e));
    }

    #[test]
    fn page_sizes_are_bounded() {
        let q = |limit| AuditQuery {
            limit,
            ..Default::default()
        };
        assert_eq!(q(None).limit(), AUDIT_PAGE_DEFAULT);
        assert_eq!(q(Some(0)).limit(), 1);
        assert_eq!(q(Some(100_000)).limit(), AUDIT_PAGE_MAX);
    }
}
