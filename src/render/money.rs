//! Exact formatting of money, quantities, percents and dates for receipts.
//!
//! Money arrives as `{bills, coins}` integers in documents and as JSON numbers in requests.
//! Numbers are read from their decimal text, never through f64 arithmetic, so `727985.98`
//! prints as `727 985.98`. Output groups thousands with a space: `1 750.00`.

/// A decimal amount as an integer count of 10^-scale units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixed {
    pub units: i128,
    pub scale: u32,
}

/// Parses a plain decimal (`-12`, `727985.98`, `1.5e3` is refused) exactly.
pub fn parse_decimal(s: &str) -> Option<Fixed> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if int.len() + frac.len() > 30 {
        return None;
    }
    let mut units: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        units = units * 10 + (b - b'0') as i128;
    }
    Some(Fixed { units: if neg { -units } else { units }, scale: frac.len() as u32 })
}

impl Fixed {
    /// Rescales to `scale` digits, rounding half away from zero.
    pub fn rescale(self, scale: u32) -> Fixed {
        if scale >= self.scale {
            let k = 10i128.pow(scale - self.scale);
            return Fixed { units: self.units * k, scale };
        }
        let k = 10i128.pow(self.scale - scale);
        let q = self.units / k;
        let r = self.units % k;
        let units = if r.abs() * 2 >= k { q + self.units.signum() } else { q };
        Fixed { units, scale }
    }
}

/// Groups the digits of a non-negative integer by three with spaces.
fn group(n: u128) -> String {
    let digits = match u64::try_from(n) {
        Ok(small) => small.to_string(),
        Err(_) => n.to_string(),
    };
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, d) in digits.char_indices() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(d);
    }
    out
}

/// Formats tiyn (hundredths) as `1 750.00`.
pub fn format_tiyn(tiyn: i128) -> String {
    let a = tiyn.unsigned_abs();
    let mut out = String::with_capacity(24);
    if tiyn < 0 {
        out.push('-');
    }
    out.push_str(&group(a / 100));
    let cents = (a % 100) as u8;
    out.push('.');
    out.push((b'0' + cents / 10) as char);
    out.push((b'0' + cents % 10) as char);
    out
}

/// Money from `{bills, coins}`.
pub fn from_parts(bills: i128, coins: i128) -> i128 {
    bills * 100 + coins
}

/// Formats a thousandths count (quantities, percents) without trailing zeros: 2000 → `2`,
/// 1250 → `1.25`, 12000 → `12`.
pub fn format_thousandths(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let (int, frac) = (a / 1000, a % 1000);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let f = format!("{frac:03}");
    format!("{sign}{int}.{}", f.trim_end_matches('0'))
}

/// `dd.mm.yyyy`, `hh:mm:ss`, or both, from numbers; a zero year means "not set" → empty.
pub fn format_datetime(date: Option<(i64, i64, i64)>, time: Option<(i64, i64, i64)>) -> String {
    let d = date.filter(|(y, _, _)| *y > 0).map(|(y, m, d)| format!("{d:02}.{m:02}.{y:04}"));
    let t = time.map(|(h, m, s)| format!("{h:02}:{m:02}:{s:02}"));
    match (d, t) {
        (Some(d), Some(t)) => format!("{d} {t}"),
        (Some(d), None) => d,
        (None, Some(t)) if date.is_none() => t,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money() {
        assert_eq!(format_tiyn(from_parts(1750, 0)), "1 750.00");
        assert_eq!(format_tiyn(from_parts(187, 50)), "187.50");
        assert_eq!(format_tiyn(from_parts(729736, 98)), "729 736.98");
        assert_eq!(format_tiyn(from_parts(1_000_000, 5)), "1 000 000.05");
        assert_eq!(format_tiyn(-5), "-0.05");
        assert_eq!(format_tiyn(0), "0.00");
    }

    #[test]
    fn decimals_are_exact_and_round_half_away() {
        let f = parse_decimal("727985.98").map(|f| f.rescale(2).units);
        assert_eq!(f, Some(72798598));
        assert_eq!(parse_decimal("2.345").map(|f| f.rescale(2).units), Some(235));
        assert_eq!(parse_decimal("-2.345").map(|f| f.rescale(2).units), Some(-235));
        assert_eq!(parse_decimal("0.125").map(|f| f.rescale(2).units), Some(13));
        assert_eq!(parse_decimal("12").map(|f| f.rescale(2).units), Some(1200));
        assert_eq!(parse_decimal("1e5"), None);
        assert_eq!(parse_decimal("abc"), None);
    }

    #[test]
    fn thousandths_and_dates() {
        assert_eq!(format_thousandths(2000), "2");
        assert_eq!(format_thousandths(1250), "1.25");
        assert_eq!(format_thousandths(12000), "12");
        assert_eq!(format_thousandths(5), "0.005");
        assert_eq!(format_datetime(Some((2025, 1, 17)), Some((13, 4, 7))), "17.01.2025 13:04:07");
        assert_eq!(format_datetime(Some((0, 0, 0)), Some((0, 0, 0))), "");
    }
}
