//! The prost types generated from `proto/*.proto` (package `ofd`), re-exported for the fiscal core.
//!
//! Ticket, report and money-placement requests are built directly from these structs; the helpers in
//! [`crate::country::kz::ofd::convert`] cover the service block and the registration view.
#![allow(clippy::doc_lazy_continuation, clippy::large_enum_variant)]

include!(concat!(env!("OUT_DIR"), "/ofd.rs"));

pub use crate::country::kz::ofd::org::{OrgLayout, OrgRegInfo};

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

/// JSON names for enum fields: prost stores enums as `i32`, so build.rs points each enum field's
/// `serialize_with` here. Values this schema does not know are written as numbers.
pub mod enum_names {
    use serde::Serializer;

    /// Implemented (by build.rs) for every generated enum.
    pub trait ProtoEnum {
        fn name_of(v: i32) -> Option<&'static str>;
    }

    fn value<S: Serializer, E: ProtoEnum>(v: i32, s: S) -> Result<S::Ok, S::Error> {
        match E::name_of(v) {
            Some(name) => s.serialize_str(name),
            None => s.serialize_i32(v),
        }
    }

    struct Named<E>(i32, std::marker::PhantomData<E>);

    impl<E: ProtoEnum> serde::Serialize for Named<E> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            value::<S, E>(self.0, s)
        }
    }

    /// A required enum field.
    pub fn one<S: Serializer, E: ProtoEnum>(v: &i32, s: S) -> Result<S::Ok, S::Error> {
        value::<S, E>(*v, s)
    }

    /// An optional enum field.
    pub fn opt<S: Serializer, E: ProtoEnum>(v: &Option<i32>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&Named::<E>(*v, std::marker::PhantomData)),
            None => s.serialize_none(),
        }
    }

    /// A repeated enum field.
    pub fn many<S: Serializer, E: ProtoEnum>(v: &[i32], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|v| Named::<E>(*v, std::marker::PhantomData)))
    }

    include!(concat!(env!("OUT_DIR"), "/ofd_enum_names.rs"));
}
