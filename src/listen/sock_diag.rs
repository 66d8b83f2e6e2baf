//! The owner of one TCP socket of this machine, asked of the kernel by its four addresses (Linux's sock_diag
//! netlink, the interface `ss` uses). The kernel finds the socket by a hash lookup, where reading
//! `/proc/net/tcp` walks every bucket of its connection table: about 6 ms of CPU a new connection on a machine
//! with 24 GB, whatever few sockets it has.
use std::net::{IpAddr, SocketAddr};

/// `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `INET_DIAG_NOCOOKIE`: the lookup is by addresses, not by a socket cookie.
const NO_COOKIE: u32 = !0;

/// `struct nlmsghdr`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Header {
    len: u32,
    kind: u16,
    flags: u16,
    seq: u32,
    pid: u32,
}

/// `struct inet_diag_sockid`: ports and addresses in network byte order.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct SocketId {
    sport: [u8; 2],
    dport: [u8; 2],
    src: [u8; 16],
    dst: [u8; 16],
    interface: u32,
    cookie: [u32; 2],
}

/// `struct inet_diag_req_v2`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Request {
    family: u8,
    protocol: u8,
    ext: u8,
    pad: u8,
    states: u32,
    id: SocketId,
}

/// The start of `struct inet_diag_msg`, up to the owner.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Answer {
    family: u8,
    state: u8,
    timer: u8,
    retrans: u8,
    id: SocketId,
    expires: u32,
    rqueue: u32,
    wqueue: u32,
    uid: u32,
    inode: u32,
}

fn address(ip: IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.copy_from_slice(&v6.octets()),
    }
    out
}

/// The OS user owning the TCP socket whose local address is `local` and remote address `remote` (both of
/// one family); None when there is no such socket or the kernel will not say.
pub fn owner(local: SocketAddr, remote: SocketAddr) -> Option<u32> {
    let family = if local.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let request = Request {
        family: family as u8,
        protocol: libc::IPPROTO_TCP as u8,
        states: !0,
        id: SocketId {
            sport: local.port().to_be_bytes(),
            dport: remote.port().to_be_bytes(),
            src: address(local.ip()),
            dst: address(remote.ip()),
            interface: 0,
            cookie: [NO_COOKIE, NO_COOKIE],
        },
        ..Default::default()
    };
    let header = Header {
        len: (size_of::<Header>() + size_of::<Request>()) as u32,
        kind: SOCK_DIAG_BY_FAMILY,
        flags: libc::NLM_F_REQUEST as u16,
        seq: 1,
        pid: 0,
    };
    // SAFETY: a plain netlink socket, closed below on every path; the buffers outlive the calls that use
    // them and are of the lengths given; the structs are repr(C) with the kernel's layout.
    unsafe {
        let fd = libc::socket(libc::AF_NETLINK, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, libc::NETLINK_SOCK_DIAG);
        if fd < 0 {
            return None;
        }
        let timeout = libc::timeval { tv_sec: 1, tv_usec: 0 };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        );
        let mut message = [0u8; size_of::<Header>() + size_of::<Request>()];
        std::ptr::write_unaligned(message.as_mut_ptr().cast::<Header>(), header);
        std::ptr::write_unaligned(message.as_mut_ptr().add(size_of::<Header>()).cast::<Request>(), request);
        let mut kernel: libc::sockaddr_nl = std::mem::zeroed();
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let sent = libc::sendto(
            fd,
            message.as_ptr().cast(),
            message.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        );
        let mut reply = [0u8; 1024];
        let got =
            if sent == message.len() as isize { libc::recv(fd, reply.as_mut_ptr().cast(), reply.len(), 0) } else { -1 };
        libc::close(fd);
        parse(reply.get(..usize::try_from(got).ok()?)?, local, remote)
    }
}

/// The owner from the kernel's reply: one message answering the request, about that very socket.
fn parse(reply: &[u8], local: SocketAddr, remote: SocketAddr) -> Option<u32> {
    if reply.len() < size_of::<Header>() + size_of::<Answer>() {
        return None;
    }
    // SAFETY: both reads are within `reply`, checked above; any bytes are valid for these plain structs.
    let (header, answer) = unsafe {
        (
            std::ptr::read_unaligned(reply.as_ptr().cast::<Header>()),
            std::ptr::read_unaligned(reply.as_ptr().add(size_of::<Header>()).cast::<Answer>()),
        )
    };
    let same = answer.id.sport == local.port().to_be_bytes()
        && answer.id.dport == remote.port().to_be_bytes()
        && answer.id.src == address(local.ip())
        && answer.id.dst == address(remote.ip());
    (header.kind == SOCK_DIAG_BY_FAMILY && same).then_some(answer.uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_names_the_owner_of_a_connected_socket_and_of_no_other() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let (local, remote) = (client.local_addr().unwrap(), server_side.local_addr().unwrap());
        // SAFETY: getuid has no preconditions.
        let me = unsafe { libc::getuid() };
        assert_eq!(owner(local, remote), Some(me));
        // The server's end of the same connection is found by its own addresses.
        assert_eq!(owner(remote, local), Some(me));
        // No socket has these addresses.
        let nobody = SocketAddr::new(local.ip(), 1);
        assert_eq!(owner(nobody, remote), None);
        drop((client, server_side));
    }

    #[test]
    fn a_reply_about_another_socket_or_cut_short_gives_no_owner() {
        let (a, b): (SocketAddr, SocketAddr) = ("127.0.0.1:5000".parse().unwrap(), "127.0.0.1:8080".parse().unwrap());
        let answer = Answer {
            id: SocketId {
                sport: [0x13, 0x88],
                dport: [0x1f, 0x90],
                src: address(a.ip()),
                dst: address(b.ip()),
                ..Default::default()
            },
            uid: 1000,
            ..Default::default()
        };
        let header = Header { kind: SOCK_DIAG_BY_FAMILY, ..Default::default() };
        let mut reply = vec![0u8; size_of::<Header>() + size_of::<Answer>()];
        // SAFETY: within `reply`, sized for both.
        unsafe {
            std::ptr::write_unaligned(reply.as_mut_ptr().cast::<Header>(), header);
            std::ptr::write_unaligned(reply.as_mut_ptr().add(size_of::<Header>()).cast::<Answer>(), answer);
        }
        assert_eq!(parse(&reply, a, b), Some(1000));
        assert_eq!(parse(&reply, b, a), None, "another socket");
        assert_eq!(parse(&reply[..20], a, b), None, "cut short");
        reply[4] = 2; // NLMSG_ERROR
        assert_eq!(parse(&reply, a, b), None, "an error");
    }
}
