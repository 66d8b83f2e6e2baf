//! The listener kit every front uses, so all of them let clients in and shed load the same way:
//!
//! - `slots`: the connections a listener holds; at its cap the oldest one not running a request makes room;
//! - `http`: the HTTP/1.1 listener for an axum router (head and body time limits, the front's envelope on
//!   hyper's own error answers);
//! - `framed`: the TCP listener for 4-byte big-endian length-framed messages (the iKassa framing);
//! - `body`: request bodies read whole in time, their memory bounded across all connections;
//! - `peer`: who is at the other end (address, and the OS user of a local client);
//! - `origin`: which browser requests are taken (`Origin`, `Host`);
//! - `throttle`: PIN guesses counted before they are checked, and the terminals Kassa knows;
//! - `handover`: a request handed to the node serving its device; `tenants`: a tenant named by the path.
pub mod body;
pub mod framed;
pub mod handover;
pub mod http;
pub mod origin;
pub mod peer;
pub mod slots;
#[cfg(target_os = "linux")]
mod sock_diag;
pub mod tenants;
pub mod throttle;

pub use body::{BodyError, BodyRules, Held};
pub use framed::{FrameHandler, FrameRefusal};
pub use http::{ErrorPage, Limits};
pub use origin::{Forbidden, WebRule};
pub use peer::Peer;

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds the listener `name` on `addr` and says where, as one line on standard output: `listening <name>
/// <address>`. With port 0 the system picks a free port and this line is the only way to learn it: tests and
/// scripts read it (logs go to standard error, so nothing else shares standard output while Kassa serves).
/// `setting` names the configuration key in the error.
pub async fn bind(name: &str, addr: &str, setting: &str) -> Result<TcpListener, String> {
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} ({setting}): {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("cannot read the address of {addr} ({setting}): {e}"))?;
    announce(name, local);
    Ok(listener)
}

/// Writes `listening <name> <address>` on standard output, flushed at once (a closed output is no failure).
pub fn announce(name: &str, addr: SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening {name} {addr}");
    let _ = out.flush();
}

/// Largest message of the neighbour fronts (a framed message, or an HTTP body), 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;
