//! Raw USB through nusb (pure Rust): find the printer-class interface (class 7), detach the
//! kernel driver (usblp) on Linux, claim it and write to its bulk OUT endpoint.
//!
//! No hardware exists in this environment, so this path is compile-tested only. Status is
//! read from the bulk IN endpoint when the interface is bidirectional (protocol 2).
use super::{ErrorKind, Transport, TransportError};
use crate::spool::status::{self, PrinterStatus};
use nusb::MaybeFuture;
use nusb::descriptors::TransferType;
use nusb::transfer::{Bulk, Direction, In, Out};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// USB class code of printers.
pub const PRINTER_CLASS: u8 = 7;

fn map_err(describe: &str, e: nusb::Error) -> TransportError {
    let kind = match e.kind() {
        nusb::ErrorKind::Disconnected => ErrorKind::Disconnected,
        nusb::ErrorKind::Busy => ErrorKind::Busy,
        nusb::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        nusb::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Other,
    };
    TransportError::new(kind, describe, e.to_string()).with_os_code(e.os_error().and_then(|c| i32::try_from(c).ok()))
}

/// A claimed printer interface.
pub struct UsbTransport {
    writer: nusb::io::EndpointWrite<Bulk>,
    reader: Option<nusb::io::EndpointRead<Bulk>>,
    describe: String,
}

/// Printer-class USB devices as `(vendor, product, serial, product name)`.
pub fn list_printers() -> Vec<(u16, u16, Option<String>, String)> {
    let Ok(devices) = nusb::list_devices().wait() else {
        return Vec::new();
    };
    devices
        .filter(|d| d.interfaces().any(|i| i.class() == PRINTER_CLASS))
        .map(|d| {
            (
                d.vendor_id(),
                d.product_id(),
                d.serial_number().map(str::to_owned),
                d.product_string().unwrap_or("USB printer").to_owned(),
            )
        })
        .collect()
}

impl UsbTransport {
    /// Opens the first printer-class device matching `vendor:product` (and `serial`).
    pub fn open(
        vendor_id: u16,
        product_id: u16,
        serial: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let describe = format!("usb {vendor_id:04x}:{product_id:04x}");
        let info = nusb::list_devices()
            .wait()
            .map_err(|e| map_err(&describe, e))?
            .find(|d| {
                d.vendor_id() == vendor_id
                    && d.product_id() == product_id
                    && serial.is_none_or(|s| d.serial_number() == Some(s))
            })
            .ok_or_else(|| TransportError::new(ErrorKind::NotFound, &describe, "not connected"))?;
        let number = info
            .interfaces()
            .find(|i| i.class() == PRINTER_CLASS)
            .map(|i| i.interface_number())
            .ok_or_else(|| TransportError::new(ErrorKind::NotFound, &describe, "no printer-class interface"))?;
        let device = info.open().wait().map_err(|e| map_err(&describe, e))?;
        let interface = device.detach_and_claim_interface(number).wait().map_err(|e| map_err(&describe, e))?;
        let (mut out_ep, mut in_ep) = (None, None);
        if let Some(desc) = interface.descriptor() {
            for ep in desc.endpoints() {
                if ep.transfer_type() != TransferType::Bulk {
                    continue;
                }
                match ep.direction() {
                    Direction::Out if out_ep.is_none() => out_ep = Some(ep.address()),
                    Direction::In if in_ep.is_none() => in_ep = Some(ep.address()),
                    _ => {}
                }
            }
        }
        let out_ep =
            out_ep.ok_or_else(|| TransportError::new(ErrorKind::NotFound, &describe, "no bulk OUT endpoint"))?;
        let writer = interface
            .endpoint::<Bulk, Out>(out_ep)
            .map_err(|e| map_err(&describe, e))?
            .writer(4096)
            .with_write_timeout(timeout);
        let reader = match in_ep {
            Some(a) => Some(
                interface
                    .endpoint::<Bulk, In>(a)
                    .map_err(|e| map_err(&describe, e))?
                    .reader(64)
                    .with_read_timeout(Duration::from_millis(50)),
            ),
            None => None,
        };
        Ok(Self { writer, reader, describe })
    }
}

impl Transport for UsbTransport {
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.writer
            .write_all(data)
            .and_then(|()| self.writer.flush())
            .map_err(|e| TransportError::from_io(&self.describe, &e))
    }

    fn read_status(&mut self, timeout: Duration) -> Result<Option<PrinterStatus>, TransportError> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        let mut answers = [0u8; 3];
        for (slot, n) in answers.iter_mut().zip([1u8, 2, 4]) {
            self.writer
                .write_all(&[0x10, 0x04, n])
                .and_then(|()| self.writer.flush())
                .map_err(|e| TransportError::from_io(&self.describe, &e))?;
            let deadline = Instant::now() + timeout;
            let mut b = [0u8; 1];
            *slot = loop {
                match reader.read(&mut b) {
                    Ok(1) if status::is_status_byte(b[0]) => break b[0],
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(e) => return Err(TransportError::from_io(&self.describe, &e)),
                }
                if Instant::now() >= deadline {
                    return Err(TransportError::new(ErrorKind::TimedOut, &self.describe, "no DLE EOT answer"));
                }
            };
        }
        Ok(Some(status::decode(answers[0], answers[1], answers[2])))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
