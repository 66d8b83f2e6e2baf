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

/// Reads a date-time as POS apps send it: the seed's local `2022-02-24T00:00:00.000` (milliseconds and `T`
/// optional, or a bare date), or a moment with `Z` or an offset (`2026-12-02T00:00:00.000Z`, what
/// JavaScript's `toISOString` writes), converted to local time.
pub fn parse_date(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(moment) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(moment.with_timezone(&chrono::Local).naive_local());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
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

/// An amount as a POS sends it, read with the binary-float tolerance of [`tolerant`] to 2 decimals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmountIn(pub Decimal);

/// A quantity or a percentage as a POS sends it, read with [`tolerant`] to 3 decimals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantityIn(pub Decimal);

impl<'de> Deserialize<'de> for AmountIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TolerantVisitor(2)).map(AmountIn)
    }
}

impl<'de> Deserialize<'de> for QuantityIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TolerantVisitor(3)).map(QuantityIn)
    }
}

/// How close a binary float must lie to a value with the field's decimals to stand for it.
const FLOAT_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 6); // 0.000001

/// A number as sent, snapped to `places` decimals when it lies within 1e-6 of such a value: JavaScript's
/// `0.1 * 3` arrives as `0.30000000000000004` and means 0.30. Farther off, the number is kept as sent and the
/// rules read it as the vendor does (`ledger::money::round_pos_input`). All in decimals: an f64 from the parser is read back from its shortest
/// round-trip text (exactly the text sent for numbers of up to 15 significant digits), never computed with.
pub fn tolerant(d: Decimal, places: u32) -> Decimal {
    let near = d.round_dp(places);
    if d.checked_sub(near).is_some_and(|diff| diff.abs() <= FLOAT_TOLERANCE) { near } else { d }
}

struct TolerantVisitor(u32);

impl serde::de::Visitor<'_> for TolerantVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("not a finite number"));
        }
        // `Display` of an f64 is its shortest round-trip text, without an exponent.
        let text = v.to_string();
        // Out of range: named in exponent form (`1e308`), not as its 309 digits.
        let d = text.parse::<Decimal>().map_err(|_| E::custom(format!("{v:e} is out of range")))?;
        Ok(tolerant(d, self.0))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
        let d = v.trim().parse::<Decimal>().map_err(|_| E::custom(format!("{v:?} is not a number")))?;
        Ok(tolerant(d, self.0))
    }
}

/// An id or an enum number as a POS sends it: a JSON integer, or the same integer as a string (`"6923"`,
/// `"2"`), as real POS stacks send ids. The vendor's server refuses the string; Kassa reads it, like money
/// strings (docs/compat.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntIn(pub i64);

impl<'de> Deserialize<'de> for IntIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor).map(IntIn)
    }
}

/// [`IntIn`] for a plain `i64` field: `#[serde(deserialize_with = "int")]`.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    IntIn::deserialize(d).map(|i| i.0)
}

/// The ids of a list, read by [`IntIn`].
pub fn int_list(list: Vec<IntIn>) -> Vec<i64> {
    list.into_iter().map(|i| i.0).collect()
}

struct IntVisitor;

impl serde::de::Visitor<'_> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim().parse::<i64>().map_err(|_| E::custom(format!("{v:?} is not an integer")))
    }
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

    fn amount(json: &str) -> Result<Decimal, serde_json::Error> {
        serde_json::from_str::<AmountIn>(json).map(|a| a.0)
    }

    #[test]
    fn binary_floats_snap_within_a_millionth() {
        assert_eq!(amount("0.30000000000000004").unwrap(), dec!(0.30));
        assert_eq!(amount("1750.0000000001").unwrap(), dec!(1750.00));
        assert_eq!(amount("499.98999999999995").unwrap(), dec!(499.99));
        assert_eq!(amount("1753").unwrap(), dec!(1753));
        assert_eq!(amount("\"12.5\"").unwrap(), dec!(12.5));
        assert_eq!(amount("0.305").unwrap(), dec!(0.305), "further off stays as sent");
        assert_eq!(amount("1.00001").unwrap(), dec!(1.00001));
        let q: QuantityIn = serde_json::from_str("0.30000000000000004").unwrap();
        assert_eq!(q.0, dec!(0.300));
        let q: QuantityIn = serde_json::from_str("1.2345").unwrap();
        assert_eq!(q.0, dec!(1.2345));
        assert!(amount("true").is_err());
        let huge = amount("1e308").unwrap_err().to_string();
        assert!(huge.starts_with("1e308 is out of range"), "named briefly: {huge}");
    }

    #[test]
    fn ids_are_read_from_numbers_and_strings() {
        let id = |json: &str| serde_json::from_str::<IntIn>(json).map(|i| i.0);
        assert_eq!(id("6923").unwrap(), 6923);
        assert_eq!(id("\" 6923 \"").unwrap(), 6923);
        assert_eq!(id("\"-2\"").unwrap(), -2);
        assert!(id("\"6923x\"").unwrap_err().to_string().contains("is not an integer"));
        assert!(id("69.5").is_err());
        assert!(id("18446744073709551615").is_err());
    }

    #[test]
    fn dates_with_a_zone_become_local_time() {
        let local = parse_date("2026-12-02T00:00:00.000").unwrap();
        assert_eq!(format_date(&local), "2026-12-02T00:00:00.000");
        let utc = parse_date("2026-12-02T00:00:00.000Z").unwrap();
        let expected = chrono::DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z").unwrap();
        assert_eq!(utc, expected.with_timezone(&chrono::Local).naive_local());
        let plus5 = parse_date("2026-12-02T05:00:00+05:00").unwrap();
        assert_eq!(plus5, utc);
        assert!(parse_date("02.12.2026").is_none());
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
