//! Rules for VPC and subnet CIDR blocks.

use ipnet::Ipv4Net;

/// The private ranges a VPC may use.
pub const PRIVATE_RANGES: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
pub const VPC_PREFIX: (u8, u8) = (12, 28);
pub const SUBNET_PREFIX: (u8, u8) = (16, 28);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    Malformed(String),
    HostBitsSet { given: String, network: Ipv4Net },
    NotPrivate(Ipv4Net),
    PrefixOutOfRange { net: Ipv4Net, min: u8, max: u8 },
    OutsideVpc { net: Ipv4Net, vpc: Ipv4Net },
    Overlaps { net: Ipv4Net, other: Ipv4Net },
}

impl CidrError {
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::{m::errors as e, Text};
        match self {
            CidrError::Malformed(t) => Text::new(e::CIDR_MALFORMED).arg("text", t),
            CidrError::HostBitsSet { given, network } => Text::new(e::CIDR_HOST_BITS)
                .arg("given", given)
                .arg("network", network),
            CidrError::NotPrivate(n) => Text::new(e::CIDR_NOT_PRIVATE).arg("net", n),
            CidrError::PrefixOutOfRange { net, min, max } => (Text::new(e::CIDR_PREFIX))
                .arg("net", net)
                .arg("min", min)
                .arg("max", max),
            CidrError::OutsideVpc { net, vpc } => Text::new(e::CIDR_OUTSIDE_VPC)
                .arg("net", net)
                .arg("vpc", vpc),
            CidrError::Overlaps { net, other } => Text::new(e::CIDR_OVERLAPS)
                .arg("net", net)
                .arg("other", other),
        }
    }
}

crate::says_by_text!(CidrError);

fn parse_network(text: &str) -> Result<Ipv4Net, CidrError> {
    let text = text.trim();
    let net: Ipv4Net = text
        .parse()
        .map_err(|_| CidrError::Malformed(text.to_string()))?;
    if net != net.trunc() {
        return Err(CidrError::HostBitsSet {
            given: text.to_string(),
            network: net.trunc(),
        });
    }
    Ok(net)
}

fn check_prefix(net: Ipv4Net, (min, max): (u8, u8)) -> Result<(), CidrError> {
    if net.prefix_len() < min || net.prefix_len() > max {
        return Err(CidrError::PrefixOutOfRange { net, min, max });
    }
    Ok(())
}

/// A VPC block: inside a private range, mask /12-/28.
pub fn check_vpc_cidr(text: &str) -> Result<Ipv4Net, CidrError> {
    let net = parse_network(text)?;
    let private = PRIVATE_RANGES
        .iter()
        .any(|r| r.parse::<Ipv4Net>().is_ok_and(|r| r.contains(&net)));
    if !private {
        return Err(CidrError::NotPrivate(net));
    }
    check_prefix(net, VPC_PREFIX)?;
    Ok(net)
}

/// A subnet block: inside its VPC, mask /16-/28, no overlap with the VPC's other subnets.
pub fn check_subnet_cidr(
    text: &str,
    vpc: Ipv4Net,
    siblings: &[Ipv4Net],
) -> Result<Ipv4Net, CidrError> {
    let net = parse_network(text)?;
    check_prefix(net, SUBNET_PREFIX)?;
    if !vpc.contains(&net) {
        return Err(CidrError::OutsideVpc { net, vpc });
    }
    if let Some(other) = siblings
        .iter()
        .find(|o| o.contains(&net) || net.contains(*o))
    {
        return Err(CidrError::Overlaps { net, other: *other });
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn vpc_blocks() {
        assert_eq!(check_vpc_cidr("172.16.0.0/16"), Ok(n("172.16.0.0/16")));
        assert_eq!(check_vpc_cidr("10.0.0.0/12"), Ok(n("10.0.0.0/12")));
        assert!(matches!(
            check_vpc_cidr("10.0.0.0/8"),
            Err(CidrError::PrefixOutOfRange { .. })
        ));
        assert!(matches!(
            check_vpc_cidr("10.0.0.0/29"),
            Err(CidrError::PrefixOutOfRange { .. })
        ));
        assert_eq!(
            check_vpc_cidr("8.8.0.0/16"),
            Err(CidrError::NotPrivate(n("8.8.0.0/16")))
        );
        assert!(matches!(
            check_vpc_cidr("172.32.0.0/16"),
            Err(CidrError::NotPrivate(_))
        ));
        assert!(matches!(
            check_vpc_cidr("10.0.0.1/16"),
            Err(CidrError::HostBitsSet { .. })
        ));
        assert!(matches!(
            check_vpc_cidr("10.0.0.0"),
            Err(CidrError::Malformed(_))
        ));
        assert!(matches!(
            check_vpc_cidr("banana"),
            Err(CidrError::Malformed(_))
        ));
    }

    #[test]
    fn subnet_blocks() {
        let vpc = n("172.16.0.0/16");
        let sib = [n("172.16.16.0/24")];
        assert_eq!(
            check_subnet_cidr("172.16.17.0/24", vpc, &sib),
            Ok(n("172.16.17.0/24"))
        );
        assert!(matches!(
            check_subnet_cidr("172.17.0.0/24", vpc, &sib),
            Err(CidrError::OutsideVpc { .. })
        ));
        assert!(matches!(
            check_subnet_cidr("172.16.16.128/25", vpc, &sib),
            Err(CidrError::Overlaps { .. })
        ));
        assert!(matches!(
            check_subnet_cidr("172.16.0.0/16", vpc, &sib),
            Err(CidrError::Overlaps { .. })
        ));
        assert!(matches!(
            check_subnet_cidr("172.16.0.0/15", vpc, &[]),
            Err(CidrError::PrefixOutOfRange { .. })
        ));
        assert!(matches!(
            check_subnet_cidr("172.16.0.0/29", vpc, &[]),
            Err(CidrError::PrefixOutOfRange { .. })
        ));
    }
}
