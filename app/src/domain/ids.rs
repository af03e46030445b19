//! Resource IDs: a kind prefix and 8 random lowercase alphanumerics, like `havip-3kd92mzq`.

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

/// Whether `text` looks like an ID of `kind` (cheap check before a lookup).
pub fn is_id(kind: Kind, text: &str) -> bool {
    text.strip_prefix(kind.prefix())
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|tail| tail.len() == 8 && tail.bytes().all(|b| ID_ALPHABET.contains(&b)))
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
}
