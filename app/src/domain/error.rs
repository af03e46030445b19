//! The one error type every operation returns: what went wrong, in words a user can act on,
//! which form field it concerns (so the dialog can show it next to that field), and — through
//! its kind — the HTTP status every endpoint answers it with.

use crate::i18n::{m, Coded, Lang, Msg, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The request could not be read: malformed body, missing argument, an ID of the wrong form.
    Malformed,
    /// The request was read but breaks a rule (a reserved address, a name too long, a full
    /// subnet, the quota).
    Invalid,
    NotFound,
    /// The request contradicts the current state (an EIP still bound, …).
    Conflict,
    Unauthorized,
    Forbidden,
    /// Too many failed attempts, connections or messages: wait before the next one.
    TooManyRequests,
    /// The request body is larger than the console reads.
    TooLarge,
    /// The request body is of a type the console does not read (not JSON, not a form).
    UnsupportedType,
    /// The request was sent to a host name this console does not answer to.
    Misdirected,
    /// Our fault; the details go to the server log, never to the caller.
    Internal,
    /// The server's storage is (nearly) full: nothing was changed; try again once space is
    /// freed.
    StorageFull,
    /// The database does not answer (etcd unreachable): a change may or may not have been
    /// made; try again shortly.
    Unavailable,
}

impl ErrorKind {
    /// The HTTP status of this kind of error, the same on every endpoint.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Malformed => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Invalid => 422,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::TooLarge => 413,
            ErrorKind::UnsupportedType => 415,
            ErrorKind::Misdirected => 421,
            ErrorKind::Internal => 500,
            ErrorKind::StorageFull => 507,
            ErrorKind::Unavailable => 503,
        }
    }
}

/// Which rule a refusal is about, for programs that act on it (the Tencent-compatible API
/// maps these to its error codes); the message says the same in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// not an address (or not IPv4)
    MalformedIp,
    /// outside the subnet
    OutOfRange,
    /// the subnet's network, gateway or broadcast address
    Reserved,
    /// used by another HAVIP or instance
    InUse,
    /// the subnet (or the EIP pool) has no free address
    Full,
    TooLong,
    /// the VPC's HAVIP quota is reached
    Quota,
    /// the HAVIP has an EIP bound (unbind it first)
    EipBound,
    /// the EIP or the HAVIP is bound already
    EipAlreadyBound,
    /// there is no EIP to unbind
    EipNotBound,
    /// an ID given for a field names nothing
    UnknownId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub field: Option<String>,
    /// In English (scripts and logs read it); the pages show `code` in the reader's language.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The message's code in the catalogues (`errors.ip_reserved`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The values of the message's placeholders (boxed, as `words`: every `Result` of the
    /// console carries an `ApiError`, which stays small).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: Box<BTreeMap<String, String>>,
    /// The placeholders that are words, by their code, said in the reader's language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub words: Box<BTreeMap<String, String>>,
}

/// What an error says: a message of the catalogues with its arguments (`Text`), or, where
/// none was written, plain words (English only).
pub trait Says {
    fn says(self) -> (String, Option<Text>);
}

impl Says for Text {
    fn says(self) -> (String, Option<Text>) {
        (self.to_string(), Some(self))
    }
}

impl Says for Msg {
    fn says(self) -> (String, Option<Text>) {
        Text::new(self).says()
    }
}

impl Says for &str {
    fn says(self) -> (String, Option<Text>) {
        (self.to_string(), None)
    }
}

impl Says for String {
    fn says(self) -> (String, Option<Text>) {
        (self, None)
    }
}

impl Says for &String {
    fn says(self) -> (String, Option<Text>) {
        (self.clone(), None)
    }
}

impl ApiError {
    fn new(kind: ErrorKind, field: Option<&str>, message: impl Says) -> Self {
        let (message, text) = message.says();
        let (code, (args, words)) = match &text {
            Some(text) => (text.msg.code().map(String::from), text.wire_args()),
            None => (None, Default::default()),
        };
        ApiError {
            kind,
            field: field.map(String::from),
            message,
            reason: None,
            code,
            args: Box::new(args),
            words: Box::new(words),
        }
    }

    /// Its message by code with its arguments, to be said later in any language; none for an
    /// error of plain words.
    pub fn coded(&self) -> Option<Coded> {
        Some(Coded {
            code: self.code.clone()?,
            args: (*self.args).clone(),
            words: (*self.words).clone(),
        })
    }

    /// What it says in `lang`: its message's code with its arguments, else (and in English)
    /// its `message`.
    pub fn in_lang(&self, lang: Lang) -> String {
        (self.code.as_deref())
            .and_then(|code| crate::i18n::say(code, &self.args, &self.words, lang))
            .unwrap_or_else(|| self.message.clone())
    }
    pub fn malformed(message: impl Says) -> Self {
        ApiError::new(ErrorKind::Malformed, None, message)
    }
    pub fn invalid(field: &str, message: impl Says) -> Self {
        ApiError::new(ErrorKind::Invalid, Some(field), message)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        let text = Text::new(m::errors::NOT_FOUND)
            .word("what", noun(what))
            .arg("id", id);
        ApiError::new(ErrorKind::NotFound, None, text)
    }
    pub fn conflict(message: impl Says) -> Self {
        ApiError::new(ErrorKind::Conflict, None, message)
    }
    pub fn unauthorized(message: impl Says) -> Self {
        ApiError::new(ErrorKind::Unauthorized, None, message)
    }
    pub fn forbidden(message: impl Says) -> Self {
        ApiError::new(ErrorKind::Forbidden, None, message)
    }
    pub fn too_many(message: impl Says) -> Self {
        ApiError::new(ErrorKind::TooManyRequests, None, message)
    }
    pub fn misdirected(message: impl Says) -> Self {
        ApiError::new(ErrorKind::Misdirected, None, message)
    }
    pub fn unsupported_type(message: impl Says) -> Self {
        ApiError::new(ErrorKind::UnsupportedType, None, message)
    }

    pub fn too_large(message: impl Says) -> Self {
        ApiError::new(ErrorKind::TooLarge, None, message)
    }

    pub fn storage_full(message: impl Says) -> Self {
        ApiError::new(ErrorKind::StorageFull, None, message)
    }

    pub fn unavailable(message: impl Says) -> Self {
        ApiError::new(ErrorKind::Unavailable, None, message)
    }

    pub fn internal(message: impl Says) -> Self {
        ApiError::new(ErrorKind::Internal, None, message)
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The same error, naming the rule it is about.
    pub fn because(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The same error about another field (e.g. "the VPC you chose does not exist" is about
    /// the form's `vpc` field, not a missing page). Internal errors stay internal.
    pub fn on_field(self, field: &str) -> Self {
        match self.kind {
            ErrorKind::Internal => self,
            ErrorKind::NotFound => ApiError {
                field: Some(field.into()),
                kind: ErrorKind::Invalid,
                reason: Some(Reason::UnknownId),
                ..self
            },
            _ => ApiError {
                field: Some(field.into()),
                kind: ErrorKind::Invalid,
                ..self
            },
        }
    }

    /// What a caller may see: internal errors lose their details (which may name files, records
    /// or database state) and carry a reference to the log line that has them.
    pub fn public(&self, reference: &str) -> ApiError {
        match self.kind {
            ErrorKind::Internal => {
                ApiError::internal(Text::new(m::errors::INTERNAL).arg("reference", reference))
            }
            _ => self.clone(),
        }
    }
}

/// The word of a kind of record an error names.
fn noun(what: &str) -> Msg {
    use m::errors_words as w;
    match what {
        "API key" => w::API_KEY,
        "Agent" => w::AGENT,
        "Alert rule" => w::ALERT_RULE,
        "EIP" => w::EIP,
        "ENI" => w::ENI,
        "HAVIP" => w::HAVIP,
        "Region" => w::REGION,
        "Session" => w::SESSION,
        "Subnet" => w::SUBNET,
        "User" => w::USER,
        "VPC" => w::VPC,
        "Instance" => w::INSTANCE,
        _ => w::THING,
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_status_and_internal_details_stay_private() {
        let cases = [
            (ApiError::malformed("x"), 400),
            (ApiError::unauthorized("x"), 401),
            (ApiError::forbidden("x"), 403),
            (ApiError::not_found("HAVIP", "havip-00000000"), 404),
            (ApiError::conflict("x"), 409),
            (ApiError::invalid("ip", "x"), 422),
            (ApiError::too_many("x"), 429),
            (ApiError::internal("x"), 500),
        ];
        for (e, status) in cases {
            assert_eq!(e.status(), status, "{e:?}");
        }
        let secret = ApiError::internal("database error: /var/lib/havip/db: corrupt record");
        let shown = secret.public("r-1");
        assert_eq!(shown.status(), 500);
        assert!(!shown.message.contains("corrupt") && !shown.message.contains("database"));
        assert!(shown.message.contains("r-1"));
        let user = ApiError::invalid("ip", "10.0.0.1 is reserved.");
        assert_eq!(user.public("r-2"), user);
        assert_eq!(
            ApiError::not_found("VPC", "vpc-00000000")
                .on_field("vpc")
                .status(),
            422
        );
    }
}
