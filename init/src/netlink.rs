//! The guest's network setup over rtnetlink (the image has no `ip` binary): bring `lo` and `eth0` up, give
//! eth0 its address and MTU, add the default route. The messages are built and parsed here as pure functions
//! (byte-exact unit tests); the socket calls are in sys.rs.
//!
//! Wire format (netlink(7), rtnetlink(7)): every message is a 16-byte `nlmsghdr` (len, type, flags, seq,
//! pid; host byte order) + a fixed family header (`ifinfomsg`, `ifaddrmsg`, `rtmsg`) + attributes (`rtattr`:
//! u16 len, u16 type, value, padded to 4). Addresses are in network byte order. With NLM_F_ACK the kernel
//! answers each request with an NLMSG_ERROR whose error is 0 (an ACK) or -errno.

use crate::config::Network;
use crate::sys;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_NEWROUTE: u16 = 24;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;

const AF_UNSPEC: u8 = 0;
// the address family byte of ifaddrmsg/rtmsg: sys's AF_INET, which the socket calls use
const AF_INET: u8 = sys::AF_INET as u8;
const IFF_UP: u32 = 0x1;
const IFLA_MTU: u16 = 4;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_HOST: u8 = 254;
const RTN_UNICAST: u8 = 1;

const NLMSG_HDRLEN: usize = 16;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A message under construction: the header's length is patched in by `finish`.
struct Msg(Vec<u8>);

impl Msg {
    fn new(ty: u16, flags: u16, seq: u32) -> Msg {
        let mut b = Vec::with_capacity(64);
        b.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, set by finish
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: 0, the kernel fills in the port id
        Msg(b)
    }

    fn bytes(mut self, b: &[u8]) -> Msg {
        self.0.extend_from_slice(b);
        self
    }

    fn attr(mut self, ty: u16, value: &[u8]) -> Msg {
        let len = 4 + value.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(value);
        self.0.resize(align4(self.0.len()), 0);
        self
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.0.len() as u32;
        self.0[..4].copy_from_slice(&len.to_ne_bytes());
        self.0
    }
}

/// RTM_NEWLINK: set the link up (ifi_flags = ifi_change = IFF_UP) and, when given, its MTU.
pub fn link_up(seq: u32, index: u32, mtu: Option<u32>) -> Vec<u8> {
    // ifinfomsg: family, pad, type (u16), index (i32), flags (u32), change (u32)
    let mut ifi = vec![AF_UNSPEC, 0, 0, 0];
    ifi.extend_from_slice(&(index as i32).to_ne_bytes());
    ifi.extend_from_slice(&IFF_UP.to_ne_bytes());
    ifi.extend_from_slice(&IFF_UP.to_ne_bytes());
    let mut m = Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq).bytes(&ifi);
    if let Some(mtu) = mtu {
        m = m.attr(IFLA_MTU, &mtu.to_ne_bytes());
    }
    m.finish()
}

/// RTM_NEWADDR: an IPv4 address with its prefix on the link, as `ip addr add A/P dev X` sends it (IFA_LOCAL
/// and IFA_ADDRESS both the address; the kernel adds the prefix route). An existing one is an error (EEXIST).
pub fn add_address(seq: u32, index: u32, addr: [u8; 4], prefix: u8) -> Vec<u8> {
    // ifaddrmsg: family, prefixlen, flags, scope, index (u32)
    let scope = if addr[0] == 127 { RT_SCOPE_HOST } else { RT_SCOPE_UNIVERSE };
    let mut ifa = vec![AF_INET, prefix, 0, scope];
    ifa.extend_from_slice(&index.to_ne_bytes());
    Msg::new(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq)
        .bytes(&ifa)
        .attr(IFA_LOCAL, &addr)
        .attr(IFA_ADDRESS, &addr)
        .finish()
}

/// RTM_NEWROUTE: the IPv4 default route via gateway out of the link, in the main table.
pub fn add_default_route(seq: u32, index: u32, gateway: [u8; 4]) -> Vec<u8> {
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (u32)
    let mut rtm = vec![AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST];
    rtm.extend_from_slice(&0u32.to_ne_bytes());
    Msg::new(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq)
        .bytes(&rtm)
        .attr(RTA_GATEWAY, &gateway)
        .attr(RTA_OIF, &index.to_ne_bytes())
        .finish()
}

/// What a buffer read from the socket says about request `seq`.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// NLMSG_ERROR with error 0.
    Ack,
    /// NLMSG_ERROR with -errno: the request failed with errno.
    Error(i32),
    /// Nothing about seq in this buffer (other messages, or none): read again.
    Pending,
}

/// Walks the messages in buf looking for the answer to seq; a truncated or malformed buffer is an error.
pub fn parse_reply(buf: &[u8], seq: u32) -> Result<Reply, String> {
    let mut off = 0;
    while off + NLMSG_HDRLEN <= buf.len() {
        let h = &buf[off..];
        let len = u32::from_ne_bytes(h[0..4].try_into().unwrap()) as usize;
        let ty = u16::from_ne_bytes(h[4..6].try_into().unwrap());
        let mseq = u32::from_ne_bytes(h[8..12].try_into().unwrap());
        if len < NLMSG_HDRLEN || off + len > buf.len() {
            return Err(format!("malformed netlink message: length {len} at offset {off} of {}", buf.len()));
        }
        if ty == NLMSG_ERROR && mseq == seq {
            if len < NLMSG_HDRLEN + 4 {
                return Err(format!("truncated NLMSG_ERROR ({len} bytes)"));
            }
            let err = i32::from_ne_bytes(h[16..20].try_into().unwrap());
            return Ok(if err == 0 { Reply::Ack } else { Reply::Error(-err) });
        }
        off += align4(len);
    }
    if off < buf.len() {
        return Err(format!("{} stray bytes after the last netlink message", buf.len() - off));
    }
    Ok(Reply::Pending)
}

/// "a.b.c.d" to its 4 bytes.
pub fn parse_ipv4(s: &str) -> Result<[u8; 4], String> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for b in out.iter_mut() {
        let p = parts.next().ok_or_else(|| format!("{s:?} is not an IPv4 address"))?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("{s:?} is not an IPv4 address"));
        }
        *b = p.parse().map_err(|_| format!("{s:?} is not an IPv4 address"))?;
    }
    if parts.next().is_some() {
        return Err(format!("{s:?} is not an IPv4 address"));
    }
    Ok(out)
}

/// "a.b.c.d/n" to (address, prefix length).
pub fn parse_cidr(s: &str) -> Result<([u8; 4], u8), String> {
    let (a, p) = s.split_once('/').ok_or_else(|| format!("{s:?} is not address/prefix, e.g. 172.30.0.2/30"))?;
    let prefix: u8 = p.parse().ok().filter(|n| *n <= 32).ok_or_else(|| format!("{s:?} has a bad prefix length"))?;
    Ok((parse_ipv4(a)?, prefix))
}

/// An open NETLINK_ROUTE socket that sends requests one at a time and waits for each one's ACK.
pub struct Rtnl {
    fd: sys::c_int,
    seq: u32,
}

impl Rtnl {
    pub fn open() -> io::Result<Rtnl> {
        Ok(Rtnl { fd: sys::netlink_route_socket()?, seq: 0 })
    }

    /// Sends the message `build(seq)` and waits for its ACK; the kernel's error becomes an io::Error.
    pub fn request(&mut self, build: impl FnOnce(u32) -> Vec<u8>) -> io::Result<()> {
        self.seq += 1;
        let seq = self.seq;
        sys::netlink_send(self.fd, &build(seq))?;
        let mut buf = vec![0u8; 8192];
        loop {
            let n = sys::netlink_recv(self.fd, &mut buf)?;
            match parse_reply(&buf[..n], seq).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))? {
                Reply::Ack => return Ok(()),
                Reply::Error(errno) => return Err(io::Error::from_raw_os_error(errno)),
                Reply::Pending => continue,
            }
        }
    }
}

impl Drop for Rtnl {
    fn drop(&mut self) {
        sys::do_close(self.fd);
    }
}

/// Brings `lo` up, and when `iface` is given: sets it up with `mtu`, gives it `addr_cidr` and adds the
/// default route via `gateway`. Each error names the step that failed.
pub fn configure(iface: &str, addr_cidr: &str, gateway: &str, mtu: u32) -> Result<(), String> {
    let (addr, prefix) = parse_cidr(addr_cidr)?;
    let gw = parse_ipv4(gateway)?;
    let mut nl = Rtnl::open().map_err(|e| format!("cannot open a netlink socket: {e}"))?;
    loopback_up(&mut nl)?;
    let index = sys::if_index(iface).map_err(|e| format!("no network interface {iface}: {e}"))?;
    nl.request(|seq| link_up(seq, index, Some(mtu)))
        .map_err(|e| format!("cannot set {iface} up with MTU {mtu}: {e}"))?;
    nl.request(|seq| add_address(seq, index, addr, prefix))
        .map_err(|e| format!("cannot add address {addr_cidr} to {iface}: {e}"))?;
    nl.request(|seq| add_default_route(seq, index, gw))
        .map_err(|e| format!("cannot add the default route via {gateway} on {iface}: {e}"))?;
    Ok(())
}

/// The interface whose MAC is `mac` in a sysfs `class/net` directory: the VMM gives the guest's NIC the MAC
/// the host chose (normally it is eth0, but the name is the kernel's to pick).
pub fn interface_with_mac(class_net: &Path, mac: &str) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(class_net)
        .ok()?
        .flatten()
        .filter(|e| std::fs::read_to_string(e.path().join("address")).is_ok_and(|a| a.trim().eq_ignore_ascii_case(mac)))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort(); // deterministic if a bond or VLAN shares the MAC
    names.into_iter().next()
}

/// The guest's network at boot (docs/networking.md): `lo` up always; with a network, the interface with its
/// MAC gets the address, MTU and default route. Waits a little for the NIC: virtio-net is normally probed
/// before init runs, but nothing promises it.
pub fn setup_guest(network: Option<&Network>) -> Result<(), String> {
    let Some(n) = network else { return configure_loopback() };
    let class_net = Path::new("/sys/class/net");
    let deadline = Instant::now() + Duration::from_secs(3);
    let iface = loop {
        if let Some(i) = interface_with_mac(class_net, &n.mac) {
            break i;
        }
        if Instant::now() >= deadline {
            let mut have: Vec<String> = std::fs::read_dir(class_net)
                .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            have.sort();
            return Err(format!(
                "cannot configure eth0 ({}): no network interface has that MAC (the guest has {}); is the VM's \
                 NIC attached with the MAC of the run config?",
                n.mac,
                have.join(", ")
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    configure(&iface, &n.address, &n.gateway, n.mtu).map_err(|e| format!("cannot configure {iface} ({}): {e}", n.mac))
}

/// `lo` up (the kernel gives it 127.0.0.1/8 and ::1 itself): what `--network none` still has.
pub fn configure_loopback() -> Result<(), String> {
    let mut nl = Rtnl::open().map_err(|e| format!("cannot open a netlink socket: {e}"))?;
    loopback_up(&mut nl)
}

fn loopback_up(nl: &mut Rtnl) -> Result<(), String> {
    let lo = sys::if_index("lo").map_err(|e| format!("no loopback interface: {e}"))?;
    nl.request(|seq| link_up(seq, lo, None)).map_err(|e| format!("cannot set lo up: {e}"))
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn the_interface_is_found_by_its_mac() {
        let dir = std::env::temp_dir().join(format!("inferno-classnet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, mac) in [("lo", "00:00:00:00:00:00"), ("eth0", "02:42:ac:1e:00:02"), ("eth1", "02:42:ac:1e:00:03")] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            std::fs::write(dir.join(name).join("address"), format!("{mac}\n")).unwrap();
        }
        assert_eq!(interface_with_mac(&dir, "02:42:ac:1e:00:03").as_deref(), Some("eth1"));
        assert_eq!(interface_with_mac(&dir, "02:42:ac:1e:00:02").as_deref(), Some("eth0"));
        assert_eq!(interface_with_mac(&dir, "02:42:ac:1e:00:04"), None);
        assert_eq!(interface_with_mac(&dir.join("missing"), "02:42:ac:1e:00:02"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn netlink_link_up_with_mtu_is_byte_exact() {
        let m = link_up(7, 2, Some(1500));
        #[rustfmt::skip]
        let want: Vec<u8> = vec![
            40, 0, 0, 0,   16, 0,   5, 0,   7, 0, 0, 0,   0, 0, 0, 0, // nlmsghdr: len 40, RTM_NEWLINK, REQUEST|ACK
            0, 0, 0, 0,   2, 0, 0, 0,   1, 0, 0, 0,   1, 0, 0, 0,     // ifinfomsg: index 2, flags UP, change UP
            8, 0, 4, 0,   0xdc, 0x05, 0, 0,                           // IFLA_MTU 1500
        ];
        assert_eq!(m, want);
        // without an MTU: no attribute
        assert_eq!(link_up(1, 1, None).len(), 32);
        assert_eq!(&link_up(1, 1, None)[..4], &[32, 0, 0, 0]);
    }

    #[test]
    fn netlink_add_address_is_byte_exact() {
        let m = add_address(3, 2, [172, 30, 0, 2], 30);
        #[rustfmt::skip]
        let want: Vec<u8> = vec![
            40, 0, 0, 0,   20, 0,   0x05, 0x06,   3, 0, 0, 0,   0, 0, 0, 0, // RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
            2, 30, 0, 0,   2, 0, 0, 0,                                     // ifaddrmsg: AF_INET /30 universe idx 2
            8, 0, 2, 0,   172, 30, 0, 2,                                   // IFA_LOCAL
            8, 0, 1, 0,   172, 30, 0, 2,                                   // IFA_ADDRESS
        ];
        assert_eq!(m, want);
        assert_eq!(add_address(1, 1, [127, 0, 0, 1], 8)[19], RT_SCOPE_HOST);
    }

    #[test]
    fn netlink_default_route_is_byte_exact() {
        let m = add_default_route(4, 2, [172, 30, 0, 1]);
        #[rustfmt::skip]
        let want: Vec<u8> = vec![
            44, 0, 0, 0,   24, 0,   0x05, 0x06,   4, 0, 0, 0,   0, 0, 0, 0, // RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE
            2, 0, 0, 0,   254, 3, 0, 1,   0, 0, 0, 0,                      // rtmsg: inet, main, boot, universe, unicast
            8, 0, 5, 0,   172, 30, 0, 1,                                   // RTA_GATEWAY
            8, 0, 4, 0,   2, 0, 0, 0,                                      // RTA_OIF 2
        ];
        assert_eq!(m, want);
    }

    #[test]
    fn netlink_attributes_are_padded_to_four() {
        let m = Msg::new(RTM_NEWLINK, NLM_F_REQUEST, 1).attr(3, b"eth0\0").finish();
        assert_eq!(m.len(), 16 + 12);
        assert_eq!(&m[16..20], &[9, 0, 3, 0]); // rta_len counts the value, not the padding
        assert_eq!(&m[20..28], b"eth0\0\0\0\0");
    }

    /// An NLMSG_ERROR answering `seq` with `err` (0 = ACK), echoing a 16-byte request header.
    fn error_msg(seq: u32, err: i32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&36u32.to_ne_bytes());
        b.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&1234u32.to_ne_bytes());
        b.extend_from_slice(&err.to_ne_bytes());
        b.extend_from_slice(&link_up(seq, 1, None)[..16]);
        b
    }

    #[test]
    fn netlink_parses_ack_error_and_others() {
        assert_eq!(parse_reply(&error_msg(5, 0), 5), Ok(Reply::Ack));
        assert_eq!(parse_reply(&error_msg(5, -17), 5), Ok(Reply::Error(17))); // EEXIST
        assert_eq!(parse_reply(&error_msg(4, 0), 5), Ok(Reply::Pending)); // another request's answer
        assert_eq!(parse_reply(&[], 5), Ok(Reply::Pending));
        // an answer after another message in the same datagram
        let mut two = error_msg(4, 0);
        two.extend_from_slice(&error_msg(5, -1));
        assert_eq!(parse_reply(&two, 5), Ok(Reply::Error(1)));
        // NLMSG_DONE and the like are skipped
        let mut done = Msg::new(NLMSG_DONE, 0, 5).bytes(&[0, 0, 0, 0]).finish();
        assert_eq!(parse_reply(&done, 5), Ok(Reply::Pending));
        done.extend_from_slice(&error_msg(5, 0));
        assert_eq!(parse_reply(&done, 5), Ok(Reply::Ack));
    }

    #[test]
    fn netlink_rejects_malformed_replies() {
        let mut bad = error_msg(5, 0);
        bad[0] = 200; // longer than the buffer
        assert!(parse_reply(&bad, 5).unwrap_err().contains("malformed"));
        let mut short = error_msg(5, 0);
        short[0] = 8; // shorter than a header
        assert!(parse_reply(&short, 5).unwrap_err().contains("malformed"));
        let mut truncated = error_msg(5, 0);
        truncated[0] = 18;
        truncated.truncate(18);
        assert!(parse_reply(&truncated, 5).unwrap_err().contains("truncated NLMSG_ERROR"));
        let mut stray = error_msg(4, 0);
        stray.extend_from_slice(&[1, 2, 3]);
        assert!(parse_reply(&stray, 5).unwrap_err().contains("3 stray bytes"));
    }

    #[test]
    fn netlink_parses_addresses() {
        assert_eq!(parse_cidr("172.30.0.2/30"), Ok(([172, 30, 0, 2], 30)));
        assert_eq!(parse_ipv4("0.0.0.0"), Ok([0, 0, 0, 0]));
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "a.b.c.d", "1..2.3", "1.2.3.-4", "1.2.3.4 "] {
            assert!(parse_ipv4(bad).is_err(), "{bad:?}");
        }
        assert!(parse_cidr("172.30.0.2").unwrap_err().contains("address/prefix"));
        assert!(parse_cidr("172.30.0.2/33").unwrap_err().contains("bad prefix length"));
        assert!(parse_cidr("172.30.0/30").unwrap_err().contains("not an IPv4 address"));
    }
}
