//! Raw AF_PACKET sockets on one interface (Linux): one receives and sends ARP frames, one
//! receives VRRP adverts.

use super::arp::ETH_P_ARP;
use app::domain::mac::Mac;
use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};
use std::ffi::CString;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use tokio::io::unix::AsyncFd;

/// Linux's PACKET_IGNORE_OUTGOING (4.20+): do not deliver our own frames back to us.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;

pub struct ArpSocket {
    fd: AsyncFd<Socket>,
    /// Where probes go: the broadcast address on our interface.
    broadcast: SockAddr,
    pub mac: Mac,
}

fn interface_mac(interface: &str) -> io::Result<Mac> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{interface}/address"))?;
    text.trim()
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e}")))
}

fn interface_index(interface: &str) -> io::Result<i32> {
    let name = CString::new(interface)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad interface name"))?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call, which only reads it
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    match i32::try_from(ifindex) {
        Ok(index) if index > 0 => Ok(index),
        _ => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface named {interface}"),
        )),
    }
}

/// The link-layer address of `dest` on interface `ifindex`, for ARP frames.
fn link_layer_address(ifindex: i32, dest: [u8; 6]) -> SockAddr {
    link_layer_address_for(ifindex, dest, ETH_P_ARP)
}

/// The link-layer address of `dest` on interface `ifindex`, for frames of `protocol`.
fn link_layer_address_for(ifindex: i32, dest: [u8; 6], protocol: u16) -> SockAddr {
    let mut sll_addr = [0u8; 8];
    sll_addr[..6].copy_from_slice(&dest);
    let addr = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: protocol.to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 6,
        sll_addr,
    };
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: sockaddr_ll is one of this platform's sockaddr types and fits in the storage
    // (`view_as` asserts it); the storage then holds a complete sockaddr_ll of family
    // AF_PACKET, and the length given is exactly that of a sockaddr_ll.
    unsafe {
        *storage.view_as::<libc::sockaddr_ll>() = addr;
        SockAddr::new(
            storage,
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    }
}

/// Asks the kernel not to hand our own frames back to us. Kernels before 4.20 lack the
/// option; that is fine, because the watcher ignores frames from our own MAC anyway.
fn ignore_outgoing(socket: &Socket) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: the descriptor is open (borrowed from `socket`); the option value points to a
    // live c_int and the length given is exactly its size; the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ENOPROTOOPT) {
        tracing::warn!(
            "agent: this kernel cannot drop our own frames (PACKET_IGNORE_OUTGOING needs \
             Linux 4.20); they are filtered in user space by our MAC instead"
        );
        return Ok(());
    }
    Err(io::Error::new(
        err.kind(),
        format!("setting PACKET_IGNORE_OUTGOING: {err}"),
    ))
}

/// A raw socket for frames of `protocol` (an ethertype).
fn packet_socket(protocol: u16) -> io::Result<Socket> {
    Socket::new(
        Domain::PACKET,
        Type::RAW.nonblocking().cloexec(),
        Some(Protocol::from(i32::from(protocol.to_be()))),
    )
    .map_err(|err| {
        if err.raw_os_error() == Some(libc::EPERM) {
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                "opening a raw socket needs CAP_NET_RAW: run as root or \
                 `setcap cap_net_raw+ep $(which havip)`",
            )
        } else {
            err
        }
    })
}

/// Reads one frame from `fd` into `buf`; returns its length.
async fn recv_from(fd: &AsyncFd<Socket>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        if let Ok(result) = guard.try_io(|fd| fd.get_ref().read(buf)) {
            return result;
        }
    }
}

/// Receives the VRRP adverts multicast on one interface (and nothing else: a BPF filter
/// passes only IP protocol 112).
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
}

impl VrrpSocket {
    pub fn open(interface: &str) -> io::Result<VrrpSocket> {
        use super::vrrp::{filter, ETH_P_IP, GROUP_MAC};
        let ifindex = interface_index(interface)?;
        let socket = packet_socket(ETH_P_IP)?;
        socket.attach_filter(&filter())?;
        socket.bind(&link_layer_address_for(ifindex, [0; 6], ETH_P_IP))?;
        // the interface takes VRRP's group address (a NIC drops other multicast frames)
        let mut mr_address = [0u8; 8];
        mr_address[..6].copy_from_slice(&GROUP_MAC);
        let membership = libc::packet_mreq {
            mr_ifindex: ifindex,
            mr_type: libc::PACKET_MR_MULTICAST as u16,
            mr_alen: 6,
            mr_address,
        };
        // SAFETY: the descriptor is open (borrowed from `socket`); the option value points to
        // a live packet_mreq and the length given is exactly its size; the kernel only reads it.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                &membership as *const libc::packet_mreq as *const libc::c_void,
                std::mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as for `ArpSocket::open`: the Socket stays inside the AsyncFd, open, for its
        // whole life.
        let fd = unsafe { AsyncFd::register(socket) }?;
        Ok(VrrpSocket { fd })
    }

    /// Receives one frame into `buf`; returns its length.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        recv_from(&self.fd, buf).await
    }
}

impl ArpSocket {
    pub fn open(interface: &str) -> io::Result<ArpSocket> {
        let ifindex = interface_index(interface)?;
        let socket = packet_socket(ETH_P_ARP)?;
        socket.bind(&link_layer_address(ifindex, [0; 6]))?;
        ignore_outgoing(&socket)?;
        let mac = interface_mac(interface)?;
        // SAFETY: the Socket owns its descriptor and stays inside the AsyncFd, open and
        // unchanged, for the AsyncFd's whole life (nothing takes it out or closes it).
        let fd = unsafe { AsyncFd::register(socket) }?;
        Ok(ArpSocket {
            fd,
            broadcast: link_layer_address(ifindex, [0xff; 6]),
            mac,
        })
    }

    /// Receives one frame into `buf`; returns its length.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        recv_from(&self.fd, buf).await
    }

    /// Sends one broadcast frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        self.fd.get_ref().send_to(frame, &self.broadcast)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_layer_address_is_a_complete_sockaddr_ll() {
        let addr = link_layer_address(7, [0xff; 6]);
        assert_eq!(addr.family(), libc::AF_PACKET as libc::sa_family_t);
        assert_eq!(
            addr.len() as usize,
            std::mem::size_of::<libc::sockaddr_ll>()
        );
        // SAFETY: `as_ptr` points at storage holding the sockaddr_ll written above
        let ll = unsafe { &*(addr.as_ptr() as *const libc::sockaddr_ll) };
        assert_eq!(ll.sll_ifindex, 7);
        assert_eq!(ll.sll_protocol, ETH_P_ARP.to_be());
        assert_eq!(ll.sll_halen, 6);
        assert_eq!(ll.sll_addr, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]);
    }

    #[test]
    fn unknown_interfaces_are_named() {
        let err = interface_index("havip-none0").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("havip-none0"));
        assert_eq!(
            interface_index("a\0b").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    /// The real thing, as root: `ip netns add t; ip -n t link add a type veth peer name b;
    /// ip -n t link set a up; ip -n t link set b up`, then run this test binary under
    /// `ip netns exec t env HAVIP_TEST_VETH=a,b … --ignored probes_cross_a_veth_pair`.
    /// `end2end/lab/run.sh` runs it so, in the lab's agent namespace.
    #[tokio::test]
    #[ignore = "needs CAP_NET_RAW and a veth pair named in HAVIP_TEST_VETH=a,b (end2end/lab/run.sh runs it)"]
    async fn probes_cross_a_veth_pair() {
        use super::super::arp::{parse, probe};
        use std::time::Duration;
        use tokio::time::timeout;
        let pair = std::env::var("HAVIP_TEST_VETH").expect("HAVIP_TEST_VETH=a,b");
        let (a, b) = pair.split_once(',').expect("HAVIP_TEST_VETH=a,b");
        let (sa, sb) = (ArpSocket::open(a).unwrap(), ArpSocket::open(b).unwrap());
        let target = std::net::Ipv4Addr::new(192, 0, 2, 1);
        sa.send(&probe(sa.mac, target)).unwrap();
        let mut buf = [0u8; 2048];
        let n = timeout(Duration::from_secs(1), sb.recv(&mut buf))
            .await
            .expect("the probe reached the other end")
            .unwrap();
        let arp = parse(&buf[..n]).unwrap();
        assert_eq!((arp.sender_mac, arp.target_ip), (sa.mac, target));
        // our own frame is not read back: the first frame `a` reads is the one `b` sent after
        let other = std::net::Ipv4Addr::new(192, 0, 2, 2);
        sb.send(&probe(sb.mac, other)).unwrap();
        let n = timeout(Duration::from_secs(1), sa.recv(&mut buf))
            .await
            .expect("b's probe reached a")
            .unwrap();
        let first = parse(&buf[..n]).unwrap();
        assert_eq!(
            (first.sender_mac, first.target_ip),
            (sb.mac, other),
            "our own frame came back first"
        );
    }
}
