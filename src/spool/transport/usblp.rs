//! The Linux usblp kernel device (`/dev/usb/lp0`) as a plain write-only file.
//!
//! usblp can be read back on bidirectional printers, but a blocking read with no timeout on
//! a character device would hang the worker; status is therefore reported as unavailable.
use super::{Transport, TransportError};
use crate::spool::status::PrinterStatus;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::time::Duration;

/// An open usblp device.
pub struct UsbLpTransport {
    file: File,
    describe: String,
}

impl UsbLpTransport {
    /// Opens the device for writing.
    pub fn open(path: &str) -> Result<Self, TransportError> {
        let describe = format!("usblp {path}");
        let file = OpenOptions::new().write(true).open(path).map_err(|e| TransportError::from_io(&describe, &e))?;
        Ok(Self { file, describe })
    }
}

impl Transport for UsbLpTransport {
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.file
            .write_all(data)
            .and_then(|()| self.file.flush())
            .map_err(|e| TransportError::from_io(&self.describe, &e))
    }

    fn read_status(&mut self, _timeout: Duration) -> Result<Option<PrinterStatus>, TransportError> {
        Ok(None)
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
