//! A minimal SOCKS5 client (RFC 1928 CONNECT, with RFC 1929 username/password or no auth).
//!
//! Some OFD deployments reach the operator through a proxy ("software VPN"); this opens a tunnel
//! that the frame code then uses like a plain TCP stream.
use std::net::IpAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Proxy settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socks5Proxy {
    /// `host:port` of the proxy.
    pub addr: String,
    /// Username and password (RFC 1929); `None` offers only "no authentication".
    pub auth: Option<(String, String)>,
}

/// Why the proxy did not give a tunnel.
#[derive(Debug, thiserror::Error)]
pub enum Socks5Error {
    #[error("i/o error talking to the SOCKS5 proxy: {0}")]
    Io(#[from] std::io::Error),
    #[error("proxy answered with SOCKS version {0}, expected 5")]
    BadVersion(u8),
    #[error("proxy accepts none of the offered authentication methods")]
    NoAcceptableMethod,
    #[error("proxy chose method {0:#04x}, which was not offered")]
    UnexpectedMethod(u8),
    #[error("proxy rejected the username/password (status {0})")]
    AuthFailed(u8),
    #[error("username, password or host name longer than 255 bytes")]
    FieldTooLong,
    #[error("proxy refused CONNECT with reply code {0}")]
    ConnectFailed(u8),
    #[error("proxy reply has unknown address type {0}")]
    BadAddressType(u8),
    #[error("target address {0:?} is not host:port")]
    BadTarget(String),
}

/// Connects to `target` (`host:port`) through the proxy and returns the tunnelled stream.
pub async fn connect(proxy: &Socks5Proxy, target: &str) -> Result<TcpStream, Socks5Error> {
    let (host, port) = split_host_port(target)?;
    let mut s = TcpStream::connect(&proxy.addr).await?;
    s.set_nodelay(true)?;

    // Greeting: offer no-auth, plus username/password when configured.
    let greeting: &[u8] = if proxy.auth.is_some() { &[5, 2, 0x00, 0x02] } else { &[5, 1, 0x00] };
    s.write_all(greeting).await?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await?;
    if reply[0] != 5 {
        return Err(Socks5Error::BadVersion(reply[0]));
    }
    match (reply[1], &proxy.auth) {
        (0x00, _) => {}
        (0x02, Some((user, pass))) => authenticate(&mut s, user, pass).await?,
        (0xFF, _) => return Err(Socks5Error::NoAcceptableMethod),
        (m, _) => return Err(Socks5Error::UnexpectedMethod(m)),
    }

    // CONNECT: an IP literal goes as such, anything else as a domain name for the proxy to resolve.
    let mut req = vec![5, 1, 0];
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            req.push(1);
            req.extend_from_slice(&ip.octets());
        }
        Ok(IpAddr::V6(ip)) => {
            req.push(4);
            req.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let len = u8::try_from(host.len()).map_err(|_| Socks5Error::FieldTooLong)?;
            req.push(3);
            req.push(len);
            req.extend_from_slice(host.as_bytes());
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await?;

    let mut head = [0u8; 4];
    s.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(Socks5Error::BadVersion(head[0]));
    }
    if head[1] != 0 {
        return Err(Socks5Error::ConnectFailed(head[1]));
    }
    // Skip the bound address the proxy reports; it is not needed.
    let addr_len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut l = [0u8; 1];
            s.read_exact(&mut l).await?;
            usize::from(l[0])
        }
        t => return Err(Socks5Error::BadAddressType(t)),
    };
    let mut rest = vec![0u8; addr_len + 2];
    s.read_exact(&mut rest).await?;
    Ok(s)
}

async fn authenticate(s: &mut TcpStream, user: &str, pass: &str) -> Result<(), Socks5Error> {
    let ulen = u8::try_from(user.len()).map_err(|_| Socks5Error::FieldTooLong)?;
    let plen = u8::try_from(pass.len()).map_err(|_| Socks5Error::FieldTooLong)?;
    let mut msg = vec![1, ulen];
    msg.extend_from_slice(user.as_bytes());
    msg.push(plen);
    msg.extend_from_slice(pass.as_bytes());
    s.write_all(&msg).await?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await?;
    if reply[1] != 0 {
        return Err(Socks5Error::AuthFailed(reply[1]));
    }
    Ok(())
}

fn split_host_port(target: &str) -> Result<(&str, u16), Socks5Error> {
    let bad = || Socks5Error::BadTarget(target.to_string());
    let (host, port) = target.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    // Accept "[::1]:7777" as well as "host:7777".
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    Ok((host, port))
}
