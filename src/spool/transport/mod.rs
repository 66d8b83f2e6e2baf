//! Transports: the one small trait every printer link implements, its error type, and
//! [`open`], which turns a configured [`Link`] into a `Box<dyn Transport>` at run time.
//!
//! A transport moves opaque bytes and, where the link is two-way, answers a `DLE EOT` status
//! query. It never renders and never retries: retry policy lives in the worker.
use crate::spool::config::Link;
use crate::spool::status::{self, PrinterStatus};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

pub mod ipp;
pub mod serial;
pub mod tcp;
pub mod usb;
pub mod usblp;
pub mod virtual_dir;
#[cfg(windows)]
pub mod windows;

/// What went wrong on a link, coarse enough for retry decisions.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The device went away (cable pulled, peer closed the socket, pty closed).
    Disconnected,
    /// Another process or driver holds the device.
    Busy,
    /// No such port, device, host or queue.
    NotFound,
    /// The OS refused access (udev rules, group membership).
    PermissionDenied,
    /// The device did not answer or accept data in time.
    TimedOut,
    /// Anything else; see the message and OS code.
    Other,
}

/// A transport failure: a kind for decisions, the raw OS code and a message for logs.
#[derive(Debug, thiserror::Error)]
#[error("{describe}: {message}{}", .os_code.map(|c| format!(" (os error {c})")).filter(|c| !message.ends_with(c.as_str())).unwrap_or_default())]
pub struct TransportError {
    kind: ErrorKind,
    os_code: Option<i32>,
    nothing_delivered: bool,
    describe: String,
    message: String,
}

impl TransportError {
    /// Builds an error for the link described by `describe`.
    pub fn new(kind: ErrorKind, describe: impl Into<String>, message: impl Into<String>) -> Self {
        Self { kind, os_code: None, nothing_delivered: false, describe: describe.into(), message: message.into() }
    }

    /// Maps a std I/O error, keeping its OS code.
    pub fn from_io(describe: impl Into<String>, e: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e.kind() {
            K::NotFound => ErrorKind::NotFound,
            K::PermissionDenied => ErrorKind::PermissionDenied,
            K::TimedOut | K::WouldBlock => ErrorKind::TimedOut,
            K::BrokenPipe
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::ConnectionRefused
            | K::NotConnected
            | K::UnexpectedEof => ErrorKind::Disconnected,
            K::ResourceBusy => ErrorKind::Busy,
            _ => match e.raw_os_error() {
                // EIO and ENODEV are what a yanked USB/serial adapter or a closed pty gives.
                Some(5) | Some(19) => ErrorKind::Disconnected,
                Some(16) => ErrorKind::Busy,
                _ => ErrorKind::Other,
            },
        };
        Self {
            kind,
            os_code: e.raw_os_error(),
            nothing_delivered: false,
            describe: describe.into(),
            message: e.to_string(),
        }
    }

    /// The coarse kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The raw OS error code, when the OS gave one.
    pub fn os_code(&self) -> Option<i32> {
        self.os_code
    }

    /// Marks the failure as certainly before the printer got any of the job (a spooler that
    /// refused it, a file that was never renamed into place), so a resend is not a copy.
    pub fn nothing_delivered(mut self) -> Self {
        self.nothing_delivered = true;
        self
    }

    /// See [`TransportError::nothing_delivered`].
    pub fn delivered_nothing(&self) -> bool {
        self.nothing_delivered
    }

    /// Attaches an OS code (used by transports whose library reports it separately).
    pub fn with_os_code(mut self, code: Option<i32>) -> Self {
        self.os_code = code;
        self
    }
}

/// One printer link. Implementations are blocking; workers run them on their own thread.
pub trait Transport: Send {
    /// Writes every byte or fails. Slow links pace and chunk inside this call.
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError>;

    /// Asks the printer for its status (`DLE EOT` 1, 2 and 4). `Ok(None)` means the link
    /// cannot answer (one-way file, system spooler), which is not an error.
    fn read_status(&mut self, timeout: Duration) -> Result<Option<PrinterStatus>, TransportError>;

    /// Asks for the autocutter count (`GS g 2 0 178 0`, Epson's cumulative counter of cuts).
    /// `Ok(None)`: the link cannot answer. Call only for profiles that have the counter.
    fn read_cut_count(&mut self, _timeout: Duration) -> Result<Option<u64>, TransportError> {
        Ok(None)
    }

    /// Waits until the printer has taken every byte written so far (for TCP: acknowledged by the
    /// printer's own stack), up to `timeout`; `Err(TimedOut)` when it has not by then. The spooler holds
    /// a receipt's final command (its cut) back until then, so a printer switched off mid-job never got
    /// it and the receipt is known not to have come out whole. Links that write synchronously (serial
    /// drains in `write_all`) or cannot tell answer at once.
    fn drain(&mut self, _timeout: Duration) -> Result<(), TransportError> {
        Ok(())
    }

    /// A short human description for logs, e.g. `serial /dev/ttyUSB0 @ 9600`.
    fn describe(&self) -> String;

    /// Called once a whole job was written; links with a job notion (virtual folder, IPP)
    /// complete the job here. `file_name` is `<job-id>.<format extension>`.
    fn end_job(&mut self, _file_name: &str) -> Result<(), TransportError> {
        Ok(())
    }
}

/// Link settings that are not part of the printer's address.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Connect and write timeout.
    pub io_timeout: Duration,
    /// Write chunk on paced links.
    pub chunk_bytes: usize,
    /// Pace serial-like links to their baud rate.
    pub pace: bool,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self { io_timeout: Duration::from_secs(5), chunk_bytes: 256, pace: true }
    }
}

/// Opens the transport for `link`. Nothing is written; connecting may fail.
pub fn open(link: &Link, opts: &LinkOptions) -> Result<Box<dyn Transport>, TransportError> {
    let io_timeout = opts.io_timeout;
    match link {
        Link::Serial { path, baud, flow } => {
            let mut t = serial::SerialTransport::open(path, *baud, *flow, io_timeout, "serial")?;
            t.set_pacing(opts.chunk_bytes, opts.pace);
            Ok(Box::new(t))
        }
        Link::Bluetooth { path, baud } => {
            let mut t = serial::SerialTransport::open(
                path,
                *baud,
                crate::spool::config::FlowControl::None,
                io_timeout,
                "bluetooth rfcomm",
            )?;
            t.set_pacing(opts.chunk_bytes, opts.pace);
            Ok(Box::new(t))
        }
        Link::UsbLp { path } => Ok(Box::new(usblp::UsbLpTransport::open(path)?)),
        Link::Usb { vendor_id, product_id, serial } => {
            Ok(Box::new(usb::UsbTransport::open(*vendor_id, *product_id, serial.as_deref(), io_timeout)?))
        }
        Link::Tcp { host, port } => Ok(Box::new(tcp::TcpTransport::connect(host, *port, io_timeout)?)),
        Link::Ipp { host, port, queue, format } => {
            Ok(Box::new(ipp::IppTransport::open(host, *port, queue, *format, io_timeout)?))
        }
        Link::Virtual { dir } => Ok(Box::new(virtual_dir::VirtualTransport::open(dir)?)),
        #[cfg(windows)]
        Link::Windows { name } => Ok(Box::new(windows::WinSpoolTransport::open(name)?)),
        #[cfg(not(windows))]
        Link::Windows { name } => Err(TransportError::new(
            ErrorKind::NotFound,
            format!("windows printer {name}"),
            "Windows printers exist only on Windows",
        )),
    }
}

/// Sends `DLE EOT n` for n = 1, 2, 4 over a two-way byte stream and decodes the answers.
/// Stale bytes are drained first so an old answer is never taken for a new one.
pub(crate) fn query_dle_eot<S: Read + Write>(
    io: &mut S,
    describe: &str,
    timeout: Duration,
) -> Result<PrinterStatus, TransportError> {
    let mut answers = [0u8; 3];
    for (slot, n) in answers.iter_mut().zip([1u8, 2, 4]) {
        io.write_all(&[0x10, 0x04, n]).and_then(|()| io.flush()).map_err(|e| TransportError::from_io(describe, &e))?;
        *slot = read_status_byte(io, describe, timeout)?;
    }
    Ok(status::decode(answers[0], answers[1], answers[2]))
}

/// `GS g 2 m=0 n=178`: transmit the cumulative autocutter counter.
pub const CUT_COUNTER_QUERY: [u8; 6] = [0x1D, b'g', b'2', 0, 178, 0];

/// Sends [`CUT_COUNTER_QUERY`] and reads the answer `0x5F digits… NUL` (ESC/POS `GS g 2`).
pub(crate) fn query_cut_counter<S: Read + Write>(
    io: &mut S,
    describe: &str,
    timeout: Duration,
) -> Result<u64, TransportError> {
    io.write_all(&CUT_COUNTER_QUERY).and_then(|()| io.flush()).map_err(|e| TransportError::from_io(describe, &e))?;
    let deadline = Instant::now() + timeout;
    let mut digits: Option<String> = None;
    let mut b = [0u8; 1];
    loop {
        match io.read(&mut b) {
            Ok(0) => {
                return Err(TransportError::new(
                    ErrorKind::Disconnected,
                    describe,
                    "link closed while reading counter",
                ));
            }
            Ok(_) => match (&mut digits, b[0]) {
                (None, 0x5F) => digits = Some(String::new()),
                (None, _) => {} // a late status byte or XON: not ours
                (Some(d), b'0'..=b'9') if d.len() < 10 => d.push(char::from(b[0])),
                (Some(d), 0) => {
                    return d.parse().map_err(|_| {
                        TransportError::new(ErrorKind::Other, describe, "empty maintenance counter answer")
                    });
                }
                (Some(_), _) => digits = None, // garbled: wait for a fresh header
            },
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(TransportError::from_io(describe, &e)),
        }
        if Instant::now() >= deadline {
            return Err(TransportError::new(ErrorKind::TimedOut, describe, "no answer to GS g 2 (cut counter)"));
        }
    }
}

/// Reads until one byte with the DLE EOT bit pattern arrives or `timeout` passes. The
/// stream's own read timeout must be short (it is polled).
fn read_status_byte<S: Read>(io: &mut S, describe: &str, timeout: Duration) -> Result<u8, TransportError> {
    let deadline = Instant::now() + timeout;
    let mut b = [0u8; 1];
    loop {
        match io.read(&mut b) {
            Ok(0) => {
                return Err(TransportError::new(
                    ErrorKind::Disconnected,
                    describe,
                    "link closed while waiting for status",
                ));
            }
            Ok(_) if status::is_status_byte(b[0]) => return Ok(b[0]),
            Ok(_) => {} // not a status answer (e.g. an ASB or XON byte): skip it
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(TransportError::from_io(describe, &e)),
        }
        if Instant::now() >= deadline {
            return Err(TransportError::new(
                ErrorKind::TimedOut,
                describe,
                "no DLE EOT answer (a printer without a status back-channel needs query_status = false)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_kinds_and_keep_os_code() {
        let e = std::io::Error::from_raw_os_error(13);
        let t = TransportError::from_io("x", &e);
        assert_eq!(t.kind(), ErrorKind::PermissionDenied);
        assert_eq!(t.os_code(), Some(13));
        let e = std::io::Error::from_raw_os_error(5);
        assert_eq!(TransportError::from_io("x", &e).kind(), ErrorKind::Disconnected);
        let e = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(TransportError::from_io("x", &e).kind(), ErrorKind::Disconnected);
    }
}
