//! Who is at the other end of a connection: its address, the address it reached (the listener's, or the
//! machine's LAN address when bound to all of them), and, for a connection from this machine on Linux, the
//! OS user that owns the client's socket. On 127.0.0.1 every local process shares the till's address; the
//! OS user is what a process cannot borrow from another (the kernel knows each socket's owner: `sock_diag`).
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

/// One connection's client, in every request's extensions (`Arc<Peer>`) and beside every framed message.
#[derive(Debug)]
pub struct Peer {
    pub remote: SocketAddr,
    pub local: SocketAddr,
    uid: OnceLock<Option<u32>>,
}

impl Peer {
    pub fn new(remote: SocketAddr, local: SocketAddr) -> Peer {
        Peer { remote, local, uid: OnceLock::new() }
    }

    /// The OS user owning the client's socket, for a connection from this machine on Linux; read once per
    /// connection, when first asked.
    pub fn uid(&self) -> Option<u32> {
        *self
            .uid
            .get_or_init(|| if self.remote.ip().is_loopback() { socket_owner(self.remote, self.local) } else { None })
    }
}

/// IPv4 addresses mapped into IPv6 (a dual-stack listener) as the IPv4 they are.
fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), addr.port()),
            None => addr,
        },
        IpAddr::V4(_) => addr,
    }
}

/// `/proc/net/tcp`'s spelling of an address: each 32-bit word of the address in the kernel's byte order,
/// then the port, in hex.
fn proc_spelling(addr: SocketAddr) -> String {
    let words: Vec<String> = match addr.ip() {
        IpAddr::V4(v4) => vec![format!("{:08X}", u32::from_ne_bytes(v4.octets()))],
        IpAddr::V6(v6) => {
            v6.octets().chunks(4).map(|c| format!("{:08X}", u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
    };
    format!("{}:{:04X}", words.concat(), addr.port())
}

/// The owner of the socket whose local address is `client` and remote address `server`: asked of the kernel
/// (sock_diag), else read from `/proc/net/tcp` (a kernel without the diag module). The kernel writes that
/// table as it walks its sockets, so a walk that meets other connections opening and closing can miss one: the
/// table is read in one large read, up to three times.
#[cfg(target_os = "linux")]
fn socket_owner(client: SocketAddr, server: SocketAddr) -> Option<u32> {
    use std::io::Read;
    let (client, server) = (canonical(client), canonical(server));
    if let Some(uid) = super::sock_diag::owner(client, server) {
        return Some(uid);
    }
    let table = if client.is_ipv4() { "/proc/net/tcp" } else { "/proc/net/tcp6" };
    let (local, remote) = (proc_spelling(client), proc_spelling(server));
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..3 {
        let mut file = std::fs::File::open(table).ok()?;
        let mut text = Vec::new();
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => text.extend_from_slice(&buf[..n]),
                Err(_) => return None,
            }
        }
        let text = String::from_utf8_lossy(&text);
        let found = text.lines().skip(1).find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&local.as_str()) && fields.get(2) == Some(&remote.as_str()))
                .then(|| fields.get(7)?.parse().ok())
                .flatten()
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(not(target_os = "linux"))]
fn socket_owner(_client: SocketAddr, _server: SocketAddr) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_spelled_as_the_kernel_lists_them() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(proc_spelling(v4), "0100007F:1F90");
        }
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:8080".parse().unwrap();
        assert_eq!(canonical(mapped), v4);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_owner_of_a_local_client_socket_is_this_process_user() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, remote) = listener.accept().unwrap();
        let peer = Peer::new(remote, server_side.local_addr().unwrap());
        // SAFETY: getuid has no preconditions.
        let me = unsafe { libc::getuid() };
        assert_eq!(peer.uid(), Some(me));
        drop(client);
    }
}
