//! `TradeOperation` arithmetic and validation: a pure function from the request to the ticket body and the
//! amounts the shift counters need. Every refusal names the seed's rule; all rounding goes through
//! [`money::round`].
use super::document::{
    Amounts, Commodity, ExtensionOptions, ITEM_COMMODITY, ITEM_DISCOUNT, ITEM_MARKUP, Item, KeyValue, Modifier,
    OperatorRef, Payment, TaxLine, Ticket,
};
use super::error::{FiscalError, FiscalResult};
use super::money::{self, MAX_AMOUNT, Money};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// The seed's OperationTypeEnum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Buy = 0,
    BuyReturn = 1,
    Sell = 2,
    SellReturn = 3,
}

impl Operation {
    pub fn from_code(code: i64) -> Option<Operation> {
        match code {
            0 => Some(Operation::Buy),
            1 => Some(Operation::BuyReturn),
            2 => Some(Operation::Sell),
            3 => Some(Operation::SellReturn),
            _ => None,
        }
    }

    /// Cash leaves the drawer (a purchase or a sale's return).
    pub fn pays_out(self) -> bool {
        matches!(self, Operation::Buy | Operation::SellReturn)
    }

    pub fn is_return(self) -> bool {
        matches!(self, Operation::BuyReturn | Operation::SellReturn)
    }
}

/// Payment types the seed allows: cash, card, mobile.
pub const PAYMENT_CASH: u8 = 0;
pub const PAYMENT_CARD: u8 = 1;
pub const PAYMENT_MOBILE: u8 = 4;

/// A business rule of the seed that a request broke; each has its own API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    ItemsUndefined,
    ItemsEmpty,
    CommodityUndefined,
    QuantityIncorrect,
    DiscountUndefined,
    MarkupUndefined,
    UnknownItemType,
    AmountsUndefined,
    TotalIncorrect,
    MoneyNegative,
    SumToPayIncorrect,
    CardSumGreaterThanTotal,
    PaidSumIncorrect,
    PaidLessThanTotal,
    NotEnoughCash,
    DiscountNotLessThanTotal,
    TaxationTypeIncorrect,
    DiscountNegative,
    MarkupNegative,
    DiscountAndMarkup,
    SameTaxpayerAndCustomer,
    MeasureUnitEmpty,
    SectionCodeEmpty,
    ItemAndTicketTaxes,
    TaxPercentRepeated,
    PriceIncorrect,
    ItemSumIncorrect,
    TaxValueIncorrect,
    PaymentSumIncorrect,
    PaymentTypeIncorrect,
}

fn broke(rule: Rule, detail: impl Into<String>) -> FiscalError {
    FiscalError::Rule(rule, detail.into())
}

fn field(field: String, reason: impl Into<String>) -> FiscalError {
    FiscalError::Field { field, reason: reason.into() }
}

/// A tax as requested.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxInput {
    pub taxation_type: i64,
    /// Percent (12 = 12 %).
    pub percent: Decimal,
    /// The tax the POS computed, checked against ours.
    pub sum: Option<Decimal>,
    pub is_in_total_sum: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModifierInput {
    pub name: String,
    pub sum: Decimal,
    pub taxes: Vec<TaxInput>,
    pub auxiliary: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommodityInput {
    pub name: String,
    pub section_code: String,
    pub quantity: Decimal,
    pub price: Decimal,
    pub sum: Option<Decimal>,
    pub taxes: Vec<TaxInput>,
    pub excise_stamp: String,
    pub physical_label: String,
    pub product_id: String,
    pub barcode: String,
    pub measure_unit_code: String,
    pub auxiliary: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemInput {
    pub kind: i64,
    pub commodity: Option<CommodityInput>,
    pub discount: Option<ModifierInput>,
    pub markup: Option<ModifierInput>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PaymentInput {
    pub kind: i64,
    pub sum: Decimal,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AmountsInput {
    pub total: Option<Decimal>,
    pub taken: Option<Decimal>,
    pub change: Option<Decimal>,
    pub markup: Option<ModifierInput>,
    pub discount: Option<ModifierInput>,
}

/// A `TradeOperation` request, parsed but not yet checked against the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeInput {
    pub operation: Operation,
    /// The domain object as sent (`{"type": 0}` when absent).
    pub domain: serde_json::Value,
    pub items: Option<Vec<ItemInput>>,
    pub payments: Vec<PaymentInput>,
    pub taxes: Vec<TaxInput>,
    pub amounts: Option<AmountsInput>,
    pub customer_iin_or_bin: String,
    pub customer_email: String,
    pub customer_phone: String,
    pub auxiliary: Vec<KeyValue>,
}

/// What the ticket does to the shift counters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TicketEffects {
    /// Each commodity line: section and sum before discounts and markups.
    pub lines: Vec<(String, Decimal)>,
    /// Every discount (item and ticket) and every markup, in order.
    pub discounts: Vec<Decimal>,
    pub markups: Vec<Decimal>,
    pub ticket_discount: Decimal,
    pub ticket_markup: Decimal,
    pub total: Decimal,
    pub change: Decimal,
    /// Payments as recorded: cash net of change.
    pub payments: Vec<(u8, Decimal)>,
    /// Cash that enters (positive) or leaves (negative) the drawer.
    pub cash_delta: Decimal,
    /// Tax lines: percent in thousandths, taxable base, tax, included in the base.
    pub taxes: Vec<(u32, Decimal, Decimal, bool)>,
}

/// What the core knows when checking a ticket.
pub struct TicketContext<'a> {
    pub now: NaiveDateTime,
    pub operator: OperatorRef,
    /// The seller's ИИН/БИН from the registration data (empty when unknown).
    pub seller_inn: &'a str,
    /// Cash in the drawer now.
    pub cash_sum: Decimal,
}

fn check_amount(path: &str, d: Decimal) -> FiscalResult<()> {
    if !money::is_exact_money(d) {
        return Err(field(path.to_owned(), "at most 2 decimals"));
    }
    if d.abs() > MAX_AMOUNT {
        return Err(field(path.to_owned(), "larger than 9999999999999.99"));
    }
    Ok(())
}

/// Checks a list of taxes and computes each one on `base`.
fn taxes_on(path: &str, taxes: &[TaxInput], base: Decimal) -> FiscalResult<Vec<(u32, Decimal, Decimal, bool)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, t) in taxes.iter().enumerate() {
        if !(100..=103).contains(&t.taxation_type) {
            return Err(broke(Rule::TaxationTypeIncorrect, format!("{path}[{i}].taxation_type = {}", t.taxation_type)));
        }
        let percent = money::percent_thousandths(t.percent)
            .filter(|p| *p <= 100_000)
            .ok_or_else(|| field(format!("{path}[{i}].percent"), "0 to 100 with at most 3 decimals"))?;
        if !seen.insert(percent) {
            return Err(broke(Rule::TaxPercentRepeated, format!("{path}[{i}].percent = {}", t.percent)));
        }
        let exact = if t.is_in_total_sum {
            money::tax_included_exact(base, t.percent)
        } else {
            money::tax_excluded_exact(base, t.percent)
        };
        let exact = exact.ok_or_else(|| field(format!("{path}[{i}].percent"), "too large for exact arithmetic"))?;
        let mut tax = money::round(exact);
        if let Some(given) = t.sum {
            if !money::agrees_with_pos(given, exact) {
                return Err(broke(
                    Rule::TaxValueIncorrect,
                    format!("{path}[{i}].sum is {given}, the tax on {base} at {}% is {tax}", t.percent),
                ));
            }
            tax = given;
        }
        out.push((percent, base, tax, t.is_in_total_sum));
    }
    Ok(out)
}

fn tax_lines(taxes: &[(u32, Decimal, Decimal, bool)]) -> Vec<TaxLine> {
    taxes
        .iter()
        .map(|(percent, _, tax, included)| TaxLine {
            percent: *percent,
            sum: Money::from_decimal(*tax),
            is_in_total_sum: *included,
        })
        .collect()
}

/// A modifier's checks: sign, exactness and its taxes on `base`.
fn modifier(path: &str, m: &ModifierInput, negative: Rule) -> FiscalResult<Decimal> {
    if m.sum.is_sign_negative() && !m.sum.is_zero() {
        return Err(broke(negative, format!("{path}.sum = {}", m.sum)));
    }
    check_amount(&format!("{path}.sum"), m.sum)?;
    Ok(m.sum)
}

fn modifier_body(m: &ModifierInput, taxes: Vec<TaxLine>) -> Modifier {
    Modifier { name: m.name.clone(), sum: Money::from_decimal(m.sum), taxes, auxiliary: m.auxiliary.clone() }
}

/// One commodity with its own discount or markup, as it will appear on the ticket.
struct Line {
    commodity: Commodity,
    sum: Decimal,
    discount: Option<(ModifierInput, Decimal)>,
    markup: Option<(ModifierInput, Decimal)>,
    taxes: Vec<TaxInput>,
}

fn commodity(path: &str, c: &CommodityInput) -> FiscalResult<(Commodity, Decimal)> {
    if c.name.trim().is_empty() {
        return Err(field(format!("{path}.name"), "must not be empty"));
    }
    if c.section_code.trim().is_empty() {
        return Err(broke(Rule::SectionCodeEmpty, format!("{path}.section_code")));
    }
    if c.measure_unit_code.trim().is_empty() {
        return Err(broke(Rule::MeasureUnitEmpty, format!("{path}.measure_unit_code")));
    }
    if c.quantity.abs() > money::MAX_QUANTITY {
        return Err(field(
            format!("{path}.quantity"),
            format!("{} is larger than {}", c.quantity, money::MAX_QUANTITY),
        ));
    }
    let quantity = money::quantity_thousandths(c.quantity).filter(|q| *q > 0).ok_or_else(|| {
        broke(Rule::QuantityIncorrect, format!("{path}.quantity = {} (above 0, at most 3 decimals)", c.quantity))
    })?;
    if c.price.is_sign_negative() || !money::is_exact_money(c.price) || c.price > MAX_AMOUNT {
        return Err(broke(Rule::PriceIncorrect, format!("{path}.price = {}", c.price)));
    }
    let exact = c
        .quantity
        .checked_mul(c.price)
        .ok_or_else(|| field(format!("{path}.quantity"), format!("{} × {} is too large", c.quantity, c.price)))?;
    let mut sum = money::round(exact);
    if sum > MAX_AMOUNT {
        return Err(broke(Rule::ItemSumIncorrect, format!("{path}: {} × {} is too large", c.quantity, c.price)));
    }
    if let Some(given) = c.sum {
        if !money::agrees_with_pos(given, exact) {
            return Err(broke(
                Rule::ItemSumIncorrect,
                format!("{path}.sum = {given}, but {} × {} = {sum}", c.quantity, c.price),
            ));
        }
        sum = given;
    }
    let body = Commodity {
        code: 0,
        name: c.name.clone(),
        section_code: c.section_code.clone(),
        quantity,
        price: Money::from_decimal(c.price),
        sum: Money::from_decimal(sum),
        excise_stamp: c.excise_stamp.clone(),
        physical_label: c.physical_label.clone(),
        product_id: c.product_id.clone(),
        barcode: c.barcode.clone(),
        measure_unit_code: c.measure_unit_code.clone(),
        taxes: Vec::new(),
        auxiliary: c.auxiliary.clone(),
    };
    Ok((body, sum))
}

/// Groups the items into commodity lines. Since seed 1.3.42 a commodity carries its own discount or markup;
/// a separate type-3/5 item applies to the commodity before it.
fn lines(items: &[ItemInput]) -> FiscalResult<Vec<Line>> {
    let mut lines: Vec<Line> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("items[{i}]");
        let (discount, markup) = match item.kind {
            k if k == i64::from(ITEM_COMMODITY) => {
                let c = item.commodity.as_ref().ok_or_else(|| broke(Rule::CommodityUndefined, path.clone()))?;
                let (commodity, sum) = commodity(&format!("{path}.commodity"), c)?;
                lines.push(Line { commodity, sum, discount: None, markup: None, taxes: c.taxes.clone() });
                (item.discount.clone(), item.markup.clone())
            }
            k if k == i64::from(ITEM_DISCOUNT) => {
                (Some(item.discount.clone().ok_or_else(|| broke(Rule::DiscountUndefined, path.clone()))?), None)
            }
            k if k == i64::from(ITEM_MARKUP) => {
                (None, Some(item.markup.clone().ok_or_else(|| broke(Rule::MarkupUndefined, path.clone()))?))
            }
            other => {
                return Err(broke(Rule::UnknownItemType, format!("{path}.type = {other}")));
            }
        };
        let line = lines.last_mut().ok_or_else(|| {
            broke(Rule::CommodityUndefined, format!("{path}: a discount or markup needs a commodity before it"))
        })?;
        if let Some(d) = discount {
            let sum = modifier(&format!("{path}.discount"), &d, Rule::DiscountNegative)?;
            if line.discount.is_some() {
                return Err(field(format!("{path}.discount"), "a commodity has at most one discount"));
            }
            line.discount = Some((d, sum));
        }
        if let Some(m) = markup {
            let sum = modifier(&format!("{path}.markup"), &m, Rule::MarkupNegative)?;
            if line.markup.is_some() {
                return Err(field(format!("{path}.markup"), "a commodity has at most one markup"));
            }
            line.markup = Some((m, sum));
        }
        let discounted = line.discount.as_ref().is_some_and(|(_, s)| !s.is_zero());
        let marked_up = line.markup.as_ref().is_some_and(|(_, s)| !s.is_zero());
        if discounted && marked_up {
            return Err(broke(Rule::DiscountAndMarkup, path));
        }
        if let Some((_, d)) = &line.discount
            && !d.is_zero()
            && *d >= line.sum
        {
            return Err(broke(
                Rule::DiscountNotLessThanTotal,
                format!("{path}: discount {d} on a sum of {}", line.sum),
            ));
        }
    }
    Ok(lines)
}

/// Checks a trade request against every rule and builds its ticket (shift and fiscal numbers are filled in
/// when the document is committed) and its effect on the counters.
pub fn compute(input: &TradeInput, ctx: &TicketContext) -> FiscalResult<(Ticket, TicketEffects)> {
    let items = input.items.as_ref().ok_or_else(|| broke(Rule::ItemsUndefined, "items"))?;
    if items.is_empty() {
        return Err(broke(Rule::ItemsEmpty, "items"));
    }
    let lines = lines(items)?;
    let item_taxed = lines.iter().any(|l| !l.taxes.is_empty());
    if item_taxed && !input.taxes.is_empty() {
        return Err(broke(Rule::ItemAndTicketTaxes, "taxes"));
    }
    // `amounts` is optional in the seed's table: absent, every total is computed.
    let no_amounts = AmountsInput::default();
    let amounts = input.amounts.as_ref().unwrap_or(&no_amounts);

    let mut effects = TicketEffects::default();
    let mut body_items = Vec::new();
    let mut subtotal = Decimal::ZERO;
    for (i, line) in lines.iter().enumerate() {
        let discount = line.discount.as_ref().map_or(Decimal::ZERO, |(_, s)| *s);
        let markup = line.markup.as_ref().map_or(Decimal::ZERO, |(_, s)| *s);
        let net = line.sum - discount + markup;
        subtotal += net;
        let taxes = taxes_on(&format!("items[{i}].commodity.taxes"), &line.taxes, net)?;
        let mut commodity = line.commodity.clone();
        commodity.taxes = tax_lines(&taxes);
        effects.taxes.extend(taxes);
        effects.lines.push((commodity.section_code.clone(), line.sum));
        body_items.push(Item { kind: ITEM_COMMODITY, commodity: Some(commodity), markup: None, discount: None });
        if let Some((d, sum)) = line.discount.as_ref().filter(|(_, s)| !s.is_zero()) {
            effects.discounts.push(*sum);
            body_items.push(Item {
                kind: ITEM_DISCOUNT,
                commodity: None,
                markup: None,
                discount: Some(modifier_body(d, Vec::new())),
            });
        }
        if let Some((m, sum)) = line.markup.as_ref().filter(|(_, s)| !s.is_zero()) {
            effects.markups.push(*sum);
            body_items.push(Item {
                kind: ITEM_MARKUP,
                commodity: None,
                markup: Some(modifier_body(m, Vec::new())),
                discount: None,
            });
        }
    }

    let empty = ModifierInput::default();
    let ticket_discount =
        amounts.discount.as_ref().map(|d| modifier("amounts.discount", d, Rule::DiscountNegative)).transpose()?;
    let ticket_markup =
        amounts.markup.as_ref().map(|m| modifier("amounts.markup", m, Rule::MarkupNegative)).transpose()?;
    let ticket_discount = ticket_discount.unwrap_or_default();
    let ticket_markup = ticket_markup.unwrap_or_default();
    if !ticket_discount.is_zero() && !ticket_markup.is_zero() {
        return Err(broke(Rule::DiscountAndMarkup, "amounts"));
    }
    if !ticket_discount.is_zero() && ticket_discount >= subtotal {
        return Err(broke(Rule::DiscountNotLessThanTotal, format!("amounts.discount {ticket_discount} on {subtotal}")));
    }
    let total = subtotal - ticket_discount + ticket_markup;
    if total <= Decimal::ZERO || total > MAX_AMOUNT {
        return Err(broke(Rule::SumToPayIncorrect, format!("total {total}")));
    }
    if let Some(given) = amounts.total
        && given != total
    {
        return Err(broke(Rule::TotalIncorrect, format!("amounts.total = {given}, computed {total}")));
    }
    for (path, given) in [("amounts.taken", amounts.taken), ("amounts.change", amounts.change)] {
        if given.is_some_and(|g| g.is_sign_negative() && !g.is_zero()) {
            return Err(broke(Rule::MoneyNegative, path));
        }
    }
    if !ticket_discount.is_zero() {
        effects.discounts.push(ticket_discount);
    }
    if !ticket_markup.is_zero() {
        effects.markups.push(ticket_markup);
    }
    let ticket_taxes = taxes_on("taxes", &input.taxes, total)?;
    effects.taxes.extend(ticket_taxes.iter().copied());

    // Payments: at most one per type; change comes from cash only.
    let mut by_kind: [Option<Decimal>; 5] = [None; 5];
    for (i, p) in input.payments.iter().enumerate() {
        let kind = u8::try_from(p.kind)
            .ok()
            .filter(|k| [PAYMENT_CASH, PAYMENT_CARD, PAYMENT_MOBILE].contains(k))
            .ok_or_else(|| {
                broke(
                    Rule::PaymentTypeIncorrect,
                    format!("payments[{i}].type = {}: 0 (cash), 1 (card) or 4 (mobile)", p.kind),
                )
            })?;
        if p.sum.is_sign_negative() && !p.sum.is_zero() {
            return Err(broke(Rule::MoneyNegative, format!("payments[{i}].sum = {}", p.sum)));
        }
        if !money::is_exact_money(p.sum) || p.sum > MAX_AMOUNT {
            return Err(broke(
                Rule::PaymentSumIncorrect,
                format!("payments[{i}].sum = {}: at most 2 decimals, at most 9999999999999.99", p.sum),
            ));
        }
        let slot = &mut by_kind[usize::from(kind)];
        if slot.is_some() {
            return Err(field(format!("payments[{i}].type"), "one payment per type"));
        }
        *slot = Some(p.sum);
    }
    let paid_by = |k: u8| by_kind[usize::from(k)].unwrap_or_default();
    let cash = paid_by(PAYMENT_CASH);
    let non_cash = paid_by(PAYMENT_CARD) + paid_by(PAYMENT_MOBILE);
    if non_cash > total {
        return Err(broke(Rule::CardSumGreaterThanTotal, format!("card and mobile {non_cash} > total {total}")));
    }
    let paid = cash + non_cash;
    if paid < total {
        return Err(broke(Rule::PaidLessThanTotal, format!("paid {paid} < total {total}")));
    }
    // Card and mobile are capped at the total, so the change never exceeds the cash: it comes from cash only.
    let change = paid - total;
    // The seed sends taken and change as 0 ("compute them"); a non-zero value must agree with ours.
    for (path, given, ours) in [("amounts.taken", amounts.taken, cash), ("amounts.change", amounts.change, change)] {
        if let Some(given) = given.filter(|g| !g.is_zero())
            && given != ours
        {
            return Err(broke(Rule::PaidSumIncorrect, format!("{path} = {given}, computed {ours}")));
        }
    }
    let cash_net = cash - change;
    effects.cash_delta = if input.operation.pays_out() { -cash_net } else { cash_net };
    if input.operation.pays_out() && cash_net > ctx.cash_sum {
        return Err(broke(Rule::NotEnoughCash, format!("{cash_net} to pay out, {} in the drawer", ctx.cash_sum)));
    }
    let customer = input.customer_iin_or_bin.trim();
    if !customer.is_empty() && customer == ctx.seller_inn.trim() {
        return Err(broke(Rule::SameTaxpayerAndCustomer, "customer_iin_or_bin"));
    }

    let mut payments = Vec::new();
    for kind in [PAYMENT_CASH, PAYMENT_CARD, PAYMENT_MOBILE] {
        if let Some(sum) = by_kind[usize::from(kind)] {
            let recorded = if kind == PAYMENT_CASH { cash_net } else { sum };
            payments.push(Payment { kind, sum: Money::from_decimal(recorded) });
            effects.payments.push((kind, recorded));
        }
    }
    effects.ticket_discount = ticket_discount;
    effects.ticket_markup = ticket_markup;
    effects.total = total;
    effects.change = change;

    let ticket = Ticket {
        operation: input.operation as u8,
        date_time: ctx.now.into(),
        operator: ctx.operator.clone(),
        domain: input.domain.clone(),
        amounts: Amounts {
            total: Money::from_decimal(total),
            taken: Money::from_decimal(cash),
            change: Money::from_decimal(change),
            markup: modifier_body(amounts.markup.as_ref().unwrap_or(&empty), Vec::new()),
            discount: modifier_body(amounts.discount.as_ref().unwrap_or(&empty), Vec::new()),
        },
        extension_options: ExtensionOptions {
            customer_email: input.customer_email.clone(),
            customer_phone: input.customer_phone.clone(),
            customer_iin_or_bin: customer.to_owned(),
            auxiliary: input.auxiliary.clone(),
        },
        offline_ticket_number: 0,
        printed_document_number_old: String::new(),
        printed_ticket: String::new(),
        fr_shift_number: 0,
        shift_document_number: 0,
        printed_document_number: 0,
        items: body_items,
        payments,
        taxes: tax_lines(&ticket_taxes),
        ad_infos: Vec::new(),
        parent_ticket: None,
    };
    Ok((ticket, effects))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn tax12(sum: Option<Decimal>) -> TaxInput {
        TaxInput { taxation_type: 101, percent: dec!(12), sum, is_in_total_sum: true }
    }

    /// The seed's TradeOperation example.
    fn seed() -> TradeInput {
        TradeInput {
            operation: Operation::Sell,
            domain: serde_json::json!({"type": 0}),
            items: Some(vec![ItemInput {
                kind: 1,
                commodity: Some(CommodityInput {
                    name: "tovar1".into(),
                    section_code: "Отдел1".into(),
                    quantity: dec!(2),
                    price: dec!(1000),
                    sum: Some(dec!(2000)),
                    measure_unit_code: "116".into(),
                    ..Default::default()
                }),
                discount: Some(ModifierInput {
                    name: "Скидка на позицию tovar1".into(),
                    sum: dec!(50),
                    ..Default::default()
                }),
                markup: None,
            }]),
            payments: vec![PaymentInput { kind: 0, sum: dec!(1000) }, PaymentInput { kind: 1, sum: dec!(1000) }],
            taxes: vec![tax12(Some(dec!(187.5)))],
            amounts: Some(AmountsInput {
                total: Some(dec!(1750)),
                taken: Some(dec!(0)),
                change: Some(dec!(0)),
                markup: Some(ModifierInput { name: String::new(), sum: dec!(0), ..Default::default() }),
                discount: Some(ModifierInput {
                    name: "Сумма общей скидки".into(),
                    sum: dec!(200),
                    ..Default::default()
                }),
            }),
            customer_iin_or_bin: "123456789012".into(),
            customer_email: String::new(),
            customer_phone: String::new(),
            auxiliary: Vec::new(),
        }
    }

    fn ctx(cash: Decimal) -> TicketContext<'static> {
        TicketContext {
            now: chrono::NaiveDate::from_ymd_opt(2025, 1, 17).unwrap().and_hms_opt(13, 34, 37).unwrap(),
            operator: OperatorRef { code: 1, name: "Administrator".into() },
            seller_inn: "910812450255",
            cash_sum: cash,
        }
    }

    fn rule_of(input: &TradeInput) -> Rule {
        match compute(input, &ctx(dec!(100000))) {
            Err(FiscalError::Rule(rule, _)) => rule,
            other => panic!("expected a rule, got {other:?}"),
        }
    }

    fn money(bills: u64, coins: u32) -> Money {
        Money { bills, coins }
    }

    #[test]
    fn the_seed_example_to_the_tiyn() {
        let (ticket, effects) = compute(&seed(), &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.amounts.total, money(1750, 0));
        assert_eq!(ticket.amounts.taken, money(1000, 0));
        assert_eq!(ticket.amounts.change, money(250, 0));
        assert_eq!(ticket.amounts.discount.sum, money(200, 0));
        assert_eq!(
            ticket.payments,
            vec![Payment { kind: 0, sum: money(750, 0) }, Payment { kind: 1, sum: money(1000, 0) }]
        );
        assert_eq!(ticket.taxes, vec![TaxLine { percent: 12000, sum: money(187, 50), is_in_total_sum: true }]);
        assert_eq!(ticket.items.len(), 2);
        assert_eq!(ticket.items[1].kind, ITEM_DISCOUNT);
        assert_eq!(ticket.items[1].discount.as_ref().unwrap().sum, money(50, 0));
        let c = ticket.items[0].commodity.as_ref().unwrap();
        assert_eq!((c.quantity, c.price, c.sum), (2000, money(1000, 0), money(2000, 0)));
        assert_eq!(effects.discounts, vec![dec!(50), dec!(200)]);
        assert_eq!(effects.cash_delta, dec!(750));
        assert_eq!(effects.taxes, vec![(12000, dec!(1750), dec!(187.50), true)]);
    }

    #[test]
    fn rounding_of_fractional_quantities_uses_the_one_rule() {
        let mut t = seed();
        let items = t.items.as_mut().unwrap();
        let c = items[0].commodity.as_mut().unwrap();
        (c.quantity, c.price, c.sum) = (dec!(0.125), dec!(1.00), Some(dec!(0.13)));
        items[0].discount = None;
        t.amounts = Some(AmountsInput::default());
        t.taxes.clear();
        t.payments = vec![PaymentInput { kind: 0, sum: dec!(1) }];
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.amounts.total, money(0, 13));
        assert_eq!(ticket.amounts.change, money(0, 87));
    }

    #[test]
    fn every_rule_is_reachable() {
        type Case = (Rule, fn(&mut TradeInput));
        let cases: &[Case] = &[
            (Rule::ItemsUndefined, |t| t.items = None),
            (Rule::ItemsEmpty, |t| t.items = Some(vec![])),
            (Rule::CommodityUndefined, |t| t.items.as_mut().unwrap()[0].commodity = None),
            (Rule::QuantityIncorrect, |t| t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().quantity = dec!(0)),
            (Rule::QuantityIncorrect, |t| {
                t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().quantity = dec!(1.0001)
            }),
            (Rule::DiscountUndefined, |t| t.items.as_mut().unwrap().push(ItemInput { kind: 5, ..Default::default() })),
            (Rule::MarkupUndefined, |t| t.items.as_mut().unwrap().push(ItemInput { kind: 3, ..Default::default() })),
            (Rule::UnknownItemType, |t| t.items.as_mut().unwrap()[0].kind = 2),
            (Rule::TaxValueIncorrect, |t| t.taxes[0].sum = Some(dec!(187.49))),
            (Rule::PaymentSumIncorrect, |t| t.payments[1].sum = dec!(1000.001)),
            (Rule::PaymentTypeIncorrect, |t| t.payments[1].kind = 2),
            (Rule::TotalIncorrect, |t| t.amounts.as_mut().unwrap().total = Some(dec!(1749.99))),
            (Rule::MoneyNegative, |t| t.payments[1].sum = dec!(-1)),
            (Rule::MoneyNegative, |t| t.amounts.as_mut().unwrap().taken = Some(dec!(-5))),
            (Rule::SumToPayIncorrect, |t| {
                t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().price = dec!(0);
                t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().sum = None;
                t.items.as_mut().unwrap()[0].discount = None;
                t.amounts = Some(AmountsInput::default());
            }),
            (Rule::CardSumGreaterThanTotal, |t| t.payments[1].sum = dec!(1750.01)),
            (Rule::PaidSumIncorrect, |t| t.amounts.as_mut().unwrap().change = Some(dec!(200))),
            (Rule::PaidSumIncorrect, |t| t.amounts.as_mut().unwrap().taken = Some(dec!(1750))),
            (Rule::PaidLessThanTotal, |t| t.payments = vec![PaymentInput { kind: 1, sum: dec!(1749) }]),
            (Rule::DiscountNotLessThanTotal, |t| {
                t.items.as_mut().unwrap()[0].discount.as_mut().unwrap().sum = dec!(2000)
            }),
            (Rule::DiscountNotLessThanTotal, |t| {
                t.amounts.as_mut().unwrap().discount.as_mut().unwrap().sum = dec!(1950)
            }),
            (Rule::TaxationTypeIncorrect, |t| t.taxes[0].taxation_type = 104),
            (Rule::DiscountNegative, |t| t.items.as_mut().unwrap()[0].discount.as_mut().unwrap().sum = dec!(-1)),
            (Rule::DiscountNegative, |t| t.amounts.as_mut().unwrap().discount.as_mut().unwrap().sum = dec!(-1)),
            (Rule::MarkupNegative, |t| t.amounts.as_mut().unwrap().markup.as_mut().unwrap().sum = dec!(-1)),
            (Rule::DiscountAndMarkup, |t| t.amounts.as_mut().unwrap().markup.as_mut().unwrap().sum = dec!(1)),
            (Rule::DiscountAndMarkup, |t| {
                t.items.as_mut().unwrap()[0].markup = Some(ModifierInput { sum: dec!(5), ..Default::default() })
            }),
            (Rule::SameTaxpayerAndCustomer, |t| t.customer_iin_or_bin = "910812450255".into()),
            (Rule::MeasureUnitEmpty, |t| {
                t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().measure_unit_code.clear()
            }),
            (Rule::SectionCodeEmpty, |t| t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().section_code.clear()),
            (Rule::ItemAndTicketTaxes, |t| {
                t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().taxes = vec![tax12(None)]
            }),
            (Rule::TaxPercentRepeated, |t| t.taxes.push(tax12(None))),
            (Rule::PriceIncorrect, |t| t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().price = dec!(-1)),
            (Rule::PriceIncorrect, |t| t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().price = dec!(1.001)),
            (Rule::ItemSumIncorrect, |t| {
                t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().sum = Some(dec!(1999))
            }),
        ];
        for (expected, mutate) in cases {
            let mut t = seed();
            mutate(&mut t);
            assert_eq!(rule_of(&t), *expected);
        }
    }

    #[test]
    fn cash_out_needs_cash_in_the_drawer() {
        let mut t = seed();
        t.operation = Operation::Buy;
        let rule = match compute(&t, &ctx(dec!(749.99))) {
            Err(FiscalError::Rule(rule, _)) => rule,
            other => panic!("{other:?}"),
        };
        assert_eq!(rule, Rule::NotEnoughCash);
        let (_, effects) = compute(&t, &ctx(dec!(750))).unwrap();
        assert_eq!(effects.cash_delta, dec!(-750));
    }

    #[test]
    fn a_wrong_tax_sum_is_96_naming_its_field() {
        let mut t = seed();
        t.taxes[0].sum = Some(dec!(187.49));
        match compute(&t, &ctx(Decimal::ZERO)) {
            Err(FiscalError::Rule(Rule::TaxValueIncorrect, detail)) => assert!(detail.starts_with("taxes[0].sum")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_amounts_every_total_is_computed() {
        let mut t = seed();
        t.amounts = None;
        t.taxes[0].sum = Some(dec!(208.93)); // 12 % inside 1950, no ticket discount now
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!((ticket.amounts.total, ticket.amounts.change), (money(1950, 0), money(50, 0)));
    }

    #[test]
    fn a_pos_figure_under_a_tiyn_off_is_kept_and_a_tiyn_off_is_refused() {
        let mut t = seed();
        let items = t.items.as_mut().unwrap();
        items[0].discount = None;
        let c = items[0].commodity.as_mut().unwrap();
        (c.quantity, c.price, c.sum) = (dec!(1.5), dec!(333.33), Some(dec!(499.99)));
        t.amounts = Some(AmountsInput { total: Some(dec!(499.99)), ..Default::default() });
        t.taxes = vec![tax12(Some(dec!(53.57)))]; // 499.99 × 12 / 112 = 53.570…
        t.payments = vec![PaymentInput { kind: 0, sum: dec!(500) }];
        let (ticket, effects) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.items[0].commodity.as_ref().unwrap().sum, money(499, 99));
        assert_eq!((ticket.amounts.total, effects.change), (money(499, 99), dec!(0.01)));
        let mut off = t.clone();
        off.items.as_mut().unwrap()[0].commodity.as_mut().unwrap().sum = Some(dec!(499.98));
        assert_eq!(rule_of(&off), Rule::ItemSumIncorrect);
        let mut off = t.clone();
        off.taxes[0].sum = Some(dec!(53.59));
        assert_eq!(rule_of(&off), Rule::TaxValueIncorrect);
    }
}
