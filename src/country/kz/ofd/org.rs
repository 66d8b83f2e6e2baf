//! `OrgRegInfo`, written by hand instead of generated, because 2.0.2 and 2.0.3 disagree on field 6.
//!
//! 2.0.2 sends `tenantId` (int32) as field 6; the 2.0.3 protos put `address_kz` (string) there and move
//! `tenantId` to 7. The real server answered a v202 request with a varint in field 6 (doc §6), so the
//! decoder looks at the wire type: a varint at 6 is the tenant id, a length-delimited value is the
//! Kazakh address. Encoding follows `layout`, which the decoder records and [`OrgRegInfo::for_version`] sets.
use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};

/// Which field numbering an `OrgRegInfo` is written with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum OrgLayout {
    /// 2.0.2: tenant id at 6, no Kazakh address.
    V202,
    /// 2.0.3: Kazakh address at 6, tenant id at 7.
    #[default]
    V203,
}

/// Organisation registration data (`OrgRegInfo`), both numberings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct OrgRegInfo {
    pub title: Option<String>,
    pub address: Option<String>,
    /// ИИН/БИН.
    pub inn: Option<String>,
    pub taxation_type: Option<u32>,
    /// ОКЭД.
    pub okved: Option<String>,
    pub address_kz: Option<String>,
    #[serde(rename = "tenantId")]
    pub tenant_id: Option<i32>,
    /// Numbering used when encoding; set from the wire when decoding.
    #[serde(skip)]
    pub layout: OrgLayout,
}

impl OrgRegInfo {
    /// Returns a copy laid out for the protocol version of a header (202 → 2.0.2, anything else → 2.0.3).
    pub fn for_version(mut self, version: u16) -> Self {
        self.layout = if version <= 202 { OrgLayout::V202 } else { OrgLayout::V203 };
        self
    }

    fn tenant_tag(&self) -> u32 {
        match self.layout {
            OrgLayout::V202 => 6,
            OrgLayout::V203 => 7,
        }
    }
}

impl prost::Message for OrgRegInfo {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if let Some(v) = &self.title {
            encoding::string::encode(1, v, buf);
        }
        if let Some(v) = &self.address {
            encoding::string::encode(2, v, buf);
        }
        if let Some(v) = &self.inn {
            encoding::string::encode(3, v, buf);
        }
        if let Some(v) = &self.taxation_type {
            encoding::uint32::encode(4, v, buf);
        }
        if let Some(v) = &self.okved {
            encoding::string::encode(5, v, buf);
        }
        if self.layout == OrgLayout::V203
            && let Some(v) = &self.address_kz
        {
            encoding::string::encode(6, v, buf);
        }
        if let Some(v) = &self.tenant_id {
            encoding::int32::encode(self.tenant_tag(), v, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        match (tag, wire_type) {
            (1, _) => encoding::string::merge(wire_type, self.title.get_or_insert_default(), buf, ctx),
            (2, _) => encoding::string::merge(wire_type, self.address.get_or_insert_default(), buf, ctx),
            (3, _) => encoding::string::merge(wire_type, self.inn.get_or_insert_default(), buf, ctx),
            (4, _) => encoding::uint32::merge(wire_type, self.taxation_type.get_or_insert_default(), buf, ctx),
            (5, _) => encoding::string::merge(wire_type, self.okved.get_or_insert_default(), buf, ctx),
            (6, WireType::Varint) => {
                self.layout = OrgLayout::V202;
                encoding::int32::merge(wire_type, self.tenant_id.get_or_insert_default(), buf, ctx)
            }
            (6, _) => {
                self.layout = OrgLayout::V203;
                encoding::string::merge(wire_type, self.address_kz.get_or_insert_default(), buf, ctx)
            }
            (7, _) => encoding::int32::merge(wire_type, self.tenant_id.get_or_insert_default(), buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let s = |tag, v: &Option<String>| v.as_ref().map_or(0, |v| encoding::string::encoded_len(tag, v));
        let mut len = s(1, &self.title) + s(2, &self.address) + s(3, &self.inn) + s(5, &self.okved);
        len += self.taxation_type.as_ref().map_or(0, |v| encoding::uint32::encoded_len(4, v));
        if self.layout == OrgLayout::V203 {
            len += s(6, &self.address_kz);
        }
        len += self.tenant_id.as_ref().map_or(0, |v| encoding::int32::encoded_len(self.tenant_tag(), v));
        len
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}
