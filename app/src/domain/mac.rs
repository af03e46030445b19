//! Ethernet MAC addresses, written `02:00:00:16:16:05`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// The VRRP router id when this is VRRP's virtual MAC for IPv4 (`00:00:5e:00:01:<VRID>`,
    /// RFC 5798), which keepalived's `use_vmac` puts on the holder's interface.
    pub fn vrrp_vrid(&self) -> Option<u8> {
        (self.0[..5] == [0, 0, 0x5e, 0, 1]).then_some(self.0[5])
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacError(pub String);

impl MacError {
    pub fn text(&self) -> crate::i18n::Text {
        crate::i18n::Text::new(crate::i18n::m::errors::MAC_MALFORMED).arg("text", &self.0)
    }
}

crate::says_by_text!(MacError);

impl FromStr for Mac {
    type Err = MacError;
    /// Accepts `:` or `-` separators, either case.
    fn from_str(text: &str) -> Result<Self, MacError> {
        let bad = || MacError(text.to_string());
        let parts: Vec<&str> = text.trim().split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (slot, part) in out.iter_mut().zip(parts) {
            if part.len() != 2 {
                return Err(bad());
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        Ok(Mac(out))
    }
}

/// Why a typed MAC cannot be an instance's network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMacError {
    Empty,
    Malformed(MacError),
    /// broadcast, multicast or all zeros: never the address of one interface
    NotUnicast(Mac),
}

impl HostMacError {
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::{m::errors as e, Text};
        match self {
            HostMacError::Empty => Text::new(e::MAC_EMPTY),
            HostMacError::Malformed(e) => e.text(),
            HostMacError::NotUnicast(mac) => Text::new(e::MAC_NOT_UNICAST).arg("mac", mac),
        }
    }
}

crate::says_by_text!(HostMacError);

/// The one validator for a MAC typed for an instance (the register dialog and the server).
pub fn check_host_mac(text: &str) -> Result<Mac, HostMacError> {
    if text.trim().is_empty() {
        return Err(HostMacError::Empty);
    }
    let mac: Mac = text.parse().map_err(HostMacError::Malformed)?;
    if mac.0[0] & 1 == 1 || mac.0 == [0; 6] {
        return Err(HostMacError::NotUnicast(mac));
    }
    Ok(mac)
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let m: Mac = "02:00:00:16:16:05".parse().unwrap();
        assert_eq!(m.0, [2, 0, 0, 0x16, 0x16, 5]);
        assert_eq!(m.to_string(), "02:00:00:16:16:05");
        assert_eq!(
            "02-00-00-16-16-0A".parse::<Mac>().unwrap().to_string(),
            "02:00:00:16:16:0a"
        );
        for bad in [
            "",
            "02:00:00:16:16",
            "02:00:00:16:16:05:07",
            "0g:00:00:16:16:05",
            "2:00:00:16:16:05",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "\"02:00:00:16:16:05\"");
        assert_eq!(serde_json::from_str::<Mac>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Mac>("\"zz\"").is_err());
    }

    #[test]
    fn host_macs_are_unicast() {
        assert_eq!(
            check_host_mac(" 52:54:00:12:34:56 ").unwrap().to_string(),
            "52:54:00:12:34:56"
        );
        assert_eq!(check_host_mac("  "), Err(HostMacError::Empty));
        assert!(matches!(
            check_host_mac("52:54:00:12:34"),
            Err(HostMacError::Malformed(_))
        ));
        for bad in [
            "ff:ff:ff:ff:ff:ff",
            "01:00:5e:00:00:12",
            "00:00:00:00:00:00",
        ] {
            let e = check_host_mac(bad).unwrap_err();
            assert!(matches!(e, HostMacError::NotUnicast(_)), "{bad}");
            assert!(e.to_string().contains("not one network interface"), "{e}");
        }
    }
}
