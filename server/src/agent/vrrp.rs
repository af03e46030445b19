//! VRRP adverts on the wire (RFC 3768 version 2, RFC 5798 version 3, IPv4): Ethernet, an IP
//! header with protocol 112 sent to 224.0.0.18 with TTL 255, then the advert. What they say is
//! `app::domain::vrrp`.

use app::domain::mac::Mac;
use app::domain::vrrp::Advert;
use std::net::Ipv4Addr;

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// The Ethernet group address of 224.0.0.18, where VRRP adverts are multicast.
pub const GROUP_MAC: [u8; 6] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12];
pub const ETH_P_IP: u16 = 0x0800;
const ETH_HEADER: usize = 14;

/// The advert an Ethernet frame carries; `None` for anything else, or anything malformed
/// (a router's adverts are sent with TTL 255: one forwarded by a router is not one of ours).
pub fn parse(frame: &[u8]) -> Option<Advert> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    if ethertype != ETH_P_IP {
        return None;
    }
    let mac = Mac(frame.get(6..12)?.try_into().ok()?);
    let ip = frame.get(ETH_HEADER..)?;
    let header = usize::from(ip.first()? & 0x0f) * 4;
    if ip.first()? >> 4 != 4 || header < 20 || ip.len() < header {
        return None;
    }
    if ip[9] != IPPROTO_VRRP || ip[8] != 255 {
        return None;
    }
    let router = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
    let vrrp = ip.get(header..total)?;
    let (version, kind) = (vrrp.first()? >> 4, vrrp.first()? & 0x0f);
    if kind != 1 || !(2..=3).contains(&version) {
        return None;
    }
    let (vrid, priority, count) = (*vrrp.get(1)?, *vrrp.get(2)?, usize::from(*vrrp.get(3)?));
    let interval_ms = match version {
        // advert interval in seconds
        2 => u32::from(*vrrp.get(5)?) * 1000,
        // 12 bits of centiseconds
        _ => u32::from(u16::from_be_bytes([*vrrp.get(4)?, *vrrp.get(5)?]) & 0x0fff) * 10,
    };
    let addresses = vrrp
        .get(8..8 + 4 * count)?
        .chunks_exact(4)
        .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        .collect();
    Some(Advert {
        version,
        vrid,
        priority,
        router,
        mac,
        interval_ms,
        addresses,
    })
}

/// A classic BPF program for the raw socket: IPv4 frames of protocol 112 only, so the agent
/// reads nothing else of the host's traffic.
pub fn filter() -> Vec<socket2::SockFilter> {
    let op = socket2::SockFilter::new;
    const LDH_ABS: u16 = 0x28;
    const LDB_ABS: u16 = 0x30;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    vec![
        op(LDH_ABS, 0, 0, 12),                    // the ethertype
        op(JEQ_K, 0, 3, u32::from(ETH_P_IP)),     // IPv4, else drop
        op(LDB_ABS, 0, 0, 23),                    // the IP protocol
        op(JEQ_K, 0, 1, u32::from(IPPROTO_VRRP)), // VRRP, else drop
        op(RET_K, 0, 0, 0xffff),                  // take the frame
        op(RET_K, 0, 0, 0),                       // drop it
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived's advert for VRID 51, priority 150, 172.16.16.12, as tcpdump -xx shows it
    /// (version 2, PASS authentication "1111").
    fn advert_v2() -> Vec<u8> {
        let mut f = vec![];
        f.extend([0x01, 0x00, 0x5e, 0x00, 0x00, 0x12]); // to the group
        f.extend([0x02, 0x00, 0x00, 0x16, 0x16, 0x05]); // from the router's MAC
        f.extend([0x08, 0x00]);
        f.extend([
            0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 112, 0, 0,
        ]);
        f.extend([172, 16, 16, 5, 224, 0, 0, 18]);
        f.extend([0x21, 51, 150, 1, 1, 1, 0, 0]); // v2 advert, VRID, priority, 1 address, PASS, 1 s
        f.extend([172, 16, 16, 12]);
        f.extend(b"1111\0\0\0\0");
        f
    }

    #[test]
    fn a_version_2_advert_says_its_vrid_priority_router_and_addresses() {
        let a = parse(&advert_v2()).unwrap();
        assert_eq!(
            (a.version, a.vrid, a.priority, a.router, a.interval_ms),
            (2, 51, 150, Ipv4Addr::new(172, 16, 16, 5), 1000)
        );
        assert_eq!(a.mac, "02:00:00:16:16:05".parse().unwrap());
        assert_eq!(a.addresses, vec![Ipv4Addr::new(172, 16, 16, 12)]);
    }

    #[test]
    fn a_version_3_advert_gives_its_interval_in_centiseconds() {
        let mut f = advert_v2();
        let vrrp = ETH_HEADER + 20;
        f[vrrp] = 0x31;
        f[vrrp + 4..vrrp + 6].copy_from_slice(&[0x00, 0x64]); // 100 cs
        let a = parse(&f).unwrap();
        assert_eq!((a.version, a.interval_ms), (3, 1000));
    }

    #[test]
    fn anything_else_is_no_advert() {
        let good = advert_v2();
        let vrrp = ETH_HEADER + 20;
        type Damage = Box<dyn Fn(&mut Vec<u8>)>;
        let broken: Vec<(&str, Damage)> = vec![
            ("forwarded (TTL 254)", Box::new(|f| f[ETH_HEADER + 8] = 254)),
            ("another protocol", Box::new(|f| f[ETH_HEADER + 9] = 17)),
            (
                "an ARP frame",
                Box::new(|f| f[12..14].copy_from_slice(&[0x08, 0x06])),
            ),
            ("not an advert", Box::new(move |f| f[vrrp] = 0x22)),
            ("version 1", Box::new(move |f| f[vrrp] = 0x11)),
            (
                "more addresses than sent",
                Box::new(move |f| f[vrrp + 3] = 9),
            ),
            ("cut short", Box::new(|f| f.truncate(30))),
            (
                "an IP header of 8 bytes",
                Box::new(|f| f[ETH_HEADER] = 0x42),
            ),
        ];
        for (what, damage) in broken {
            let mut f = good.clone();
            damage(&mut f);
            assert_eq!(parse(&f), None, "{what}");
        }
        for n in 0..good.len() {
            let _ = parse(&good[..n]); // never panics
        }
    }
}
