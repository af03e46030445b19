//! A raw AF_PACKET socket that receives and sends ARP frames on one interface (Linux).

use super::arp::ETH_P_ARP;
use app::domain::mac::Mac;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;

/// Linux's PACKET_IGNORE_OUTGOING (4.20+): do not deliver our own frames back to us.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;

pub struct ArpSocket {
    fd: AsyncFd<OwnedFd>,
    ifindex: i32,
    pub mac: Mac,
}

fn interface_mac(interface: &str) -> io::Result<Mac> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{interface}/address"))?;
    text.trim()
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e}")))
}

fn link_layer_address(ifindex: i32, dest: [u8; 6]) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = ETH_P_ARP.to_be();
    addr.sll_ifindex = ifindex;
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&dest);
    addr
}

impl ArpSocket {
    pub fn open(interface: &str) -> io::Result<ArpSocket> {
        let name = CString::new(interface)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad interface name"))?;
        // SAFETY: plain libc calls with valid arguments; results are checked
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) } as i32;
        if ifindex == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no interface named {interface}"),
            ));
        }
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                i32::from(ETH_P_ARP.to_be()),
            )
        };
        if raw < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EPERM) {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "opening a raw ARP socket needs CAP_NET_RAW: run as root or \
                     `setcap cap_net_raw+ep $(which havip)`",
                ));
            }
            return Err(err);
        }
        // SAFETY: `raw` is a freshly opened descriptor that we own
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let addr = link_layer_address(ifindex, [0; 6]);
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &addr as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        // best effort: older kernels lack it, and we filter our own MAC anyway
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_IGNORE_OUTGOING,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as u32,
            );
        }
        let mac = interface_mac(interface)?;
        // SAFETY: the OwnedFd stays inside the AsyncFd, open and unchanged, for its whole life
        let fd = unsafe { AsyncFd::register(fd) }?;
        Ok(ArpSocket { fd, ifindex, mac })
    }

    /// Receives one frame into `buf`; returns its length.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let result = guard.try_io(|fd| {
                let n = unsafe {
                    libc::recv(
                        fd.as_raw_fd(),
                        buf.as_mut_ptr() as *mut libc::c_void,
                        buf.len(),
                        0,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            if let Ok(result) = result {
                return result;
            }
        }
    }

    /// Sends one broadcast frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let addr = link_layer_address(self.ifindex, [0xff; 6]);
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
                &addr as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
