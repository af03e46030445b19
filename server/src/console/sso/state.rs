//! What a browser carries between leaving for the identity provider and coming back: the
//! login's `state`, `nonce` and PKCE verifier, and where to go afterwards, in a short-lived
//! cookie of its own (so the login is bound to the browser that started it), signed with a key
//! derived from the data directory's `secret.key` (every replica has the same, so the browser
//! may come back to any of them).
//!
//! Value: `BASE64URL(JSON).MAC`, MAC the hex HMAC-SHA256 of the first part. The cookie is
//! `HttpOnly`, `SameSite=Lax` (the provider sends the browser back with a top-level GET, which
//! Lax lets through), `__Host-` and `Secure` over HTTPS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The cookie's name over plain HTTP, and over HTTPS.
pub const STATE_COOKIE: &str = "havip_sso";
pub const SECURE_STATE_COOKIE: &str = "__Host-havip_sso";

/// How long a person may take at the provider's pages.
pub const LIFETIME_S: u64 = 10 * 60;

pub fn state_cookie_name(https: bool) -> &'static str {
    if https {
        SECURE_STATE_COOKIE
    } else {
        STATE_COOKIE
    }
}

/// One login under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// where the browser goes once logged in (already made safe, see `login::next`)
    pub next: String,
    /// Unix seconds after which it is refused
    pub until: u64,
}

/// The key login states are signed with.
#[derive(Clone)]
pub struct StateKey([u8; 32]);

impl StateKey {
    pub fn new(key: [u8; 32]) -> StateKey {
        StateKey(key)
    }

    fn mac(&self, text: &str) -> String {
        crate::console::login::device::hmac_hex(&self.0, text)
    }

    /// The cookie's value for `state`.
    pub fn seal(&self, state: &LoginState) -> String {
        let json = serde_json::to_vec(state).expect("plain fields");
        let text = URL_SAFE_NO_PAD.encode(json);
        format!("{text}.{}", self.mac(&text))
    }

    /// The login state in `value`, when this console signed it and it has not expired at
    /// `now_s`.
    pub fn open(&self, value: &str, now_s: u64) -> Option<LoginState> {
        let (text, mac) = value.rsplit_once('.')?;
        if !app::support::same_secret(&self.mac(text), mac) {
            return None;
        }
        let json = URL_SAFE_NO_PAD.decode(text).ok()?;
        let state: LoginState = serde_json::from_slice(&json).ok()?;
        (now_s <= state.until).then_some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(until: u64) -> LoginState {
        LoginState {
            state: "s".repeat(22),
            nonce: "n".repeat(22),
            pkce_verifier: "v".repeat(43),
            next: "/havip/havip-00000000".into(),
            until,
        }
    }

    #[test]
    fn only_this_consoles_unexpired_states_open() {
        let key = StateKey::new([7; 32]);
        let sealed = key.seal(&state(1_000));
        assert_eq!(key.open(&sealed, 999), Some(state(1_000)));
        assert_eq!(key.open(&sealed, 1_000), Some(state(1_000)));
        assert_eq!(key.open(&sealed, 1_001), None, "expired");
        assert_eq!(
            StateKey::new([8; 32]).open(&sealed, 999),
            None,
            "another key"
        );
        // the text changed (a later expiry, another `next`) under the old MAC
        let (_, mac) = sealed.rsplit_once('.').unwrap();
        let forged = key.seal(&state(9_999));
        let (text, _) = forged.rsplit_once('.').unwrap();
        assert_eq!(key.open(&format!("{text}.{mac}"), 999), None);
        for junk in ["", ".", "abc", "abc.def", &format!("{sealed}x")] {
            assert_eq!(key.open(junk, 0), None, "{junk}");
        }
    }
}
