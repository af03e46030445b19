//! Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a browser
//! that logged in as a user gets a signed cookie naming that user and a random device id. When
//! it tries that user again, only its own failures slow it down (see `throttle`), so a stranger
//! guessing the user's password cannot lock the user out.
//!
//! Value: `NAME.DEVICE.ISSUED_S.MAC`, where MAC is hex HMAC-SHA256 of `NAME.DEVICE.ISSUED_S`
//! under a key derived from the data directory's `secret.key` (a copy of the database alone
//! cannot forge one). Valid for `LIFETIME_S`. It proves only that this browser logged in as
//! NAME before; it never logs anyone in.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A device cookie is honoured this long after the login that issued it.
pub const LIFETIME_S: u64 = 180 * 24 * 3600;

/// The key device cookies are signed with.
#[derive(Clone)]
pub struct DeviceKey([u8; 32]);

/// The hex HMAC-SHA256 of `text` under `key`: what the console's signed cookies carry (device
/// cookies here, single sign-on's login state in `sso::state`).
pub fn hmac_hex(key: &[u8; 32], text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl DeviceKey {
    pub fn new(key: [u8; 32]) -> DeviceKey {
        DeviceKey(key)
    }

    fn mac(&self, text: &str) -> String {
        hmac_hex(&self.0, text)
    }

    /// A new cookie value for a browser that just logged in as `name` (validated: letters,
    /// digits, `.`, `_`, `-`) at unix second `now_s`.
    pub fn issue(&self, name: &str, now_s: u64) -> String {
        let device = format!("{:032x}", rand::random::<u128>());
        let text = format!("{name}.{device}.{now_s}");
        format!("{text}.{}", self.mac(&text))
    }

    /// The device id of `value`, when it is a cookie this console issued for `name` that has
    /// not expired at `now_s`.
    pub fn device_for(&self, value: &str, name: &str, now_s: u64) -> Option<String> {
        let (text, mac) = value.rsplit_once('.')?;
        if !app::support::same_secret(&self.mac(text), mac) {
            return None;
        }
        let (rest, issued) = text.rsplit_once('.')?;
        let (who, device) = rest.rsplit_once('.')?;
        let issued: u64 = issued.parse().ok()?;
        let fresh = now_s.saturating_sub(issued) <= LIFETIME_S && issued <= now_s + 60;
        (who == name && fresh).then(|| device.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_cookie_names_its_user_and_cannot_be_forged() {
        let key = DeviceKey::new([7; 32]);
        let value = key.issue("admin", 1_000);
        let device = key.device_for(&value, "admin", 2_000).expect("valid");
        assert_eq!(device.len(), 32);
        assert_eq!(key.device_for(&value, "ops", 2_000), None, "another user");
        assert_eq!(
            key.device_for(&value, "admin", 1_000 + LIFETIME_S + 1),
            None,
            "expired"
        );
        let forged = value.replacen("admin", "root", 1);
        assert_eq!(key.device_for(&forged, "root", 2_000), None);
        assert_eq!(
            DeviceKey::new([8; 32]).device_for(&value, "admin", 2_000),
            None,
            "another console's key"
        );
        assert_eq!(key.device_for("garbage", "admin", 2_000), None);
    }
}
