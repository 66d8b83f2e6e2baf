//! Money: the rounding rules and the conversions between amounts, Money `{bills, coins}` and quantities.
//!
//! Every amount is a `Decimal`. Two rules turn a figure into money, and only these two:
//!
//! - [`round`], half away from zero to the hundredth (the tiyn, 0.01 tenge; the kopeck, 0.01 BYN), for every
//!   amount Kassa computes itself (a tax, a quantity × price, a Belarusian or Ukrainian sum);
//! - [`round_pos_input`], the Kazakh vendor's reading of a figure a POS sent (a price, an item sum, a tax, a
//!   payment, a placement), half to even through the vendor's 4-decimal `Currency`, so a figure past the tiyn
//!   becomes the tiyn the vendor's server would have fiscalised (docs/compat.md says why).
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The largest amount Kassa accepts: 13 integer digits and 2 decimals fit the protocol and print exactly.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_319, 232_830, 0, false, 2); // 9_999_999_999_999.99

/// THE rounding rule: half away from zero to the tiyn (2.345 → 2.35, −2.345 → −2.35).
pub fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The vendor's rounding of a money figure a POS sent: Delphi's `Currency` keeps 4 decimals, then
/// `SumToProto` takes `Round(value × 100)`, both half to even (`uProtoUtils.pas:64`): 26.991 → 26.99,
/// 26.995 → 27.00, 26.985 → 26.98, 0.125 → 0.12. Only for input; computed figures use [`round`].
pub fn round_pos_input(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
}

/// The vendor's reading of a quantity a POS sent: `round(quantity × 1000)`, half to even, so a quantity past
/// the thousandth is rounded, not refused (`uBaseCoreTypes.pas:609`).
pub fn round_pos_quantity(q: Decimal) -> Decimal {
    q.round_dp_with_strategy(3, RoundingStrategy::MidpointNearestEven)
}

/// The vendor's reading of a tax percent a POS sent: `Trunc(percent × 1000)`, cut to the thousandth
/// (`uProtoUtils.pas:111`).
pub fn truncate_pos_percent(p: Decimal) -> Decimal {
    p.round_dp_with_strategy(3, RoundingStrategy::ToZero)
}

/// How far a POS's own rounded figure (an item's sum, a tax) may lie from the exact value before Kassa logs
/// the difference: under one tiyn is a POS's own rounding (1.5 × 333.33 = 499.995 truncated to 499.99). The
/// POS's figure is kept either way, as the vendor's server keeps it; totals are summed from the kept figures.
pub const POS_ROUNDING_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2); // 0.01

/// Whether a POS's rounded `given` stands for the exact value `exact` (less than a tiyn apart, whole tiyn).
pub fn agrees_with_pos(given: Decimal, exact: Decimal) -> bool {
    // Checked: the figures may be extreme (a difference too large to compute is no agreement).
    is_exact_money(given) && given.checked_sub(exact).is_some_and(|d| d.abs() < POS_ROUNDING_TOLERANCE)
}

/// Whether `d` is already whole tiyn (no rounding needed).
pub fn is_exact_money(d: Decimal) -> bool {
    round(d) == d
}

/// The largest quantity of one line: thousandths up to 999 999 999.999 keep quantity × price exact.
pub const MAX_QUANTITY: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 3); // 999_999_999_999 / 1000

/// The protocol's Money: whole tenge and tiyn, both unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Money {
    pub bills: u64,
    pub coins: u32,
}

impl Money {
    /// Money for a non-negative amount, rounded by [`round`]; negative amounts give zero (callers check signs).
    pub fn from_decimal(d: Decimal) -> Money {
        let d = round(d.max(Decimal::ZERO));
        let tiyn = (d * Decimal::ONE_HUNDRED).trunc();
        let tiyn: u64 = tiyn.try_into().unwrap_or(u64::MAX);
        Money { bills: tiyn / 100, coins: (tiyn % 100) as u32 }
    }

    /// The amount this Money stands for.
    pub fn to_decimal(self) -> Decimal {
        Decimal::from(self.bills) + Decimal::new(i64::from(self.coins), 2)
    }
}

/// A quantity in thousandths, as the protocol carries it (2.5 kg → 2500); `None` when it has more than three
/// decimals or does not fit.
pub fn quantity_thousandths(q: Decimal) -> Option<u64> {
    let scaled = q.checked_mul(Decimal::ONE_THOUSAND)?;
    if scaled.fract() != Decimal::ZERO || scaled.is_sign_negative() {
        return None;
    }
    scaled.try_into().ok()
}

/// A percentage in thousandths of a percent (12 % → 12000); `None` past three decimals or out of range.
pub fn percent_thousandths(p: Decimal) -> Option<u32> {
    let scaled = p.checked_mul(Decimal::ONE_THOUSAND)?;
    if scaled.fract() != Decimal::ZERO || scaled.is_sign_negative() {
        return None;
    }
    scaled.try_into().ok()
}

/// The tax inside an amount that includes it: `amount × p / (100 + p)`, rounded by [`round`]; `None` when
/// the numbers are too large for exact arithmetic.
pub fn tax_included(amount: Decimal, percent: Decimal) -> Option<Decimal> {
    tax_included_exact(amount, percent).map(round)
}

/// The tax on top of an amount that excludes it: `amount × p / 100`, rounded by [`round`]; `None` when
/// the numbers are too large for exact arithmetic.
pub fn tax_excluded(amount: Decimal, percent: Decimal) -> Option<Decimal> {
    tax_excluded_exact(amount, percent).map(round)
}

/// [`tax_included`] before rounding.
pub fn tax_included_exact(amount: Decimal, percent: Decimal) -> Option<Decimal> {
    let divisor = Decimal::ONE_HUNDRED.checked_add(percent).filter(|d| !d.is_zero())?;
    amount.checked_mul(percent)?.checked_div(divisor)
}

/// [`tax_excluded`] before rounding.
pub fn tax_excluded_exact(amount: Decimal, percent: Decimal) -> Option<Decimal> {
    amount.checked_mul(percent)?.checked_div(Decimal::ONE_HUNDRED)
}

/// `quantity × price` rounded by [`round`]; `None` when it is too large for exact arithmetic.
pub fn line_sum(quantity: Decimal, price: Decimal) -> Option<Decimal> {
    quantity.checked_mul(price).map(round)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round(dec!(2.345)), dec!(2.35));
        assert_eq!(round(dec!(0.125)), dec!(0.13));
        assert_eq!(round(dec!(-2.345)), dec!(-2.35));
        assert_eq!(round(dec!(2.344)), dec!(2.34));
    }

    #[test]
    fn pos_input_is_read_as_the_vendor_reads_it() {
        assert_eq!(round_pos_input(dec!(26.991)), dec!(26.99));
        assert_eq!(round_pos_input(dec!(26.995)), dec!(27.00));
        assert_eq!(round_pos_input(dec!(26.985)), dec!(26.98));
        assert_eq!(round_pos_input(dec!(0.125)), dec!(0.12));
        assert_eq!(round_pos_input(dec!(0.30000000000000004)), dec!(0.30));
        // Through the 4-decimal Currency first: 0.00499999 is 0.0050 there, then half to even.
        assert_eq!(round_pos_input(dec!(0.01499999)), dec!(0.02));
        assert_eq!(round_pos_quantity(dec!(1.0005)), dec!(1.000));
        assert_eq!(round_pos_quantity(dec!(1.0015)), dec!(1.002));
        assert_eq!(truncate_pos_percent(dec!(12.34567)), dec!(12.345));
    }

    #[test]
    fn the_seed_vat_example() {
        assert_eq!(tax_included(dec!(1750), dec!(12)), Some(dec!(187.50)));
        assert_eq!(tax_included(Decimal::MAX, Decimal::MAX), None, "too large: no panic");
        assert_eq!(quantity_thousandths(dec!(10000000000000000000000000000)), None);
        assert_eq!(line_sum(Decimal::MAX, dec!(2)), None);
    }

    #[test]
    fn money_and_quantities() {
        assert_eq!(Money::from_decimal(dec!(727985.98)), Money { bills: 727985, coins: 98 });
        assert_eq!(Money::from_decimal(dec!(187.5)).to_decimal(), dec!(187.50));
        assert_eq!(MAX_AMOUNT, dec!(9999999999999.99));
        assert_eq!(MAX_QUANTITY, dec!(999999999.999));
        assert_eq!(quantity_thousandths(dec!(2)), Some(2000));
        assert_eq!(quantity_thousandths(dec!(0.0015)), None);
        assert_eq!(percent_thousandths(dec!(12)), Some(12000));
        assert_eq!(percent_thousandths(dec!(12.5)), Some(12500));
    }

    proptest! {
        #[test]
        fn money_round_trips_every_tiyn(tiyn in 0u64..=999_999_999_999_999) {
            let d = Decimal::new(tiyn as i64, 2);
            let m = Money::from_decimal(d);
            prop_assert_eq!(m.to_decimal(), d);
            prop_assert!(m.coins < 100);
        }

        #[test]
        fn rounding_moves_less_than_half_a_tiyn(units in -10_000_000_000i64..10_000_000_000, scale in 0u32..6) {
            let d = Decimal::new(units, scale);
            let r = round(d);
            prop_assert!((r - d).abs() <= dec!(0.005));
            prop_assert!(is_exact_money(r));
        }
    }
}
