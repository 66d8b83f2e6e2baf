//! Fiscal documents as stored: the seed's body shapes (TicketObject, MoneyPlacementObject, ReportObject).
//!
//! One canonical form: the journal stores exactly this JSON, the API answers with it, and the receipt
//! renderer reads the same field names. Money is `{bills, coins}`, quantities and percentages thousandths.
use crate::country::kz::money::Money;
use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The seed's DateTime: `{date: {year, month, day}, time: {hour, minute, second}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DateTimeParts {
    pub date: DateParts,
    pub time: TimeParts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DateParts {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimeParts {
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl From<NaiveDateTime> for DateTimeParts {
    fn from(t: NaiveDateTime) -> DateTimeParts {
        DateTimeParts {
            date: DateParts { year: t.year().max(0) as u32, month: t.month(), day: t.day() },
            time: TimeParts { hour: t.hour(), minute: t.minute(), second: t.second() },
        }
    }
}

/// The cashier on a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRef {
    pub code: u32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// A tax line: percent in thousandths (12000 = 12 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxLine {
    pub percent: u32,
    pub sum: Money,
    pub is_in_total_sum: bool,
}

/// A discount or markup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Modifier {
    pub name: String,
    pub sum: Money,
    #[serde(rename = "taxesList")]
    pub taxes: Vec<TaxLine>,
    #[serde(rename = "auxiliaryList")]
    pub auxiliary: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commodity {
    pub code: u64,
    pub name: String,
    pub section_code: String,
    /// Thousandths (2 pieces → 2000).
    pub quantity: u64,
    pub price: Money,
    pub sum: Money,
    pub excise_stamp: String,
    pub physical_label: String,
    pub product_id: String,
    pub barcode: String,
    pub measure_unit_code: String,
    #[serde(rename = "taxesList")]
    pub taxes: Vec<TaxLine>,
    #[serde(rename = "auxiliaryList")]
    pub auxiliary: Vec<KeyValue>,
}

/// ITEM_TYPE_COMMODITY.
pub const ITEM_COMMODITY: u8 = 1;
/// ITEM_TYPE_MARKUP.
pub const ITEM_MARKUP: u8 = 3;
/// ITEM_TYPE_DISCOUNT.
pub const ITEM_DISCOUNT: u8 = 5;

/// One line of `itemsList`: a commodity, or the discount or markup of the commodity before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commodity: Option<Commodity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markup: Option<Modifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Modifier>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    #[serde(rename = "type")]
    pub kind: u8,
    pub sum: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amounts {
    pub total: Money,
    pub taken: Money,
    pub change: Money,
    pub markup: Modifier,
    pub discount: Modifier,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExtensionOptions {
    pub customer_email: String,
    pub customer_phone: String,
    pub customer_iin_or_bin: String,
    #[serde(rename = "auxiliaryList")]
    pub auxiliary: Vec<KeyValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdInfo {
    #[serde(rename = "type")]
    pub kind: u32,
    pub version: u64,
}

/// The original of a return (protocol 2.0.3 ParentTicket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentTicket {
    pub parent_ticket_number: String,
    pub parent_ticket_date_time: DateTimeParts,
    pub kgd_kkm_id: String,
    pub parent_ticket_total: Money,
    pub parent_ticket_is_offline: bool,
}

/// The seed's TicketObject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub operation: u8,
    pub date_time: DateTimeParts,
    pub operator: OperatorRef,
    /// The domain as the POS sent it (`{"type": 0}` at least): sub-objects pass through.
    pub domain: serde_json::Value,
    pub amounts: Amounts,
    pub extension_options: ExtensionOptions,
    pub offline_ticket_number: u32,
    pub printed_document_number_old: String,
    /// The receipt's check URL (what the QR code carries).
    pub printed_ticket: String,
    pub fr_shift_number: u32,
    pub shift_document_number: u32,
    pub printed_document_number: u64,
    #[serde(rename = "itemsList")]
    pub items: Vec<Item>,
    #[serde(rename = "paymentsList")]
    pub payments: Vec<Payment>,
    #[serde(rename = "taxesList")]
    pub taxes: Vec<TaxLine>,
    #[serde(rename = "ad_infosList")]
    pub ad_infos: Vec<AdInfo>,
    /// Returns only: the original ticket (an extension of the seed, required by protocol 2.0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_ticket: Option<ParentTicket>,
}

/// The seed's MoneyPlacementObject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyPlacement {
    pub datetime: DateTimeParts,
    pub operation: u8,
    pub sum: Money,
    pub is_offline: bool,
    pub fr_shift_number: u32,
    pub printed_document_number: u64,
    pub operator: OperatorRef,
}

/// `{operation, count, sum}` (ZXReport::Operation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationTotal {
    pub operation: u8,
    pub count: u32,
    pub sum: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionTotal {
    pub section_code: String,
    #[serde(rename = "operationsList", with = "seed_list")]
    pub operations: Vec<OperationTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxOperation {
    pub operation: u8,
    pub turnover: Money,
    pub turnover_without_tax: Money,
    pub sum: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxTotal {
    pub percent: u32,
    #[serde(rename = "operationsList", with = "seed_list")]
    pub operations: Vec<TaxOperation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonNullableSum {
    pub operation: u8,
    pub sum: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTotal {
    pub payment: u8,
    pub sum: Money,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketOperationTotal {
    pub operation: u8,
    pub tickets_total_count: u32,
    pub tickets_count: u32,
    pub tickets_sum: Money,
    pub offline_count: u32,
    pub discount_sum: Money,
    pub markup_sum: Money,
    pub change_sum: Money,
    #[serde(rename = "paymentsList", with = "seed_list")]
    pub payments: Vec<PaymentTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyPlacementTotal {
    pub operation: u8,
    pub operations_total_count: u32,
    pub operations_count: u32,
    pub operations_sum: Money,
    pub offline_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revenue {
    pub sum: Money,
    pub is_negative: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AnnulledTickets {
    pub annulled_tickets_total_count: u32,
    pub annulled_tickets_count: u32,
    #[serde(rename = "annulled_operationsList", with = "seed_list")]
    pub operations: Vec<OperationTotal>,
}

/// The seed's ReportObject (X and Z).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub date_time: DateTimeParts,
    pub shift_number: u32,
    pub annulled_tickets: AnnulledTickets,
    pub cash_sum: Money,
    pub revenue: Revenue,
    pub open_shift_time: DateTimeParts,
    pub close_shift_time: DateTimeParts,
    pub checksum: String,
    #[serde(rename = "sectionsList", with = "seed_list")]
    pub sections: Vec<SectionTotal>,
    #[serde(rename = "operationsList", with = "seed_list")]
    pub operations: Vec<OperationTotal>,
    #[serde(rename = "discountsList", with = "seed_list")]
    pub discounts: Vec<OperationTotal>,
    #[serde(rename = "markupsList", with = "seed_list")]
    pub markups: Vec<OperationTotal>,
    #[serde(rename = "total_resultList", with = "seed_list")]
    pub total_result: Vec<OperationTotal>,
    #[serde(rename = "taxesList", with = "seed_list")]
    pub taxes: Vec<TaxTotal>,
    #[serde(rename = "start_shift_non_nullable_sumsList", with = "seed_list")]
    pub start_shift_non_nullable_sums: Vec<NonNullableSum>,
    #[serde(rename = "ticket_operationsList", with = "seed_list")]
    pub ticket_operations: Vec<TicketOperationTotal>,
    #[serde(rename = "money_placementsList", with = "seed_list")]
    pub money_placements: Vec<MoneyPlacementTotal>,
    #[serde(rename = "non_nullable_sumsList", with = "seed_list")]
    pub non_nullable_sums: Vec<NonNullableSum>,
}

/// Lists of a ReportObject as the seed writes them: an empty list is `{}`, a full one an array. Reading
/// accepts both.
mod seed_list {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize>(list: &[T], s: S) -> Result<S::Ok, S::Error> {
        if list.is_empty() {
            use serde::ser::SerializeMap;
            s.serialize_map(Some(0))?.end()
        } else {
            list.serialize(s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum ListOrEmpty<T> {
            List(Vec<T>),
            Empty(serde::de::IgnoredAny),
        }
        Ok(match ListOrEmpty::deserialize(d)? {
            ListOrEmpty::List(v) => v,
            ListOrEmpty::Empty(_) => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_report_lists_are_objects_and_read_back() {
        let a = AnnulledTickets::default();
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(
            text,
            r#"{"annulled_tickets_total_count":0,"annulled_tickets_count":0,"annulled_operationsList":{}}"#
        );
        assert_eq!(serde_json::from_str::<AnnulledTickets>(&text).unwrap(), a);
        let full = r#"{"annulled_tickets_total_count":0,"annulled_tickets_count":0,"annulled_operationsList":[{"operation":2,"count":1,"sum":{"bills":5,"coins":0}}]}"#;
        assert_eq!(serde_json::from_str::<AnnulledTickets>(full).unwrap().operations.len(), 1);
    }
}
