//! Ethernet + ARP frames for IPv4 over Ethernet: parsing what the wire carries, building probes.

use app::domain::mac::Mac;
use std::net::Ipv4Addr;

pub const ETH_P_ARP: u16 = 0x0806;
const ETH_HEADER: usize = 14;
const ARP_BODY: usize = 28;
pub const FRAME_LEN: usize = ETH_HEADER + ARP_BODY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Request,
    Reply,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    pub op: Op,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Truncated(usize),
    NotArp(u16),
    HardwareType(u16),
    ProtocolType(u16),
    AddressLengths(u8, u8),
    Opcode(u16),
}

impl Arp {
    /// Sender IP == target IP: an announcement ("who-has VIP tell VIP", or the reply form).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip && !self.sender_ip.is_unspecified()
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn mac_at(b: &[u8], at: usize) -> Mac {
    Mac(b[at..at + 6].try_into().expect("6 bytes"))
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// Parses one Ethernet frame carrying an IPv4-over-Ethernet ARP packet (padding allowed).
pub fn parse(frame: &[u8]) -> Result<Arp, ParseError> {
    if frame.len() < FRAME_LEN {
        return Err(ParseError::Truncated(frame.len()));
    }
    let ethertype = be16(frame, 12);
    if ethertype != ETH_P_ARP {
        return Err(ParseError::NotArp(ethertype));
    }
    let a = &frame[ETH_HEADER..];
    match (be16(a, 0), be16(a, 2), a[4], a[5]) {
        (1, 0x0800, 6, 4) => {}
        (htype, _, _, _) if htype != 1 => return Err(ParseError::HardwareType(htype)),
        (_, ptype, _, _) if ptype != 0x0800 => return Err(ParseError::ProtocolType(ptype)),
        (_, _, hlen, plen) => return Err(ParseError::AddressLengths(hlen, plen)),
    }
    let op = match be16(a, 6) {
        1 => Op::Request,
        2 => Op::Reply,
        other => return Err(ParseError::Opcode(other)),
    };
    Ok(Arp {
        op,
        sender_mac: mac_at(a, 8),
        sender_ip: ip_at(a, 14),
        target_mac: mac_at(a, 18),
        target_ip: ip_at(a, 24),
    })
}

/// An RFC 5227 probe: broadcast "who-has `target` tell 0.0.0.0" from `our_mac`. It needs no
/// address of ours on the subnet and does not disturb any host's ARP cache.
pub fn probe(our_mac: Mac, target: Ipv4Addr) -> [u8; FRAME_LEN] {
    let mut f = [0u8; FRAME_LEN];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&our_mac.0);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    let a = &mut f[ETH_HEADER..];
    a[0..2].copy_from_slice(&1u16.to_be_bytes());
    a[2..4].copy_from_slice(&0x0800u16.to_be_bytes());
    a[4] = 6;
    a[5] = 4;
    a[6..8].copy_from_slice(&1u16.to_be_bytes());
    a[8..14].copy_from_slice(&our_mac.0);
    // sender IP 0.0.0.0, target MAC zero
    a[24..28].copy_from_slice(&target.octets());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Mac = Mac([2, 0, 0, 0x16, 0x16, 5]);
    const ME: Mac = Mac([2, 0, 0, 0x16, 0x16, 0x99]);

    fn frame(op: u16, smac: Mac, sip: [u8; 4], tmac: Mac, tip: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&smac.0);
        f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4]);
        f.extend_from_slice(&op.to_be_bytes());
        f.extend_from_slice(&smac.0);
        f.extend_from_slice(&sip);
        f.extend_from_slice(&tmac.0);
        f.extend_from_slice(&tip);
        f
    }

    #[test]
    fn gratuitous_request_as_keepalived_sends_it() {
        let f = frame(1, A, [172, 16, 16, 12], Mac([0xff; 6]), [172, 16, 16, 12]);
        let arp = parse(&f).unwrap();
        assert_eq!(arp.op, Op::Request);
        assert_eq!(arp.sender_mac, A);
        assert_eq!(arp.sender_ip, Ipv4Addr::new(172, 16, 16, 12));
        assert!(arp.is_gratuitous());
    }

    #[test]
    fn reply_to_our_probe() {
        let f = frame(2, A, [172, 16, 16, 12], ME, [0, 0, 0, 0]);
        let arp = parse(&f).unwrap();
        assert_eq!(arp.op, Op::Reply);
        assert_eq!(arp.target_mac, ME);
        assert!(!arp.is_gratuitous());
    }

    #[test]
    fn ordinary_request_and_padded_frame() {
        let mut f = frame(1, A, [172, 16, 16, 5], Mac([0; 6]), [172, 16, 16, 6]);
        f.extend_from_slice(&[0u8; 18]); // Ethernet minimum-size padding
        let arp = parse(&f).unwrap();
        assert!(!arp.is_gratuitous());
        assert_eq!(arp.target_ip, Ipv4Addr::new(172, 16, 16, 6));
    }

    #[test]
    fn our_probe_parses_back() {
        let p = probe(ME, Ipv4Addr::new(172, 16, 16, 12));
        let arp = parse(&p).unwrap();
        assert_eq!(
            (arp.op, arp.sender_mac, arp.sender_ip),
            (Op::Request, ME, Ipv4Addr::UNSPECIFIED)
        );
        assert_eq!(arp.target_ip, Ipv4Addr::new(172, 16, 16, 12));
        assert!(
            !arp.is_gratuitous(),
            "a probe from 0.0.0.0 is not an announcement"
        );
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let good = frame(2, A, [10, 0, 0, 2], ME, [0, 0, 0, 0]);
        for n in 0..FRAME_LEN {
            assert_eq!(parse(&good[..n]), Err(ParseError::Truncated(n)));
        }
        let mut ipv4 = good.clone();
        ipv4[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(parse(&ipv4), Err(ParseError::NotArp(0x0800)));
        let mut hw = good.clone();
        hw[14..16].copy_from_slice(&6u16.to_be_bytes());
        assert_eq!(parse(&hw), Err(ParseError::HardwareType(6)));
        let mut proto = good.clone();
        proto[16..18].copy_from_slice(&0x86ddu16.to_be_bytes());
        assert_eq!(parse(&proto), Err(ParseError::ProtocolType(0x86dd)));
        let mut lens = good.clone();
        lens[19] = 16;
        assert_eq!(parse(&lens), Err(ParseError::AddressLengths(6, 16)));
        let mut op = good.clone();
        op[20..22].copy_from_slice(&9u16.to_be_bytes());
        assert_eq!(parse(&op), Err(ParseError::Opcode(9)));
    }
}
