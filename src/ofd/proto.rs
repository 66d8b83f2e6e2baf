//! The prost types generated from `proto/*.proto` (package `ofd`), re-exported for the fiscal core.
//!
//! Ticket, report and money-placement requests are built directly from these structs; the helpers in
//! [`crate::ofd::convert`] cover the service block and the registration view.
#![allow(clippy::doc_lazy_continuation, clippy::large_enum_variant)]

include!(concat!(env!("OUT_DIR"), "/ofd.rs"));

pub use crate::ofd::org::{OrgLayout, OrgRegInfo};

/// Serializes optional bytes (the QR URL) as UTF-8 text, replacing invalid sequences, for JSON output.
pub fn serialize_opt_bytes_as_text<S: serde::Serializer>(
    v: &Option<Vec<u8>>,
    s: S,
) -> core::result::Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_some(&String::from_utf8_lossy(b)),
        None => s.serialize_none(),
    }
}
