//! HAVIP address rules: which addresses of a subnet are usable, and the one validator for a
//! manually entered address (used by the apply dialog and by the server function).

use crate::i18n::Text;
use ipnet::Ipv4Net;
use std::fmt;
use std::net::Ipv4Addr;

/// Why an entered address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpError {
    Empty,
    Malformed(String),
    OutsideSubnet { ip: Ipv4Addr, subnet: Ipv4Net },
    Reserved { ip: Ipv4Addr, kind: Reserved },
    InUse(Ipv4Addr),
}

/// The three addresses of every subnet that no HAVIP may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    Network,
    Gateway,
    Broadcast,
}

impl fmt::Display for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reserved::Network => "the network address",
            Reserved::Gateway => "the gateway address",
            Reserved::Broadcast => "the broadcast address",
        })
    }
}

impl IpError {
    /// The refusal of a request whose `field` has this address.
    pub fn refusal(self, field: &str) -> super::error::ApiError {
        use super::error::Reason;
        let reason = match &self {
            IpError::Empty | IpError::Malformed(_) => Reason::MalformedIp,
            IpError::OutsideSubnet { .. } => Reason::OutOfRange,
            IpError::Reserved { .. } => Reason::Reserved,
            IpError::InUse(_) => Reason::InUse,
        };
        super::error::ApiError::invalid(field, self).because(reason)
    }
}

impl IpError {
    /// What it says, in the reader's language.
    pub fn text(&self) -> Text {
        use crate::i18n::m::{errors as e, errors_words as w};
        match self {
            IpError::Empty => Text::new(e::IP_EMPTY),
            IpError::Malformed(text) => Text::new(e::IP_MALFORMED).arg("text", text),
            IpError::OutsideSubnet { ip, subnet } => {
                let (first, last) = usable_range(*subnet);
                (Text::new(e::IP_OUTSIDE_SUBNET)
                    .arg("ip", ip)
                    .arg("subnet", subnet))
                .arg("first", first)
                .arg("last", last)
            }
            IpError::Reserved { ip, kind } => Text::new(e::IP_RESERVED).arg("ip", ip).word(
                "kind",
                match kind {
                    Reserved::Network => w::RESERVED_NETWORK,
                    Reserved::Gateway => w::RESERVED_GATEWAY,
                    Reserved::Broadcast => w::RESERVED_BROADCAST,
                },
            ),
            IpError::InUse(ip) => Text::new(e::IP_IN_USE).arg("ip", ip),
        }
    }
}

crate::says_by_text!(IpError);

/// First and last usable address: the network address, the gateway (network + 1) and the
/// broadcast address are reserved. For 10.0.0.0/24 this is 10.0.0.2-10.0.0.254.
pub fn usable_range(subnet: Ipv4Net) -> (Ipv4Addr, Ipv4Addr) {
    let network = u32::from(subnet.network());
    let broadcast = u32::from(subnet.broadcast());
    (Ipv4Addr::from(network + 2), Ipv4Addr::from(broadcast - 1))
}

/// How many addresses of the subnet an HAVIP could ever take.
pub fn usable_count(subnet: Ipv4Net) -> u32 {
    let (first, last) = usable_range(subnet);
    u32::from(last) - u32::from(first) + 1
}

/// Which reserved address `ip` is, if any (assumes `ip` is inside `subnet`).
pub fn reserved_kind(subnet: Ipv4Net, ip: Ipv4Addr) -> Option<Reserved> {
    let n = u32::from(subnet.network());
    match u32::from(ip) {
        x if x == n => Some(Reserved::Network),
        x if x == n + 1 => Some(Reserved::Gateway),
        x if x == u32::from(subnet.broadcast()) => Some(Reserved::Broadcast),
        _ => None,
    }
}

/// Validates a manually entered HAVIP address against its subnet. `in_use` answers whether an
/// address is already taken (the browser, which cannot know, passes `|_| false`).
pub fn check_manual_ip(
    text: &str,
    subnet: Ipv4Net,
    in_use: impl Fn(Ipv4Addr) -> bool,
) -> Result<Ipv4Addr, IpError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(IpError::Empty);
    }
    let ip = parse_ipv4(text).ok_or_else(|| IpError::Malformed(text.to_string()))?;
    if !subnet.contains(&ip) {
        return Err(IpError::OutsideSubnet { ip, subnet });
    }
    if let Some(kind) = reserved_kind(subnet, ip) {
        return Err(IpError::Reserved { ip, kind });
    }
    if in_use(ip) {
        return Err(IpError::InUse(ip));
    }
    Ok(ip)
}

/// Strict dotted-quad parsing: four decimal octets, no leading zeros (which some tools read as
/// octal), no surrounding junk.
pub fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    text.parse::<Ipv4Addr>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn free(_: Ipv4Addr) -> bool {
        false
    }

    #[test]
    fn the_seed_example_range() {
        let (first, last) = usable_range(net("10.0.0.0/24"));
        assert_eq!(first, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(last, Ipv4Addr::new(10, 0, 0, 254));
        assert_eq!(usable_count(net("10.0.0.0/24")), 253);
        assert_eq!(usable_count(net("10.0.0.0/25")), 125);
        assert_eq!(usable_count(net("10.0.0.0/28")), 13);
    }

    #[test]
    fn validation_table() {
        let s = net("10.0.0.0/24");
        let used = |ip: Ipv4Addr| ip == Ipv4Addr::new(10, 0, 0, 7);
        let ok = |t: &str| Ok(t.parse::<Ipv4Addr>().unwrap());
        let cases: Vec<(&str, Result<Ipv4Addr, IpError>)> = vec![
            ("10.0.0.2", ok("10.0.0.2")),
            ("10.0.0.254", ok("10.0.0.254")),
            ("  10.0.0.100 ", ok("10.0.0.100")),
            (
                "10.0.0.0",
                Err(IpError::Reserved {
                    ip: "10.0.0.0".parse().unwrap(),
                    kind: Reserved::Network,
                }),
            ),
            (
                "10.0.0.1",
                Err(IpError::Reserved {
                    ip: "10.0.0.1".parse().unwrap(),
                    kind: Reserved::Gateway,
                }),
            ),
            (
                "10.0.0.255",
                Err(IpError::Reserved {
                    ip: "10.0.0.255".parse().unwrap(),
                    kind: Reserved::Broadcast,
                }),
            ),
            (
                "10.0.1.5",
                Err(IpError::OutsideSubnet {
                    ip: "10.0.1.5".parse().unwrap(),
                    subnet: s,
                }),
            ),
            (
                "192.168.0.5",
                Err(IpError::OutsideSubnet {
                    ip: "192.168.0.5".parse().unwrap(),
                    subnet: s,
                }),
            ),
            ("10.0.0.7", Err(IpError::InUse("10.0.0.7".parse().unwrap()))),
            ("", Err(IpError::Empty)),
            ("   ", Err(IpError::Empty)),
            ("10.0.0", Err(IpError::Malformed("10.0.0".into()))),
            ("10.0.0.256", Err(IpError::Malformed("10.0.0.256".into()))),
            ("10.0.0.08", Err(IpError::Malformed("10.0.0.08".into()))),
            ("10.0.0.5/24", Err(IpError::Malformed("10.0.0.5/24".into()))),
            ("abc", Err(IpError::Malformed("abc".into()))),
            ("::1", Err(IpError::Malformed("::1".into()))),
            ("10.0.0.5x", Err(IpError::Malformed("10.0.0.5x".into()))),
        ];
        for (text, want) in cases {
            assert_eq!(check_manual_ip(text, s, used), want, "input {text:?}");
        }
    }

    #[test]
    fn every_reserved_address_of_small_and_odd_subnets() {
        for cidr in ["172.16.16.0/24", "10.1.2.16/28", "192.168.0.0/16"] {
            let s = net(cidr);
            let n = u32::from(s.network());
            let b = u32::from(s.broadcast());
            for (x, kind) in [
                (n, Reserved::Network),
                (n + 1, Reserved::Gateway),
                (b, Reserved::Broadcast),
            ] {
                let ip = Ipv4Addr::from(x);
                assert_eq!(
                    check_manual_ip(&ip.to_string(), s, free),
                    Err(IpError::Reserved { ip, kind })
                );
            }
            assert!(check_manual_ip(&Ipv4Addr::from(n + 2).to_string(), s, free).is_ok());
            assert!(check_manual_ip(&Ipv4Addr::from(b - 1).to_string(), s, free).is_ok());
        }
    }

    #[test]
    fn messages_say_which_rule() {
        let s = net("10.0.0.0/24");
        let msg = |t: &str| check_manual_ip(t, s, |_| false).unwrap_err().to_string();
        assert!(msg("10.0.0.1").contains("reserved"));
        assert!(msg("10.0.0.1").contains("gateway"));
        assert!(msg("10.0.0.255").contains("broadcast"));
        assert!(msg("10.0.0.0").contains("network address"));
        assert!(msg("10.9.0.3").contains("outside the subnet 10.0.0.0/24"));
        assert!(msg("10.9.0.3").contains("10.0.0.2-10.0.0.254"));
        assert!(msg("x.y").contains("not a valid IPv4"));
    }
}
