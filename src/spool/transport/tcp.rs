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

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
