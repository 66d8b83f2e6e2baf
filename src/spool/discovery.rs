//! Discovery for `GetPrinterList`: what is attached or reachable right now, on Linux too.
//! Serial ports, usblp devices, printer-class USB devices (nusb), bound RFCOMM ttys, CUPS
//! queues on localhost (short timeout), and on Windows the spooler's printers
//! (`EnumPrintersW`; not compiled on the Linux CI). Every entry becomes a [`Link`] whose
//! [`Link::key`] maps to a stable id in the queue database.
use super::config::{DocFormat, Link};
use std::path::Path;
use std::time::Duration;

/// Default serial speed assumed for a discovered port (the common ESC/POS factory setting).
pub const DEFAULT_SERIAL_BAUD: u32 = 9600;
/// Default nominal speed of a Bluetooth SPP link.
pub const DEFAULT_BLUETOOTH_BAUD: u32 = 115_200;

/// A discovered printer: display name and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Name shown to the POS (`/dev/ttyUSB0`, `COM3`, a CUPS queue name, …).
    pub name: String,
    /// How to reach it.
    pub link: Link,
}

/// What to probe.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Ask CUPS on localhost:631.
    pub cups: bool,
    /// CUPS host and port (tests point this at a fake server).
    pub cups_addr: (String, u16),
    /// CUPS timeout.
    pub cups_timeout: Duration,
    /// Folder with usblp devices (`/dev/usb`).
    pub usblp_dir: String,
    /// Folder with RFCOMM ttys (`/dev`).
    pub rfcomm_dir: String,
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            cups: true,
            cups_addr: ("localhost".into(), 631),
            cups_timeout: Duration::from_millis(300),
            usblp_dir: "/dev/usb".into(),
            rfcomm_dir: "/dev".into(),
        }
    }
}

fn files_with_prefix(dir: &str, prefix: &str) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| Path::new(dir).join(e.file_name()).display().to_string())
        .collect();
    v.sort();
    v
}

/// Runs every probe. Failures of one probe (no CUPS, no permission) just yield nothing.
pub fn discover(probe: &Probe) -> Vec<Found> {
    let mut out = Vec::new();
    if let Ok(ports) = serialport::available_ports() {
        for p in ports {
            if p.port_name.contains("rfcomm") {
                continue; // listed as Bluetooth below
            }
            out.push(Found {
                name: p.port_name.clone(),
                link: Link::Serial { path: p.port_name, baud: DEFAULT_SERIAL_BAUD, flow: Default::default() },
            });
        }
    }
    for path in files_with_prefix(&probe.usblp_dir, "lp") {
        out.push(Found { name: path.clone(), link: Link::UsbLp { path } });
    }
    for (vendor_id, product_id, serial, product) in super::transport::usb::list_printers() {
        out.push(Found {
            name: format!("{product} ({vendor_id:04x}:{product_id:04x})"),
            link: Link::Usb { vendor_id, product_id, serial },
        });
    }
    for path in files_with_prefix(&probe.rfcomm_dir, "rfcomm") {
        out.push(Found { name: path.clone(), link: Link::Bluetooth { path, baud: DEFAULT_BLUETOOTH_BAUD } });
    }
    #[cfg(windows)]
    for name in super::transport::windows::list_printers() {
        out.push(Found { name: name.clone(), link: Link::Windows { name } });
    }
    if probe.cups {
        let (host, port) = &probe.cups_addr;
        if let Ok(queues) = super::transport::ipp::cups_get_printers(host, *port, probe.cups_timeout) {
            for queue in queues {
                out.push(Found {
                    name: queue.clone(),
                    link: Link::Ipp { host: host.clone(), port: *port, queue, format: DocFormat::EscPos },
                });
            }
        }
    }
    out
}
