//! Serial and Bluetooth-RFCOMM transport through `serialport` (no libudev).
//!
//! Bluetooth on Linux is a bound `/dev/rfcommN` tty (BlueZ `rfcomm bind`), so it is the same
//! code with a different label. Writes are chunked and paced to the nominal baud rate: a
//! USB-serial adapter, a pty or an RFCOMM tty accepts bytes much faster than the printer
//! drains them, and an overrun printer buffer prints garbage. Hardware and XON/XOFF flow
//! control are set on the port and enforced by the OS driver.
use super::{ErrorKind, Transport, TransportError, query_cut_counter, query_dle_eot};
use crate::spool::config::FlowControl;
use crate::spool::status::PrinterStatus;
use std::io::Write;
use std::time::{Duration, Instant};

/// An open serial port.
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    describe: String,
    baud: u32,
    io_timeout: Duration,
    /// Chunk size and pacing; see [`SerialTransport::set_pacing`].
    chunk: usize,
    pace: bool,
}

fn map_err(describe: &str, e: serialport::Error) -> TransportError {
    match e.kind() {
        serialport::ErrorKind::NoDevice => TransportError::new(ErrorKind::NotFound, describe, e.to_string()),
        serialport::ErrorKind::Io(k) => TransportError::from_io(describe, &std::io::Error::new(k, e.to_string())),
        _ => TransportError::new(ErrorKind::Other, describe, e.to_string()),
    }
}

impl SerialTransport {
    /// Opens `path` at `baud` with `flow`. `label` is `serial` or `bluetooth rfcomm`.
    pub fn open(
        path: &str,
        baud: u32,
        flow: FlowControl,
        io_timeout: Duration,
        label: &str,
    ) -> Result<Self, TransportError> {
        let describe = format!("{label} {path} @ {baud}");
        let flow = match flow {
            FlowControl::None => serialport::FlowControl::None,
            FlowControl::Hardware => serialport::FlowControl::Hardware,
            FlowControl::Software => serialport::FlowControl::Software,
        };
        let port = serialport::new(path, baud)
            .flow_control(flow)
            .timeout(Duration::from_millis(50))
            .open()
            .map_err(|e| map_err(&describe, e))?;
        Ok(Self { port, describe, baud, io_timeout, chunk: 256, pace: true })
    }

    /// Sets the write chunk size and whether writes are paced to the baud rate.
    pub fn set_pacing(&mut self, chunk: usize, pace: bool) {
        self.chunk = chunk.max(1);
        self.pace = pace;
    }
}

impl Transport for SerialTransport {
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        let start = Instant::now();
        let mut sent = 0usize;
        for chunk in data.chunks(self.chunk) {
            let chunk_start = Instant::now();
            let mut rest = chunk;
            while !rest.is_empty() {
                match self.port.write(rest) {
                    Ok(0) => {
                        return Err(TransportError::new(
                            ErrorKind::Disconnected,
                            &self.describe,
                            "port accepted no bytes",
                        ));
                    }
                    Ok(n) => rest = &rest[n..],
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted) => {
                        // Flow control holds us (XOFF/CTS low). Wait up to the I/O timeout.
                        if chunk_start.elapsed() > self.io_timeout {
                            return Err(TransportError::new(
                                ErrorKind::TimedOut,
                                &self.describe,
                                "printer did not accept data (flow control held too long)",
                            ));
                        }
                    }
                    Err(e) => return Err(TransportError::from_io(&self.describe, &e)),
                }
            }
            sent += chunk.len();
            if self.pace {
                // Keep the average rate at baud/10 bytes per second.
                let due = Duration::from_secs_f64(sent as f64 * 10.0 / f64::from(self.baud));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        self.port.flush().map_err(|e| TransportError::from_io(&self.describe, &e))
    }

    fn read_status(&mut self, timeout: Duration) -> Result<Option<PrinterStatus>, TransportError> {
        // Drop stale input (late answers from an earlier query) before asking.
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        let describe = self.describe.clone();
        query_dle_eot(&mut self.port, &describe, timeout).map(Some)
    }

    fn read_cut_count(&mut self, timeout: Duration) -> Result<Option<u64>, TransportError> {
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        let describe = self.describe.clone();
        query_cut_counter(&mut self.port, &describe, timeout).map(Some)
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
