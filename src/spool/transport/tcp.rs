//! Raw TCP (JetDirect / port 9100) transport with connect, write and read timeouts.
use super::{ErrorKind, Transport, TransportError, query_cut_counter, query_dle_eot};
use crate::spool::status::PrinterStatus;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A connected socket to a network printer.
pub struct TcpTransport {
    stream: TcpStream,
    describe: String,
}

impl TcpTransport {
    /// Connects to `host:port`, trying each resolved address within `timeout`.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> Result<Self, TransportError> {
        let describe = format!("tcp {host}:{port}");
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| TransportError::new(ErrorKind::NotFound, &describe, e.to_string()))?;
        let mut last = TransportError::new(ErrorKind::NotFound, &describe, "no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    let setup = stream
                        .set_write_timeout(Some(timeout))
                        .and_then(|()| stream.set_read_timeout(Some(Duration::from_millis(50))))
                        .and_then(|()| stream.set_nodelay(true));
                    setup.map_err(|e| TransportError::from_io(&describe, &e))?;
                    return Ok(Self { stream, describe });
                }
                Err(e) => last = TransportError::from_io(&describe, &e),
            }
        }
        Err(last)
    }
}

impl TcpTransport {
    /// Drops answers that arrived late to an earlier query, so they are not taken for new ones.
    fn drain_input(&mut self) -> Result<(), TransportError> {
        let err = |e: std::io::Error| TransportError::from_io(&self.describe, &e);
        self.stream.set_nonblocking(true).map_err(err)?;
        let mut buf = [0u8; 256];
        let res = loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    break Err(TransportError::new(ErrorKind::Disconnected, &self.describe, "printer closed the link"));
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(TransportError::from_io(&self.describe, &e)),
            }
        };
        self.stream.set_nonblocking(false).map_err(|e| TransportError::from_io(&self.describe, &e))?;
        res
    }
}

impl Transport for TcpTransport {
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.stream
            .write_all(data)
            .and_then(|()| self.stream.flush())
            .map_err(|e| TransportError::from_io(&self.describe, &e))
    }

    fn read_status(&mut self, timeout: Duration) -> Result<Option<PrinterStatus>, TransportError> {
        self.drain_input()?;
        let describe = self.describe.clone();
        query_dle_eot(&mut self.stream, &describe, timeout).map(Some)
    }

    fn read_cut_count(&mut self, timeout: Duration) -> Result<Option<u64>, TransportError> {
        self.drain_input()?;
        let describe = self.describe.clone();
        query_cut_counter(&mut self.stream, &describe, timeout).map(Some)
    }

    fn drain(&mut self, timeout: Duration) -> Result<(), TransportError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            // A reset or closed link first: the kernel empties the queue of a dead socket.
            if let Some(e) = self.stream.take_error().map_err(|e| TransportError::from_io(&self.describe, &e))? {
                return Err(TransportError::from_io(&self.describe, &e));
            }
            if let Some(e) = self.closed_by_peer()? {
                return Err(e);
            }
            if unacknowledged(&self.stream).is_none_or(|n| n == 0) {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(TransportError::new(
                    ErrorKind::TimedOut,
                    &self.describe,
                    "the printer is still taking the job",
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

impl TcpTransport {
    /// Whether the printer closed the link (a switched-off printer resets it; nothing is read).
    fn closed_by_peer(&mut self) -> Result<Option<TransportError>, TransportError> {
        let err = |e: std::io::Error| TransportError::from_io(&self.describe, &e);
        self.stream.set_nonblocking(true).map_err(err)?;
        let mut probe = [0u8; 1];
        let peeked = self.stream.peek(&mut probe);
        self.stream.set_nonblocking(false).map_err(|e| TransportError::from_io(&self.describe, &e))?;
        Ok(match peeked {
            Ok(0) => Some(TransportError::new(ErrorKind::Disconnected, &self.describe, "printer closed the link")),
            Ok(_) => None,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => None,
            Err(e) => Some(TransportError::from_io(&self.describe, &e)),
        })
    }
}

/// Bytes written to `stream` that the peer has not acknowledged yet (`SIOCOUTQ`); `None` where the OS
/// cannot tell, and then the spooler does not wait.
#[cfg(target_os = "linux")]
fn unacknowledged(stream: &TcpStream) -> Option<usize> {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (= SIOCOUTQ on a TCP socket) writes one int through the pointer, which lives here.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
    (rc == 0).then(|| usize::try_from(queued).unwrap_or(0))
}

#[cfg(not(target_os = "linux"))]
fn unacknowledged(_stream: &TcpStream) -> Option<usize> {
    None
}
