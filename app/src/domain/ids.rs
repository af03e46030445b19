//! Resource IDs: a kind prefix and 8 random lowercase alphanumerics, like `havip-3kd92mzq`.
//!
//! Each kind has its own type (`HavipId`, `SubnetId`, …), so an ENI id can never be passed where
//! an HAVIP id is meant, and a text that is not an ID of the right form is refused where it
//! enters (deserializing a request or a record), with a message that says what was expected.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

pub const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Region,
    Vpc,
    Subnet,
    Havip,
    Eni,
    Instance,
    Eip,
    Agent,
    Alert,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Region => "region",
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::Havip => "havip",
            Kind::Eni => "eni",
            Kind::Instance => "ins",
            Kind::Eip => "eip",
            Kind::Agent => "agent",
            Kind::Alert => "alert",
        }
    }

    /// How messages name the kind.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Region => "region",
            Kind::Vpc => "VPC",
            Kind::Subnet => "subnet",
            Kind::Havip => "HAVIP",
            Kind::Eni => "ENI",
            Kind::Instance => "instance",
            Kind::Eip => "EIP",
            Kind::Agent => "agent",
            Kind::Alert => "alert",
        }
    }
}

/// Builds an ID from 8 random numbers (any range; reduced modulo the alphabet).
pub fn make_id(kind: Kind, mut random: impl FnMut() -> u32) -> String {
    let mut id = String::with_capacity(kind.prefix().len() + 9);
    id.push_str(kind.prefix());
    id.push('-');
    for _ in 0..8 {
        id.push(ID_ALPHABET[(random() % 36) as usize] as char);
    }
    id
}

/// Whether `text` is an ID of `kind`.
pub fn is_id(kind: Kind, text: &str) -> bool {
    text.strip_prefix(kind.prefix())
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|tail| tail.len() == 8 && tail.bytes().all(|b| ID_ALPHABET.contains(&b)))
}

/// An ID of a known kind without its prefix, in 8 bytes instead of a heap string: what the
/// in-memory indexes keep. Ordered as the IDs are (one kind shares one prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdTail([u8; 8]);

impl IdTail {
    /// The tail of a checked ID (the typed IDs hold only those).
    fn of(id: &str) -> IdTail {
        let mut tail = [0; 8];
        tail.copy_from_slice(&id.as_bytes()[id.len() - 8..]);
        IdTail(tail)
    }

    fn with_prefix(self, kind: Kind) -> String {
        let mut id = String::with_capacity(kind.prefix().len() + 9);
        id.push_str(kind.prefix());
        id.push('-');
        id.extend(self.0.iter().map(|&b| char::from(b)));
        id
    }
}

/// A text that is not an ID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    pub kind: Kind,
    pub text: String,
}

impl IdError {
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::m::errors_words as w;
        let shown: String = self.text.chars().take(40).collect();
        let kind = match self.kind {
            Kind::Region => w::A_REGION,
            Kind::Vpc => w::A_VPC,
            Kind::Subnet => w::A_SUBNET,
            Kind::Havip => w::AN_HAVIP,
            Kind::Eni => w::AN_ENI,
            Kind::Instance => w::AN_INSTANCE,
            Kind::Eip => w::AN_EIP,
            Kind::Agent => w::AN_AGENT,
            Kind::Alert => w::AN_ALERT,
        };
        crate::i18n::Text::new(crate::i18n::m::errors::NOT_AN_ID)
            .arg("text", shown.escape_debug())
            .word("kind", kind)
            .arg("prefix", self.kind.prefix())
    }
}

crate::says_by_text!(IdError);

impl std::error::Error for IdError {}

macro_rules! id_types {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const KIND: Kind = Kind::$kind;

            /// A new ID from 8 random numbers.
            pub fn random(random: impl FnMut() -> u32) -> Self {
                $name(make_id(Kind::$kind, random))
            }

            pub fn parse(text: &str) -> Result<Self, IdError> {
                Self::try_from(text.to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The 8 characters after the kind's prefix: the whole ID in 8 bytes.
            pub fn tail(&self) -> IdTail {
                IdTail::of(&self.0)
            }

            pub fn from_tail(tail: IdTail) -> Self {
                $name(tail.with_prefix(Kind::$kind))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                if is_id(Kind::$kind, &text) {
                    Ok($name(text))
                } else {
                    Err(IdError { kind: Kind::$kind, text })
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::try_from(text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

id_types! {
    RegionId => Region;
    VpcId => Vpc;
    SubnetId => Subnet;
    HavipId => Havip;
    /// An instance's network interface: what holds addresses and MACs.
    EniId => Eni;
    InstanceId => Instance;
    EipId => Eip;
    AgentId => Agent;
    AlertId => Alert;
}

/// What uses an address of a subnet (the value of the IP index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressOwner {
    Havip(HavipId),
    Eni(EniId),
}

impl AddressOwner {
    /// Reads an IP-index value; `None` for anything that is not an HAVIP's or an ENI's ID.
    pub fn from_bytes(bytes: &[u8]) -> Option<AddressOwner> {
        let text = std::str::from_utf8(bytes).ok()?;
        HavipId::parse(text)
            .map(AddressOwner::Havip)
            .or_else(|_| EniId::parse(text).map(AddressOwner::Eni))
            .ok()
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            AddressOwner::Havip(id) => id.as_ref(),
            AddressOwner::Eni(id) => id.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_eight_alphanumerics() {
        let mut n = 0u32;
        let id = make_id(Kind::Havip, || {
            n += 7;
            n
        });
        assert_eq!(id, "havip-hov29gnu");
        assert!(is_id(Kind::Havip, &id));
        assert!(!is_id(Kind::Vpc, &id));
        assert!(!is_id(Kind::Havip, "havip-ABCDEFGH"));
        assert!(!is_id(Kind::Havip, "havip-abc"));
    }

    #[test]
    fn typed_ids_refuse_other_kinds_and_malformed_text() {
        let id: HavipId = serde_json::from_str("\"havip-0123abcd\"").unwrap();
        assert_eq!(id, "havip-0123abcd");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"havip-0123abcd\"");
        for bad in [
            "\"eni-0123abcd\"",
            "\"havip-0123ABCD\"",
            "\"havip-\"",
            "\"\"",
            "7",
        ] {
            assert!(serde_json::from_str::<HavipId>(bad).is_err(), "{bad}");
        }
        let e = HavipId::parse("eni-0123abcd").unwrap_err();
        assert!(e.to_string().contains("not an HAVIP ID"), "{e}");
        assert_eq!(
            AddressOwner::from_bytes(b"eni-0123abcd"),
            Some(AddressOwner::Eni(EniId::parse("eni-0123abcd").unwrap()))
        );
        assert_eq!(AddressOwner::from_bytes(b"vpc-0123abcd"), None);
    }

    #[test]
    fn a_tail_gives_back_the_id_and_orders_as_the_ids_do() {
        let a = HavipId::parse("havip-0123abcd").unwrap();
        let b = HavipId::parse("havip-a0000000").unwrap();
        assert_eq!(HavipId::from_tail(a.tail()), a);
        assert_eq!(VpcId::from_tail(a.tail()), "vpc-0123abcd");
        assert_eq!(a.tail().cmp(&b.tail()), a.cmp(&b));
        assert_eq!(std::mem::size_of::<IdTail>(), 8);
    }
}
