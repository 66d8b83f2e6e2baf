//! CUPS through IPP/1.1 over plain HTTP/1.1, written here in a few hundred lines instead of
//! pulling an HTTP client: `Print-Job` to send a document and `CUPS-Get-Printers` for
//! discovery. Only localhost CUPS is the target, so there is no TLS and no chunked upload.
//!
//! # Wire
//! An IPP request is `version(2) operation-id(2) request-id(4)`, then attribute groups
//! (`0x01` operation attributes), each attribute `value-tag(1) name-length(2) name
//! value-length(2) value`, an additional value of a multi-valued attribute having an empty
//! name, then `0x03` end-of-attributes and the document data (RFC 8010 §3).
use super::{ErrorKind, Transport, TransportError};
use crate::spool::config::DocFormat;
use crate::spool::status::PrinterStatus;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Operation ids used here.
pub const OP_PRINT_JOB: u16 = 0x0002;
/// CUPS vendor operation.
pub const OP_CUPS_GET_PRINTERS: u16 = 0x4002;

/// Value tags used here (RFC 8010 §3.5).
pub mod tag {
    /// Operation attributes group.
    pub const OPERATION: u8 = 0x01;
    /// Job attributes group.
    pub const JOB: u8 = 0x02;
    /// End of attributes.
    pub const END: u8 = 0x03;
    /// Printer attributes group.
    pub const PRINTER: u8 = 0x04;
    /// integer.
    pub const INTEGER: u8 = 0x21;
    /// enum.
    pub const ENUM: u8 = 0x23;
    /// nameWithoutLanguage.
    pub const NAME: u8 = 0x42;
    /// keyword.
    pub const KEYWORD: u8 = 0x44;
    /// uri.
    pub const URI: u8 = 0x45;
    /// charset.
    pub const CHARSET: u8 = 0x47;
    /// naturalLanguage.
    pub const LANGUAGE: u8 = 0x48;
    /// mimeMediaType.
    pub const MIME: u8 = 0x49;
}

/// Builds an IPP request message (without document data).
pub struct IppRequest {
    buf: Vec<u8>,
}

impl IppRequest {
    /// Starts a request with the mandatory charset and language attributes.
    pub fn new(operation: u16, request_id: u32) -> Self {
        let mut buf = vec![1, 1];
        buf.extend_from_slice(&operation.to_be_bytes());
        buf.extend_from_slice(&request_id.to_be_bytes());
        buf.push(tag::OPERATION);
        let mut r = Self { buf };
        r.attr(tag::CHARSET, "attributes-charset", b"utf-8");
        r.attr(tag::LANGUAGE, "attributes-natural-language", b"en");
        r
    }

    /// Appends one attribute (an empty `name` adds a value to the previous attribute).
    pub fn attr(&mut self, value_tag: u8, name: &str, value: &[u8]) -> &mut Self {
        self.buf.push(value_tag);
        self.buf.extend_from_slice(&(name.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(&(value.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(value);
        self
    }

    /// Ends the attributes and returns the message bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(tag::END);
        self.buf
    }
}

/// One attribute of a parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IppAttr {
    /// The group tag it belongs to.
    pub group: u8,
    /// Its name (carried over for additional values).
    pub name: String,
    /// Value tag.
    pub value_tag: u8,
    /// Raw value.
    pub value: Vec<u8>,
}

/// A parsed IPP response.
#[derive(Debug, Clone)]
pub struct IppResponse {
    /// Status code; 0x0000..=0x00FF is success.
    pub status: u16,
    /// Attributes in order.
    pub attrs: Vec<IppAttr>,
}

impl IppResponse {
    /// Parses a response body.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let short = || "truncated IPP message".to_string();
        if body.len() < 9 {
            return Err(short());
        }
        let status = u16::from_be_bytes([body[2], body[3]]);
        let mut i = 8;
        let mut group = 0u8;
        let mut attrs = Vec::new();
        let mut last_name = String::new();
        loop {
            let t = *body.get(i).ok_or_else(short)?;
            i += 1;
            if t == tag::END {
                break;
            }
            if t < 0x10 {
                group = t;
                continue;
            }
            let take = |i: &mut usize, n: usize| -> Result<&[u8], String> {
                let s = body.get(*i..*i + n).ok_or_else(short)?;
                *i += n;
                Ok(s)
            };
            let nl = take(&mut i, 2)?;
            let nl = usize::from(u16::from_be_bytes([nl[0], nl[1]]));
            let name = String::from_utf8_lossy(take(&mut i, nl)?).into_owned();
            let vl = take(&mut i, 2)?;
            let vl = usize::from(u16::from_be_bytes([vl[0], vl[1]]));
            let value = take(&mut i, vl)?.to_vec();
            if !name.is_empty() {
                last_name = name;
            }
            attrs.push(IppAttr { group, name: last_name.clone(), value_tag: t, value });
        }
        Ok(Self { status, attrs })
    }

    /// True for successful-ok and its variants.
    pub fn is_success(&self) -> bool {
        self.status <= 0x00FF
    }

    /// First integer attribute called `name`.
    pub fn integer(&self, name: &str) -> Option<i32> {
        self.attrs
            .iter()
            .find(|a| a.name == name && a.value.len() == 4)
            .map(|a| i32::from_be_bytes([a.value[0], a.value[1], a.value[2], a.value[3]]))
    }
}

/// A connection to the IPP server; a refusal delivered nothing.
fn connect(host: &str, port: u16, describe: &str, timeout: Duration) -> Result<TcpStream, TransportError> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| TransportError::new(ErrorKind::NotFound, describe, e.to_string()))?
        .next()
        .ok_or_else(|| TransportError::new(ErrorKind::NotFound, describe, "no address"))?;
    TcpStream::connect_timeout(&addr, timeout).map_err(|e| TransportError::from_io(describe, &e).nothing_delivered())
}

/// Sends one IPP message by HTTP POST to `path` and returns the parsed response.
pub fn post(
    host: &str,
    port: u16,
    path: &str,
    message: &[u8],
    document: &[u8],
    timeout: Duration,
) -> Result<IppResponse, TransportError> {
    let describe = format!("ipp {host}:{port}{path}");
    let io = |e: std::io::Error| TransportError::from_io(&describe, &e);
    let mut s = connect(host, port, &describe, timeout)?;
    s.set_write_timeout(Some(timeout)).map_err(io)?;
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        message.len() + document.len()
    );
    s.write_all(head.as_bytes()).map_err(io)?;
    s.write_all(message).map_err(io)?;
    s.write_all(document).map_err(io)?;
    s.flush().map_err(io)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).map_err(io)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| TransportError::new(ErrorKind::Other, &describe, "no HTTP header"))?;
    let head = String::from_utf8_lossy(&resp[..split]);
    let code: u16 = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    if code != 200 {
        let kind = match code {
            401 | 403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            503 => ErrorKind::Busy,
            _ => ErrorKind::Other,
        };
        // The server answered with an HTTP error: it did not take the request.
        return Err(TransportError::new(kind, &describe, format!("HTTP {code}")).nothing_delivered());
    }
    let mut body = &resp[split + 4..];
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return IppResponse::parse(&dechunk(body)).map_err(|m| TransportError::new(ErrorKind::Other, &describe, m));
    }
    if let Some(len) = content_length(&head) {
        body = &body[..len.min(body.len())];
    }
    IppResponse::parse(body).map_err(|m| TransportError::new(ErrorKind::Other, &describe, m))
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
    })
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        body = &body[eol + 2..];
        if size == 0 || body.len() < size {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// Lists CUPS queue names (`CUPS-Get-Printers`).
pub fn cups_get_printers(host: &str, port: u16, timeout: Duration) -> Result<Vec<String>, TransportError> {
    let mut req = IppRequest::new(OP_CUPS_GET_PRINTERS, 1);
    req.attr(tag::KEYWORD, "requested-attributes", b"printer-name");
    let resp = post(host, port, "/", &req.finish(), &[], timeout)?;
    if !resp.is_success() {
        return Err(TransportError::new(
            ErrorKind::Other,
            format!("ipp {host}:{port}"),
            format!("CUPS-Get-Printers status 0x{:04x}", resp.status),
        ));
    }
    Ok(resp
        .attrs
        .iter()
        .filter(|a| a.group == tag::PRINTER && a.name == "printer-name")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
        .collect())
}

/// A CUPS queue. Bytes are buffered per job and sent as one `Print-Job` in `end_job`.
pub struct IppTransport {
    host: String,
    port: u16,
    queue: String,
    format: DocFormat,
    timeout: Duration,
    buffer: Vec<u8>,
    /// The CUPS job id of the last job sent.
    pub last_job_id: Option<i32>,
}

impl IppTransport {
    /// Describes a queue; nothing is connected until a job ends.
    pub fn new(host: &str, port: u16, queue: &str, format: DocFormat, timeout: Duration) -> Self {
        Self { host: host.into(), port, queue: queue.into(), format, timeout, buffer: Vec::new(), last_job_id: None }
    }

    /// A queue whose server takes connections now: a stopped CUPS refuses the open, as a switched-off
    /// printer's port does, so a job waiting for it is neither sent nor counted as an attempt.
    pub fn open(
        host: &str,
        port: u16,
        queue: &str,
        format: DocFormat,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let transport = Self::new(host, port, queue, format, timeout);
        connect(host, port, &transport.describe(), timeout)?;
        Ok(transport)
    }
}

impl Transport for IppTransport {
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.buffer.extend_from_slice(data);
        Ok(())
    }

    fn read_status(&mut self, _timeout: Duration) -> Result<Option<PrinterStatus>, TransportError> {
        Ok(None)
    }

    fn describe(&self) -> String {
        format!("ipp {}:{}/printers/{}", self.host, self.port, self.queue)
    }

    fn end_job(&mut self, file_name: &str) -> Result<(), TransportError> {
        let path = format!("/printers/{}", self.queue);
        let uri = format!("ipp://{}:{}{path}", self.host, self.port);
        let mut req = IppRequest::new(OP_PRINT_JOB, 1);
        req.attr(tag::URI, "printer-uri", uri.as_bytes())
            .attr(tag::NAME, "requesting-user-name", b"kassa")
            .attr(tag::NAME, "job-name", file_name.as_bytes())
            .attr(tag::MIME, "document-format", self.format.mime().as_bytes());
        let doc = std::mem::take(&mut self.buffer);
        let resp = post(&self.host, self.port, &path, &req.finish(), &doc, self.timeout)?;
        if !resp.is_success() {
            // CUPS answered and refused: no job was created.
            let kind = match resp.status {
                0x0506 | 0x0507 => ErrorKind::Busy, // not accepting jobs / busy
                0x0406 => ErrorKind::NotFound,      // client-error-not-found
                _ => ErrorKind::Other,
            };
            return Err(TransportError::new(kind, self.describe(), format!("Print-Job status 0x{:04x}", resp.status))
                .nothing_delivered());
        }
        self.last_job_id = resp.integer("job-id");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout_matches_rfc8010() {
        let mut r = IppRequest::new(OP_PRINT_JOB, 7);
        r.attr(tag::URI, "printer-uri", b"ipp://h/p");
        let m = r.finish();
        assert_eq!(&m[..8], &[1, 1, 0, 2, 0, 0, 0, 7]);
        assert_eq!(m[8], tag::OPERATION);
        assert_eq!(m[9], tag::CHARSET);
        assert_eq!(&m[10..12], &[0, 18]);
        assert_eq!(&m[12..30], b"attributes-charset");
        assert_eq!(*m.last().unwrap_or(&0), tag::END);
    }

    #[test]
    fn parse_response_with_multi_values() {
        let mut b = vec![1, 1, 0, 0, 0, 0, 0, 1, tag::PRINTER];
        for (name, v) in [("printer-name", "A"), ("", "B")] {
            b.push(tag::NAME);
            b.extend_from_slice(&(name.len() as u16).to_be_bytes());
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(&(v.len() as u16).to_be_bytes());
            b.extend_from_slice(v.as_bytes());
        }
        b.push(tag::END);
        let r = IppResponse::parse(&b).expect("parses");
        assert!(r.is_success());
        assert_eq!(r.attrs.len(), 2);
        assert_eq!(r.attrs[1].name, "printer-name");
        assert!(IppResponse::parse(&b[..12]).is_err());
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
