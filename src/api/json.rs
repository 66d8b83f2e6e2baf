//! Wire formatting shared by the JSON shapes: money as JSON numbers, the seed's date format, and
//! "absent versus null" for fields where the two mean different things.
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serializer};

/// How the seed writes a date that was never set.
pub const NEVER: &str = "1899-12-30T00:00:00.000";

/// The seed's date-time format: local time, milliseconds, no zone.
pub fn format_date(d: &NaiveDateTime) -> String {
    d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// A date that may never have been set.
pub fn format_optional_date(d: &Option<NaiveDateTime>) -> String {
    d.as_ref().map(format_date).unwrap_or_else(|| NEVER.to_owned())
}

/// Writes an amount as a JSON number: `1753` when whole, else the shortest decimal text (`727985.98`).
///
/// Amounts have at most 15 significant digits (13 integer digits and 2 decimals), which an f64's
/// shortest round-trip text reproduces exactly; no arithmetic is done on the float.
pub fn money<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let d = d.normalize();
    if d.scale() == 0
        && let Some(i) = d.to_i64()
    {
        return s.serialize_i64(i);
    }
    s.serialize_f64(d.to_f64().unwrap_or(0.0))
}

/// An amount that serialises by [`money`].
struct Amount<'a>(&'a Decimal);

impl serde::Serialize for Amount<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        money(self.0, s)
    }
}

/// [`money`] for a list of amounts.
pub fn money_list<S: Serializer>(list: &[Decimal], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(list.len()))?;
    for d in list {
        seq.serialize_element(&Amount(d))?;
    }
    seq.end()
}

/// An amount as a JSON value, written by [`money`].
pub fn number(d: &Decimal) -> serde_json::Value {
    serde_json::to_value(Amount(d)).unwrap_or(serde_json::Value::Null)
}

/// Marks a field as present, so `null` (`Some(None)` / `Some(Value::Null)`) differs from absent (`None`).
/// Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn text(d: Decimal) -> String {
        number(&d).to_string()
    }

    #[test]
    fn amounts_print_like_the_seed() {
        assert_eq!(text(dec!(1753)), "1753");
        assert_eq!(text(dec!(1753.00)), "1753");
        assert_eq!(text(dec!(727985.98)), "727985.98");
        assert_eq!(text(dec!(11749.5)), "11749.5");
        assert_eq!(text(dec!(9999999999999.99)), "9999999999999.99");
        assert_eq!(text(dec!(0)), "0");
    }
}
