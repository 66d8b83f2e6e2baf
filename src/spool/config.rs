//! Spooler configuration: the printers the integrator configured, how each is linked, and
//! the queue's timing knobs. All of it is serde-deserialisable so the lead can embed it in
//! Kassa's own config file.
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// The seed's `PrinterTypeEnum`, plus two extension values for links the seed lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum PrinterType {
    /// 1 `ptCOM`: ESC/POS receipt printer on USB or a COM port.
    Com,
    /// 2 `ptVCL`: a system printer (Windows spooler or CUPS); takes PNG or raw.
    System,
    /// 3 `ptBluetooth`: ESC/POS over Bluetooth serial.
    Bluetooth,
    /// 4 (Kassa extension): ESC/POS over raw TCP, port 9100.
    Network,
    /// 5 (Kassa extension): the virtual printer that writes each job into a folder.
    Virtual,
}

impl PrinterType {
    /// The wire number.
    pub fn code(self) -> u8 {
        match self {
            PrinterType::Com => 1,
            PrinterType::System => 2,
            PrinterType::Bluetooth => 3,
            PrinterType::Network => 4,
            PrinterType::Virtual => 5,
        }
    }
}

impl From<PrinterType> for u8 {
    fn from(t: PrinterType) -> u8 {
        t.code()
    }
}

impl TryFrom<u8> for PrinterType {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Ok(match v {
            1 => PrinterType::Com,
            2 => PrinterType::System,
            3 => PrinterType::Bluetooth,
            4 => PrinterType::Network,
            5 => PrinterType::Virtual,
            _ => return Err(format!("unknown printer type {v} (expected 1..=5)")),
        })
    }
}

/// Serial flow control, as configured for the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowControl {
    /// No flow control: the spooler's pacing is the only brake.
    #[default]
    None,
    /// RTS/CTS (or DTR/DSR wired as such).
    Hardware,
    /// XON/XOFF, handled by the OS line discipline.
    Software,
}

/// What a job's bytes are, which decides the virtual printer's file extension and the
/// IPP document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocFormat {
    /// ESC/POS command bytes.
    #[default]
    EscPos,
    /// A PNG image (system printers, reprints).
    Png,
    /// Plain text.
    Text,
}

impl DocFormat {
    /// File extension used by the virtual printer.
    pub fn extension(self) -> &'static str {
        match self {
            DocFormat::EscPos => "escpos",
            DocFormat::Png => "png",
            DocFormat::Text => "txt",
        }
    }

    /// MIME type for IPP `document-format`.
    pub fn mime(self) -> &'static str {
        match self {
            DocFormat::EscPos => "application/vnd.cups-raw",
            DocFormat::Png => "image/png",
            DocFormat::Text => "text/plain",
        }
    }

    /// Stable database text.
    pub fn as_str(self) -> &'static str {
        self.extension()
    }

    /// Parses [`DocFormat::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "escpos" => DocFormat::EscPos,
            "png" => DocFormat::Png,
            "txt" => DocFormat::Text,
            _ => return None,
        })
    }
}

/// How a printer is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Link {
    /// A serial port (`/dev/ttyUSB0`, `COM3`).
    Serial {
        /// Device path or COM name.
        path: String,
        /// Baud rate, e.g. 9600, 38400, 115200.
        baud: u32,
        /// Flow control.
        #[serde(default)]
        flow: FlowControl,
    },
    /// Bluetooth SPP through a bound RFCOMM tty (`rfcomm bind 0 AA:BB:..`), opened as serial.
    Bluetooth {
        /// `/dev/rfcommN`.
        path: String,
        /// Nominal rate used for pacing and estimates.
        baud: u32,
    },
    /// The Linux usblp kernel device (`/dev/usb/lp0`), written as a plain file.
    UsbLp {
        /// Device path.
        path: String,
    },
    /// Raw USB bulk OUT through nusb (detaches usblp; printer-class interface).
    Usb {
        /// Vendor id.
        vendor_id: u16,
        /// Product id.
        product_id: u16,
        /// Serial number, to pick one of several identical printers.
        #[serde(default)]
        serial: Option<String>,
    },
    /// Raw TCP (JetDirect, port 9100).
    Tcp {
        /// Host name or address.
        host: String,
        /// Port, normally 9100.
        port: u16,
    },
    /// A CUPS queue through IPP Print-Job.
    Ipp {
        /// CUPS host, normally `localhost`.
        host: String,
        /// CUPS port, normally 631.
        port: u16,
        /// Queue name.
        queue: String,
        /// Document format sent with each job.
        #[serde(default)]
        format: DocFormat,
    },
    /// A Windows printer by name, RAW through the spooler (Windows only).
    Windows {
        /// Printer name as in the control panel.
        name: String,
    },
    /// The virtual printer: each job becomes a file in `dir`.
    Virtual {
        /// Output folder (created if missing). Files are named `<job-id>.<format extension>`.
        dir: PathBuf,
    },
}

impl Link {
    /// The nominal link speed in bits per second where it is slow enough to matter
    /// (serial, Bluetooth); `None` for USB, network, spooler and folder.
    pub fn baud(&self) -> Option<u32> {
        match self {
            Link::Serial { baud, .. } | Link::Bluetooth { baud, .. } => Some(*baud),
            _ => None,
        }
    }

    /// The seed type this link belongs to.
    pub fn printer_type(&self) -> PrinterType {
        match self {
            Link::Serial { .. } | Link::UsbLp { .. } | Link::Usb { .. } => PrinterType::Com,
            Link::Bluetooth { .. } => PrinterType::Bluetooth,
            Link::Tcp { .. } => PrinterType::Network,
            Link::Ipp { .. } | Link::Windows { .. } => PrinterType::System,
            Link::Virtual { .. } => PrinterType::Virtual,
        }
    }

    /// A stable key for the name→ID table: the same device gets the same key on every start.
    pub fn key(&self) -> String {
        match self {
            Link::Serial { path, .. } => format!("serial:{path}"),
            Link::Bluetooth { path, .. } => format!("bluetooth:{path}"),
            Link::UsbLp { path } => format!("usblp:{path}"),
            Link::Usb { vendor_id, product_id, serial } => {
                format!("usb:{vendor_id:04x}:{product_id:04x}:{}", serial.as_deref().unwrap_or(""))
            }
            Link::Tcp { host, port } => format!("tcp:{host}:{port}"),
            Link::Ipp { host, port, queue, .. } => format!("ipp:{host}:{port}/{queue}"),
            Link::Windows { name } => format!("windows:{name}"),
            Link::Virtual { dir, .. } => format!("virtual:{}", dir.display()),
        }
    }

    /// Whether the link can answer `DLE EOT` (two-way byte stream to an ESC/POS device).
    pub fn answers_status(&self) -> bool {
        matches!(self, Link::Serial { .. } | Link::Bluetooth { .. } | Link::Tcp { .. } | Link::Usb { .. })
    }
}

/// One configured printer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterConfig {
    /// Display name returned by `GetPrinterList`; unique among configured printers.
    pub name: String,
    /// How it is reached.
    pub link: Link,
    /// Profile id (see `profiles/`), e.g. `epson-tm-t20`; defaults to `generic-80`.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Whether to ask `DLE EOT` before and after each job (when the link can answer).
    /// Some clones answer garbage; switch it off for them.
    #[serde(default = "yes")]
    pub query_status: bool,
}

fn default_profile() -> String {
    "generic-80".into()
}

fn yes() -> bool {
    true
}

/// Spooler settings. Durations are in milliseconds in files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SpoolConfig {
    /// Configured printers; discovery adds the ones it finds.
    pub printers: Vec<PrinterConfig>,
    /// Integrator profile folder, read on top of the embedded profiles.
    pub profiles_dir: Option<PathBuf>,
    /// How often a paused printer is polled for recovery.
    pub poll_interval_ms: u64,
    /// Wait before retrying after a link error.
    pub retry_interval_ms: u64,
    /// Timeout for one `DLE EOT` answer.
    pub status_timeout_ms: u64,
    /// Connect/write timeout for links.
    pub io_timeout_ms: u64,
    /// Log and flag a job whose estimated transfer time (bytes × 10 / baud) exceeds this.
    pub slow_job_secs: u64,
    /// Write chunk for paced links (bytes).
    pub chunk_bytes: usize,
    /// Pace writes on serial/Bluetooth links to the configured baud rate.
    pub pace_serial: bool,
    /// Probe localhost:631 for CUPS queues during discovery.
    pub discover_cups: bool,
    /// Sends before a job is `failed` with its reason; 0 means retry forever. A resend happens only
    /// when bytes never reached the printer whole, so this bounds a link that keeps breaking.
    pub max_attempts: u32,
    /// Link speed (bytes per second) assumed for links that do not state one (TCP, USB), when
    /// waiting for a printer to confirm a job: the slowest link a shop plausibly has behind a
    /// network or USB adapter (9 600 baud). A faster printer simply answers sooner.
    pub assumed_bytes_per_sec: u32,
    /// Status queries, each waiting the full drain estimate, before an unconfirmed job is
    /// `failed` (it is never resent blind: the printer may have printed it).
    pub confirm_attempts: u32,
    /// How long a receipt waits for a printer that cannot be reached (switched off, unplugged, its
    /// spooler down) before it is `failed` with the reason; 0 waits for ever. A receipt of a shift
    /// is given up earlier, when its shift closes (`Spooler::close_shift`, called by the receipt
    /// step with the Z report). Default 24 h: no shift lasts longer in Kazakhstan, Belarus or Ukraine.
    pub hold_unreachable_secs: u64,
    /// Give up a shift's unprinted receipts (printer unreachable) when the shift closes.
    pub hold_until_shift_close: bool,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            printers: Vec::new(),
            profiles_dir: None,
            poll_interval_ms: 1000,
            retry_interval_ms: 2000,
            status_timeout_ms: 1000,
            io_timeout_ms: 5000,
            slow_job_secs: 10,
            chunk_bytes: 256,
            pace_serial: true,
            discover_cups: true,
            max_attempts: 5,
            assumed_bytes_per_sec: 960,
            confirm_attempts: 3,
            hold_unreachable_secs: 24 * 3600,
            hold_until_shift_close: true,
        }
    }
}

impl SpoolConfig {
    /// The embedded default for `kassa serve`: no hardware configured, one virtual printer
    /// named `virtual` writing jobs into `<data_dir>/printed`.
    pub fn serve_default(data_dir: &std::path::Path) -> Self {
        Self {
            printers: vec![PrinterConfig {
                name: "virtual".into(),
                link: Link::Virtual { dir: data_dir.join("printed") },
                profile: default_profile(),
                query_status: true,
            }],
            ..Default::default()
        }
    }

    /// Status answer timeout.
    pub fn status_timeout(&self) -> Duration {
        Duration::from_millis(self.status_timeout_ms)
    }
    /// Link I/O timeout.
    pub fn io_timeout(&self) -> Duration {
        Duration::from_millis(self.io_timeout_ms)
    }
    /// Poll interval while paused.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
    /// Retry interval after errors.
    pub fn retry_interval(&self) -> Duration {
        Duration::from_millis(self.retry_interval_ms)
    }
}

/// Estimated seconds to move `bytes` over a link at `baud` (8N1: ten bits per byte).
pub fn transfer_secs(bytes: usize, baud: u32) -> f64 {
    if baud == 0 {
        return 0.0;
    }
    bytes as f64 * 10.0 / f64::from(baud)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_type_wire_numbers_match_seed() {
        assert_eq!(PrinterType::try_from(1).ok(), Some(PrinterType::Com));
        assert_eq!(PrinterType::try_from(2).ok(), Some(PrinterType::System));
        assert_eq!(PrinterType::try_from(3).ok(), Some(PrinterType::Bluetooth));
        assert!(PrinterType::try_from(9).is_err());
    }

    #[test]
    fn link_parses_from_toml() {
        let c: PrinterConfig = toml::from_str(
            "name = \"COM3\"\nprofile = \"xprinter-xp-58\"\n[link]\nkind = \"serial\"\npath = \"/dev/ttyS0\"\nbaud = 9600\nflow = \"software\"\n",
        )
        .expect("valid config");
        assert_eq!(c.link.baud(), Some(9600));
        assert_eq!(c.link.printer_type(), PrinterType::Com);
        assert!(c.query_status);
        assert_eq!(transfer_secs(76_800, 9600), 80.0);
    }
}
