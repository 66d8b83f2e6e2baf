//! Windows RAW printing through the spooler (winspool.drv), for system printers and for USB
//! printers bound to usbprint.sys. Windows only; it cannot be compiled on the Linux CI.
//!
//! The sequence is OpenPrinterW → StartDocPrinterW (DOC_INFO_1, datatype "RAW") →
//! StartPagePrinter → WritePrinter → EndPagePrinter → EndDocPrinter → ClosePrinter.
//! OpenPrinter succeeds on a queue whose device is unplugged, so no status is claimed.
use super::{ErrorKind, Transport, TransportError};
use crate::spool::status::PrinterStatus;
use std::ffi::c_void;
use std::time::Duration;

type Handle = *mut c_void;

#[repr(C)]
struct DocInfo1W {
    doc_name: *const u16,
    output_file: *const u16,
    datatype: *const u16,
}

/// PRINTER_INFO_4W: name, server, attributes (only the name is read; the rest is layout).
#[allow(dead_code)]
#[repr(C)]
struct PrinterInfo4W {
    printer_name: *const u16,
    server_name: *const u16,
    attributes: u32,
}

const PRINTER_ENUM_LOCAL: u32 = 0x2;
const PRINTER_ENUM_CONNECTIONS: u32 = 0x4;

#[link(name = "winspool")]
unsafe extern "system" {
    fn EnumPrintersW(
        flags: u32,
        name: *const u16,
        level: u32,
        buf: *mut u8,
        cb: u32,
        needed: *mut u32,
        returned: *mut u32,
    ) -> i32;
    fn OpenPrinterW(name: *const u16, handle: *mut Handle, defaults: *const c_void) -> i32;
    fn ClosePrinter(handle: Handle) -> i32;
    fn StartDocPrinterW(handle: Handle, level: u32, info: *const DocInfo1W) -> u32;
    fn EndDocPrinter(handle: Handle) -> i32;
    fn StartPagePrinter(handle: Handle) -> i32;
    fn EndPagePrinter(handle: Handle) -> i32;
    fn WritePrinter(handle: Handle, buf: *const c_void, len: u32, written: *mut u32) -> i32;
}

/// Names of local and connected printers (`EnumPrintersW`, level 4), for discovery.
pub fn list_printers() -> Vec<String> {
    let flags = PRINTER_ENUM_LOCAL | PRINTER_ENUM_CONNECTIONS;
    let (mut needed, mut returned) = (0u32, 0u32);
    // SAFETY: a size query with an empty buffer; out-params are valid.
    unsafe {
        EnumPrintersW(flags, std::ptr::null(), 4, std::ptr::null_mut(), 0, &mut needed, &mut returned);
    }
    if needed == 0 {
        return Vec::new();
    }
    // u64 storage keeps the pointer-holding structs aligned.
    let mut buf = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: `buf` holds at least `needed` bytes.
    let ok = unsafe {
        EnumPrintersW(flags, std::ptr::null(), 4, buf.as_mut_ptr().cast(), needed, &mut needed, &mut returned)
    };
    if ok == 0 {
        return Vec::new();
    }
    // SAFETY: on success the buffer starts with `returned` PRINTER_INFO_4W records whose
    // strings live inside the same buffer.
    let infos = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<PrinterInfo4W>(), returned as usize) };
    infos
        .iter()
        .filter(|i| !i.printer_name.is_null())
        .map(|i| {
            let mut n = 0;
            // SAFETY: a NUL-terminated UTF-16 string inside `buf`.
            unsafe {
                while *i.printer_name.add(n) != 0 {
                    n += 1;
                }
                String::from_utf16_lossy(std::slice::from_raw_parts(i.printer_name, n))
            }
        })
        .collect()
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// A Windows printer queue; bytes are buffered and spooled as one RAW document per job.
pub struct WinSpoolTransport {
    name: String,
    buffer: Vec<u8>,
}

// The handle is opened and closed inside `end_job`, so nothing thread-bound is stored.
impl WinSpoolTransport {
    /// Remembers the printer name; the queue is opened per job.
    pub fn open(name: &str) -> Result<Self, TransportError> {
        Ok(Self { name: name.into(), buffer: Vec::new() })
    }

    fn fail(&self, what: &str) -> TransportError {
        let e = std::io::Error::last_os_error();
        TransportError::new(ErrorKind::Other, self.describe(), format!("{what}: {e}")).with_os_code(e.raw_os_error())
    }
}

impl Transport for WinSpoolTransport {
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.buffer.extend_from_slice(data);
        Ok(())
    }

    fn read_status(&mut self, _timeout: Duration) -> Result<Option<PrinterStatus>, TransportError> {
        Ok(None)
    }

    fn describe(&self) -> String {
        format!("windows printer {}", self.name)
    }

    fn end_job(&mut self, file_name: &str) -> Result<(), TransportError> {
        let data = std::mem::take(&mut self.buffer);
        let name = wide(&self.name);
        let doc = wide(file_name);
        let raw = wide("RAW");
        let mut h: Handle = std::ptr::null_mut();
        // SAFETY: all pointers are to live, NUL-terminated UTF-16 buffers or valid out-params.
        unsafe {
            if OpenPrinterW(name.as_ptr(), &mut h, std::ptr::null()) == 0 {
                return Err(self.fail("OpenPrinterW"));
            }
            let info = DocInfo1W { doc_name: doc.as_ptr(), output_file: std::ptr::null(), datatype: raw.as_ptr() };
            let result = if StartDocPrinterW(h, 1, &info) == 0 {
                Err(self.fail("StartDocPrinterW"))
            } else {
                let r = if StartPagePrinter(h) == 0 {
                    Err(self.fail("StartPagePrinter"))
                } else {
                    let mut written = 0u32;
                    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                    let r = if WritePrinter(h, data.as_ptr().cast(), len, &mut written) == 0 || written != len {
                        Err(self.fail("WritePrinter"))
                    } else {
                        Ok(())
                    };
                    EndPagePrinter(h);
                    r
                };
                EndDocPrinter(h);
                r
            };
            ClosePrinter(h);
            result
        }
    }
}
