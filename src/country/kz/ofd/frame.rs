//! The OFD frame: an 18-byte little-endian header followed by one protobuf `Request` or `Response`.
//!
//! # Wire
//! ```text
//! offset 0  APPCODE u16 = 0x81A2 (bytes A2 81)
//!        2  VERSION u16 (202 = 2.0.2, 203 = 2.0.3)
//!        4  SIZE    u32, whole frame including the header
//!        8  ID      u32, the device id issued by the OFD
//!       12  TOKEN   u32, the rolling exchange key
//!       16  REQNUM  u16, request sequence number
//!       18  payload (SIZE - 18 bytes)
//! ```
//! [`check`] runs before anything is allocated and separates "not enough bytes yet"
//! ([`FrameError::Incomplete`]) from a frame that can never be valid.
use prost::Message;

use super::proto::{Request, Response};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 18;
/// The constant application code that opens every frame.
pub const APPCODE: u16 = 0x81A2;
/// Protocol 2.0.2 in the VERSION field.
pub const VERSION_202: u16 = 202;
/// Protocol 2.0.3 in the VERSION field (mandatory in Kazakhstan since late 2025).
pub const VERSION_203: u16 = 203;
/// Default upper bound on SIZE; a Z report with every section fits in far less.
pub const DEFAULT_MAX_FRAME: u32 = 1 << 20;

/// The decoded header fields (APPCODE is implied).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Header {
    pub version: u16,
    /// Total frame length including the header.
    pub size: u32,
    pub id: u32,
    pub token: u32,
    pub reqnum: u16,
}

/// Why bytes are not (yet) a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// More bytes are needed; `needed` is the total length known so far.
    #[error("incomplete frame: have {have} bytes, need {needed}")]
    Incomplete { have: usize, needed: usize },
    #[error("wrong application code {0:#06x}, expected 0x81a2")]
    BadAppcode(u16),
    #[error("frame size {0} is smaller than the 18-byte header")]
    SizeTooSmall(u32),
    #[error("frame size {size} exceeds the configured maximum {max}")]
    SizeTooLarge { size: u32, max: u32 },
    /// The peer closed the stream before the whole frame arrived.
    #[error("truncated frame: stream ended after {got} of {expected} bytes")]
    Truncated { got: usize, expected: usize },
    #[error("payload is not a valid protobuf {kind}: {source}")]
    Decode {
        kind: &'static str,
        #[source]
        source: prost::DecodeError,
    },
    #[error("payload of {0} bytes does not fit in a frame")]
    PayloadTooLarge(usize),
}

impl FrameError {
    /// True when more bytes could still make a valid frame.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, FrameError::Incomplete { .. })
    }
}

impl Header {
    /// Parses and validates the header at the start of `buf` without looking at the payload.
    pub fn parse(buf: &[u8], max_size: u32) -> Result<Header, FrameError> {
        let Some(h) = buf.get(..HEADER_LEN) else {
            return Err(FrameError::Incomplete { have: buf.len(), needed: HEADER_LEN });
        };
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let appcode = u16_at(0);
        if appcode != APPCODE {
            return Err(FrameError::BadAppcode(appcode));
        }
        let size = u32_at(4);
        if (size as usize) < HEADER_LEN {
            return Err(FrameError::SizeTooSmall(size));
        }
        if size > max_size {
            return Err(FrameError::SizeTooLarge { size, max: max_size });
        }
        Ok(Header { version: u16_at(2), size, id: u32_at(8), token: u32_at(12), reqnum: u16_at(16) })
    }

    /// Writes the 18 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&APPCODE.to_le_bytes());
        out[2..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..8].copy_from_slice(&self.size.to_le_bytes());
        out[8..12].copy_from_slice(&self.id.to_le_bytes());
        out[12..16].copy_from_slice(&self.token.to_le_bytes());
        out[16..18].copy_from_slice(&self.reqnum.to_le_bytes());
        out
    }

    /// Payload length announced by SIZE.
    pub fn payload_len(&self) -> usize {
        self.size as usize - HEADER_LEN
    }
}

/// Checks that `buf` starts with one whole valid frame and returns its header; allocates nothing.
pub fn check(buf: &[u8], max_size: u32) -> Result<Header, FrameError> {
    let header = Header::parse(buf, max_size)?;
    let needed = header.size as usize;
    if buf.len() < needed {
        return Err(FrameError::Incomplete { have: buf.len(), needed });
    }
    Ok(header)
}

/// A whole frame: header plus the raw protobuf payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub header: Header,
    pub payload: Vec<u8>,
}

/// The addressing part of a header that a sender chooses; SIZE is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    pub version: u16,
    pub id: u32,
    pub token: u32,
    pub reqnum: u16,
}

impl Frame {
    /// Parses the first frame in `buf`, returning it and the number of bytes it used.
    pub fn parse(buf: &[u8], max_size: u32) -> Result<(Frame, usize), FrameError> {
        let header = check(buf, max_size)?;
        let end = header.size as usize;
        let payload = buf[HEADER_LEN..end].to_vec();
        Ok((Frame { header, payload }, end))
    }

    /// Wraps an encoded message in a header.
    pub fn new(addr: Addr, payload: Vec<u8>) -> Result<Frame, FrameError> {
        let size = u32::try_from(payload.len() + HEADER_LEN).map_err(|_| FrameError::PayloadTooLarge(payload.len()))?;
        let header = Header { version: addr.version, size, id: addr.id, token: addr.token, reqnum: addr.reqnum };
        Ok(Frame { header, payload })
    }

    /// Encodes a `Request` into a frame.
    pub fn request(addr: Addr, req: &Request) -> Result<Frame, FrameError> {
        Frame::new(addr, req.encode_to_vec())
    }

    /// Encodes a `Response` into a frame.
    pub fn response(addr: Addr, resp: &Response) -> Result<Frame, FrameError> {
        Frame::new(addr, resp.encode_to_vec())
    }

    /// The whole frame as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        out.extend_from_slice(&self.header.to_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Decodes the payload as a device → OFD `Request` (unknown fields are skipped).
    pub fn decode_request(&self) -> Result<Request, FrameError> {
        Request::decode(self.payload.as_slice()).map_err(|source| FrameError::Decode { kind: "Request", source })
    }

    /// Decodes the payload as an OFD → device `Response` (unknown fields are skipped).
    pub fn decode_response(&self) -> Result<Response, FrameError> {
        Response::decode(self.payload.as_slice()).map_err(|source| FrameError::Decode { kind: "Response", source })
    }

    /// The sender-chosen part of the header.
    pub fn addr(&self) -> Addr {
        Addr { version: self.header.version, id: self.header.id, token: self.header.token, reqnum: self.header.reqnum }
    }
}

/// True when the top level of a protobuf payload carries field `tag`.
///
/// prost fills a missing proto2 `required` message with its default, so a `Response` without
/// `result` would read as code 0 (OK); the client uses this to tell the two apart.
pub fn has_field(payload: &[u8], tag: u32) -> bool {
    use prost::encoding::{DecodeContext, decode_key, skip_field};
    let mut buf = payload;
    while !buf.is_empty() {
        let Ok((t, wire_type)) = decode_key(&mut buf) else {
            return false;
        };
        if t == tag {
            return true;
        }
        if skip_field(wire_type, t, &mut buf, DecodeContext::default()).is_err() {
            return false;
        }
    }
    false
}
