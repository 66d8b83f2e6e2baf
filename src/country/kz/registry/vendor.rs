//! Factory numbers (ЗНМ) as the vendor makes them (`uCashRegister.pas:185-202`): the licence prefix, `1`, and
//! the milliseconds since 2021-01-01 00:00 (local time) in 12 digits, so the number tells its manufacture
//! date (`ISCR1018036404743` is 2021-07-28 18:06:44.743). Never the same twice: on a clash the next
//! millisecond is tried, and the number is recorded in the same transaction.
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::store::Tx;
use chrono::{NaiveDate, NaiveDateTime};

/// Digits of the millisecond count.
const DIGITS: usize = 12;
/// The most milliseconds ahead of now a number may be drawn on clashes.
const MAX_CLASHES: i64 = 10_000;

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2021, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

/// Issues a new number made at `now`, with the manufacture date it tells.
pub(in crate::country::kz) fn issue(
    tx: &Tx,
    prefix: &str,
    now: &NaiveDateTime,
) -> FiscalResult<(String, NaiveDateTime)> {
    let issued_at = now.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    let start = (*now - epoch()).num_milliseconds().max(0);
    for ms in start..start + MAX_CLASHES {
        let digits = format!("{ms:0DIGITS$}");
        if digits.len() > DIGITS {
            break;
        }
        let candidate = format!("{prefix}1{digits}");
        if tx.claim_vendor_id(&candidate, &issued_at)? {
            return Ok((candidate, epoch() + chrono::Duration::milliseconds(ms)));
        }
    }
    Err(FiscalError::VendorIdExhausted)
}

/// The manufacture date a factory number tells (its last 12 digits), as the vendor reads it back; `None` for
/// a number not made this way.
pub fn manufacture_date(vendor_id: &str) -> Option<NaiveDateTime> {
    let digits = vendor_id.get(vendor_id.len().checked_sub(DIGITS + 1)?..)?;
    let ms: i64 = digits.strip_prefix('1')?.parse().ok()?;
    Some(epoch() + chrono::Duration::milliseconds(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendors_example_tells_its_date() {
        let made = manufacture_date("ISCR1018036404743").unwrap();
        assert_eq!(made.format("%Y-%m-%d %H:%M:%S%.3f").to_string(), "2021-07-28 18:06:44.743");
        assert_eq!(manufacture_date("X"), None);
        assert_eq!(manufacture_date("ISCR2018036404743"), None);
    }
}
