//! The one error type every operation returns: what went wrong, in words a user can act on,
//! and which form field it concerns (so the dialog can show it next to that field).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    Invalid,
    NotFound,
    Conflict,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub field: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn invalid(field: &str, message: impl fmt::Display) -> Self {
        ApiError {
            kind: ErrorKind::Invalid,
            field: Some(field.into()),
            message: message.to_string(),
        }
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        ApiError {
            kind: ErrorKind::NotFound,
            field: None,
            message: format!("{what} {id} does not exist."),
        }
    }
    pub fn conflict(message: impl fmt::Display) -> Self {
        ApiError {
            kind: ErrorKind::Conflict,
            field: None,
            message: message.to_string(),
        }
    }
    pub fn internal(message: impl fmt::Display) -> Self {
        ApiError {
            kind: ErrorKind::Internal,
            field: None,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}
