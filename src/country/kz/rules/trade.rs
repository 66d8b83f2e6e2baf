//! `TradeOperation` arithmetic and validation: a pure function from the request to the ticket body and the
//! amounts the shift counters need.
//!
//! It reads a request as the vendor's server reads it (`docs/compat.md` lists each rule with its source):
//! money a POS sent is read by [`money::round_pos_input`] (past the tiyn it is rounded, not refused); what
//! the vendor leaves out (a modifier without a sum, a storno item, an item tax of no known type) is left out
//! with a warning in the log; the POS's own tax sums and item sums are kept, with a warning when they differ
//! from Kassa's; and every refusal has the vendor's code. What Kassa computes itself is rounded by
//! [`money::round`].
use crate::country::kz::document::{
    Amounts, Commodity, ExtensionOptions, ITEM_COMMODITY, ITEM_DISCOUNT, ITEM_MARKUP, Item, KeyValue, Modifier,
    OperatorRef, Payment, TaxLine, Ticket,
};
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::money::{self, MAX_AMOUNT, MAX_QUANTITY, Money};
use crate::country::kz::text::Text;
use crate::text;
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

/// The seed's PaymentTypeEnum: cash, card, credit, tare, mobile. Everything but cash is paid exactly.
pub const PAYMENT_CASH: u8 = 0;
pub const PAYMENT_CARD: u8 = 1;
pub const PAYMENT_CREDIT: u8 = 2;
pub const PAYMENT_TARE: u8 = 3;
pub const PAYMENT_MOBILE: u8 = 4;
const PAYMENT_TYPES: usize = 5;

// The rules a request can break are the error module's (one API code each); named here where they are checked.
pub use crate::country::kz::error::Rule;

fn broke(rule: Rule, detail: Text) -> FiscalError {
    FiscalError::Rule(rule, detail)
}

fn field(field: String, reason: Text) -> FiscalError {
    FiscalError::Field { field, reason }
}

/// A tax as requested.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxInput {
    pub taxation_type: i64,
    /// Percent (12 = 12 %).
    pub percent: Decimal,
    /// The tax the POS computed; kept as the document's tax (Kassa computes it when absent).
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
    /// The cashier as the vendor's operators report keys it: `[code] name`.
    pub operator: String,
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

/// Whether `d` is above zero and at most the largest amount.
fn positive_amount(d: Decimal) -> bool {
    d > Decimal::ZERO && d <= MAX_AMOUNT
}

/// Where a tax stands: an item's taxes leave out a type the vendor does not send, the ticket's refuse it.
#[derive(Clone, Copy, PartialEq)]
enum TaxLevel {
    Item,
    Ticket,
}

/// Checks a list of taxes and takes each one's sum: the POS's, read as the vendor reads it, or computed on
/// `base` when the POS sent none.
fn taxes_on(
    path: &str,
    taxes: &[TaxInput],
    base: Decimal,
    level: TaxLevel,
) -> FiscalResult<Vec<(u32, Decimal, Decimal, bool)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, t) in taxes.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if !(100..=103).contains(&t.taxation_type) {
            // The vendor keeps an item's tax only with a type of 100..103 (`uBaseCoreTypes.pas:612-617`); a
            // ticket's tax may have none (0), and then goes without one (`uProtoUtils.pas:101`, `:109`).
            if level == TaxLevel::Item {
                tracing::warn!(tax = %at, taxation_type = t.taxation_type, "left out: an item's tax needs a taxation type of 100..103");
                continue;
            }
            if t.taxation_type != 0 {
                return Err(broke(
                    Rule::TaxationTypeIncorrect,
                    text!(
                        "{}.taxation_type = {}: допустимы 0 и 100..103",
                        "{}.taxation_type = {}: 0 және 100..103 рұқсат етілген",
                        at,
                        t.taxation_type
                    ),
                ));
            }
        }
        let percent = money::truncate_pos_percent(t.percent);
        let thousandths = money::percent_thousandths(percent).filter(|p| *p <= 100_000).ok_or_else(|| {
            broke(
                Rule::TaxValueIncorrect,
                text!("{}.percent = {}: от 0 до 100", "{}.percent = {}: 0-ден 100-ге дейін", at, t.percent),
            )
        })?;
        if !seen.insert(thousandths) {
            return Err(broke(Rule::TaxPercentRepeated, text!("{}.percent = {}", "{}.percent = {}", at, percent)));
        }
        let exact = if t.is_in_total_sum {
            money::tax_included_exact(base, percent)
        } else {
            money::tax_excluded_exact(base, percent)
        };
        let exact = exact.ok_or_else(|| {
            broke(
                Rule::TaxValueIncorrect,
                text!("{}: налог с {} слишком велик", "{}: {} сомасының салығы тым үлкен", at, base),
            )
        })?;
        let tax = match t.sum {
            None => money::round(exact),
            Some(sent) => {
                let sum = money::round_pos_input(sent);
                // The vendor's one check of a tax: a percent needs a sum above 0 and a sum needs a percent
                // (96, `uProtoUtils.pas:104`); a negative sum at 0 % is negative money (53, `:61`).
                let with_percent = percent > Decimal::ZERO;
                if with_percent != (sum > Decimal::ZERO) || sum > MAX_AMOUNT {
                    return Err(broke(
                        Rule::TaxValueIncorrect,
                        text!("{}.sum = {} при ставке {}%", "{}.sum = {}, мөлшерлеме {}%", at, sent, percent),
                    ));
                }
                if sum < Decimal::ZERO {
                    return Err(broke(Rule::MoneyNegative, text!("{}.sum = {}", "{}.sum = {}", at, sent)));
                }
                if !money::agrees_with_pos(sum, exact) {
                    tracing::warn!(tax = %at, pos = %sum, kassa = %money::round(exact), base = %base, percent = %percent,
                        "the POS's tax differs from Kassa's: the POS's is kept, as the vendor's server keeps it");
                }
                sum
            }
        };
        out.push((thousandths, base, tax, t.is_in_total_sum));
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

/// A discount or markup as the vendor reads it: its sum read by [`money::round_pos_input`]; absent, zero or
/// negative, it is left out (`uBaseCoreTypes.pas:745-748`, `:789`, `:803`).
fn modifier(path: &str, m: Option<&ModifierInput>) -> FiscalResult<Option<ModifierInput>> {
    let Some(m) = m else { return Ok(None) };
    let sum = money::round_pos_input(m.sum);
    if sum <= Decimal::ZERO {
        if sum < Decimal::ZERO {
            tracing::warn!(modifier = %path, sum = %m.sum, "a negative discount or markup is left out, as the vendor's server does");
        }
        return Ok(None);
    }
    if sum > MAX_AMOUNT {
        return Err(field(
            format!("{path}.sum"),
            text!("{} больше 9999999999999.99", "{} мәні 9999999999999.99-дан үлкен", m.sum),
        ));
    }
    Ok(Some(ModifierInput { sum, ..m.clone() }))
}

fn modifier_body(m: &ModifierInput) -> Modifier {
    Modifier {
        name: m.name.clone(),
        sum: Money::from_decimal(m.sum),
        taxes: Vec::new(),
        auxiliary: m.auxiliary.clone(),
    }
}

fn modifier_sum(m: &Option<ModifierInput>) -> Decimal {
    m.as_ref().map_or(Decimal::ZERO, |m| m.sum)
}

/// One commodity with its own discount or markup, as it will appear on the ticket.
struct Line {
    commodity: Commodity,
    sum: Decimal,
    discount: Option<ModifierInput>,
    markup: Option<ModifierInput>,
    taxes: Vec<TaxInput>,
}

/// A commodity as the vendor checks it (`uBaseCoreTypes.pas:580-610`), its figures read as the vendor reads
/// them. Its sum is the POS's; Kassa computes quantity × price only when the POS sent no sum.
fn commodity(path: &str, c: &CommodityInput) -> FiscalResult<(Commodity, Decimal)> {
    if c.name.trim().is_empty() {
        return Err(broke(Rule::CommodityUndefined, text!("{}.name пусто", "{}.name бос", path)));
    }
    if c.measure_unit_code.trim().is_empty() {
        return Err(broke(Rule::MeasureUnitEmpty, Text::same(format!("{path}.measure_unit_code"))));
    }
    if c.section_code.trim().is_empty() {
        return Err(broke(Rule::SectionCodeEmpty, Text::same(format!("{path}.section_code"))));
    }
    let quantity = money::round_pos_quantity(c.quantity);
    let thousandths =
        money::quantity_thousandths(quantity).filter(|q| *q > 0 && quantity <= MAX_QUANTITY).ok_or_else(|| {
            broke(
                Rule::QuantityIncorrect,
                text!(
                    "{}.quantity = {}: больше 0 и не больше {}",
                    "{}.quantity = {}: 0-ден үлкен және {}-ден аспауы керек",
                    path,
                    c.quantity,
                    MAX_QUANTITY
                ),
            )
        })?;
    let price = money::round_pos_input(c.price);
    if !positive_amount(price) {
        return Err(broke(
            Rule::PriceIncorrect,
            text!(
                "{}.price = {}: больше 0 и не больше 9999999999999.99",
                "{}.price = {}: 0-ден үлкен және 9999999999999.99-дан аспауы керек",
                path,
                c.price
            ),
        ));
    }
    // Both bounded above: the product is exact.
    let exact = quantity * price;
    let sum = match c.sum {
        Some(sent) => {
            let sum = money::round_pos_input(sent);
            if !positive_amount(sum) {
                return Err(broke(
                    Rule::ItemSumIncorrect,
                    text!(
                        "{}.sum = {}: больше 0 и не больше 9999999999999.99",
                        "{}.sum = {}: 0-ден үлкен және 9999999999999.99-дан аспауы керек",
                        path,
                        sent
                    ),
                ));
            }
            if !money::agrees_with_pos(sum, exact) {
                tracing::warn!(item = %path, pos = %sum, kassa = %money::round(exact), %quantity, %price,
                    "the POS's item sum differs from quantity × price: the POS's is kept, as the vendor's server keeps it");
            }
            sum
        }
        None => {
            let sum = money::round(exact);
            if !positive_amount(sum) {
                return Err(broke(
                    Rule::ItemSumIncorrect,
                    text!("{}: {} × {} = {}", "{}: {} × {} = {}", path, quantity, price, sum),
                ));
            }
            sum
        }
    };
    let body = Commodity {
        code: 0,
        name: c.name.clone(),
        section_code: c.section_code.clone(),
        quantity: thousandths,
        price: Money::from_decimal(price),
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

/// Groups the items into commodity lines as the vendor does (`uBaseCoreTypes.pas:699-750`): the first item is
/// a commodity (46); type 0 is unknown (50); a commodity carries its own discount or markup, and a discount (5)
/// or markup (3) item right after it (only modifiers between) replaces it; every other type (the storno
/// types 2, 4, 6, and any other number) is left out, and ends the commodity's run of modifiers.
fn lines(items: &[ItemInput]) -> FiscalResult<Vec<Line>> {
    if items.first().map(|i| i.kind) != Some(i64::from(ITEM_COMMODITY)) {
        return Err(broke(
            Rule::CommodityUndefined,
            text!("items[0]: первым должен идти товар (type 1)", "items[0]: бірінші тауар (type 1) болуы керек"),
        ));
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut in_run = false;
    for (i, item) in items.iter().enumerate() {
        let path = format!("items[{i}]");
        match item.kind {
            0 => return Err(broke(Rule::UnknownItemType, Text::same(format!("{path}.type = 0")))),
            k if k == i64::from(ITEM_COMMODITY) => {
                let c = item.commodity.as_ref().ok_or_else(|| {
                    broke(Rule::CommodityUndefined, text!("{}.commodity не задан", "{}.commodity берілмеген", path))
                })?;
                let (commodity, sum) = commodity(&format!("{path}.commodity"), c)?;
                let discount = modifier(&format!("{path}.discount"), item.discount.as_ref())?;
                let markup = modifier(&format!("{path}.markup"), item.markup.as_ref())?;
                lines.push(Line { commodity, sum, discount, markup, taxes: c.taxes.clone() });
                in_run = true;
            }
            k if in_run && k == i64::from(ITEM_DISCOUNT) => {
                if let (Some(line), Some(d)) =
                    (lines.last_mut(), modifier(&format!("{path}.discount"), item.discount.as_ref())?)
                {
                    line.discount = Some(d);
                }
            }
            k if in_run && k == i64::from(ITEM_MARKUP) => {
                if let (Some(line), Some(m)) =
                    (lines.last_mut(), modifier(&format!("{path}.markup"), item.markup.as_ref())?)
                {
                    line.markup = Some(m);
                }
            }
            other => {
                tracing::warn!(item = %path, kind = other, "item left out, as the vendor's server leaves it out");
                in_run = false;
            }
        }
    }
    for (i, line) in lines.iter().enumerate() {
        if line.discount.is_some() && line.markup.is_some() {
            return Err(broke(
                Rule::DiscountAndMarkup,
                text!("товар №{} {:?}", "№{} тауар {:?}", i + 1, line.commodity.name),
            ));
        }
        let discount = modifier_sum(&line.discount);
        if discount >= line.sum {
            return Err(broke(
                Rule::DiscountNotLessThanTotal,
                text!(
                    "скидка {} на товар {:?} с суммой {}",
                    "{:?} тауарына {} жеңілдік, сомасы {}",
                    discount,
                    line.commodity.name,
                    line.sum
                ),
            ));
        }
    }
    Ok(lines)
}

/// Payments summed per type (the vendor refuses no repeated type), each read as the vendor reads it.
fn payments_by_type(payments: &[PaymentInput]) -> FiscalResult<[Option<Decimal>; PAYMENT_TYPES]> {
    let mut by_type: [Option<Decimal>; PAYMENT_TYPES] = [None; PAYMENT_TYPES];
    for (i, p) in payments.iter().enumerate() {
        let slot = usize::try_from(p.kind).ok().and_then(|k| by_type.get_mut(k)).ok_or_else(|| {
            broke(
                Rule::PaymentTypeIncorrect,
                text!(
                    "payments[{}].type = {}: 0 наличные, 1 карта, 2 кредит, 3 тара, 4 мобильный",
                    "payments[{}].type = {}: 0 қолма-қол, 1 карта, 2 несие, 3 ыдыс, 4 мобильді",
                    i,
                    p.kind
                ),
            )
        })?;
        let sum = money::round_pos_input(p.sum);
        let total = slot.unwrap_or_default().checked_add(sum).filter(|t| sum > Decimal::ZERO && *t <= MAX_AMOUNT);
        let total = total.ok_or_else(|| {
            broke(
                Rule::PaymentSumIncorrect,
                text!(
                    "payments[{}].sum = {}: больше 0 и не больше 9999999999999.99",
                    "payments[{}].sum = {}: 0-ден үлкен және 9999999999999.99-дан аспауы керек",
                    i,
                    p.sum
                ),
            )
        })?;
        *slot = Some(total);
    }
    Ok(by_type)
}

/// Checks a trade request against every rule and builds its ticket (shift and fiscal numbers are filled in
/// when the document is committed) and its effect on the counters.
pub fn compute(input: &TradeInput, ctx: &TicketContext) -> FiscalResult<(Ticket, TicketEffects)> {
    let items = input.items.as_deref().unwrap_or_default();
    if items.is_empty() {
        return Err(broke(Rule::ItemsEmpty, Text::same("items")));
    }
    let lines = lines(items)?;
    let item_taxed = lines.iter().any(|l| l.taxes.iter().any(|t| (100..=103).contains(&t.taxation_type)));
    if item_taxed && !input.taxes.is_empty() {
        return Err(broke(Rule::ItemAndTicketTaxes, Text::same("taxes")));
    }
    // `amounts` is optional in the seed's table: absent, every total is computed.
    let no_amounts = AmountsInput::default();
    let amounts = input.amounts.as_ref().unwrap_or(&no_amounts);

    let mut effects = TicketEffects {
        operator: format!("[{}] {}", ctx.operator.code, ctx.operator.name),
        ..TicketEffects::default()
    };
    let mut body_items = Vec::new();
    let mut subtotal = Decimal::ZERO;
    let mut gross = Decimal::ZERO;
    let mut item_discounts = Decimal::ZERO;
    for (i, line) in lines.iter().enumerate() {
        let net = line.sum - modifier_sum(&line.discount) + modifier_sum(&line.markup);
        subtotal += net;
        gross += line.sum;
        item_discounts += modifier_sum(&line.discount);
        let taxes = taxes_on(&format!("items[{i}].commodity.taxes"), &line.taxes, net, TaxLevel::Item)?;
        let mut commodity = line.commodity.clone();
        commodity.taxes = tax_lines(&taxes);
        effects.taxes.extend(taxes);
        effects.lines.push((commodity.section_code.clone(), line.sum));
        body_items.push(Item { kind: ITEM_COMMODITY, commodity: Some(commodity), markup: None, discount: None });
        if let Some(d) = &line.discount {
            effects.discounts.push(d.sum);
            body_items.push(Item {
                kind: ITEM_DISCOUNT,
                commodity: None,
                markup: None,
                discount: Some(modifier_body(d)),
            });
        }
        if let Some(m) = &line.markup {
            effects.markups.push(m.sum);
            body_items.push(Item {
                kind: ITEM_MARKUP,
                commodity: None,
                markup: Some(modifier_body(m)),
                discount: None,
            });
        }
    }

    let ticket_discount = modifier("amounts.discount", amounts.discount.as_ref())?;
    let ticket_markup = modifier("amounts.markup", amounts.markup.as_ref())?;
    if ticket_discount.is_some() && ticket_markup.is_some() {
        return Err(broke(Rule::DiscountAndMarkup, Text::same("amounts")));
    }
    let (discount, markup) = (modifier_sum(&ticket_discount), modifier_sum(&ticket_markup));
    // The vendor sets every discount, the items' and the ticket's, against the commodities' own sums
    // (`uCashRegister.pas:1809`).
    if !discount.is_zero() && item_discounts + discount >= gross {
        return Err(broke(
            Rule::DiscountNotLessThanTotal,
            text!(
                "скидки {} при сумме товаров {}",
                "жеңілдіктер {}, тауарлар сомасы {}",
                item_discounts + discount,
                gross
            ),
        ));
    }
    let total = subtotal - discount + markup;
    if !positive_amount(total) {
        return Err(broke(Rule::SumToPayIncorrect, text!("итог {}", "қорытынды {}", total)));
    }
    if let Some(sent) = amounts.total.map(money::round_pos_input).filter(|t| *t != total) {
        tracing::warn!(pos = %sent, kassa = %total, "amounts.total differs from the computed total: the computed one is used, as the vendor's server does");
    }
    if let Some(d) = &ticket_discount {
        effects.discounts.push(d.sum);
    }
    if let Some(m) = &ticket_markup {
        effects.markups.push(m.sum);
    }
    let ticket_taxes = taxes_on("taxes", &input.taxes, total, TaxLevel::Ticket)?;
    effects.taxes.extend(ticket_taxes.iter().copied());

    // Payments (`uCashRegister.pas:1822-1854`): everything but cash is paid exactly and at most the total;
    // the cash taken is the larger of `amounts.taken` and the cash payment; change comes from cash only.
    let by_type = payments_by_type(&input.payments)?;
    let paid_by = |k: u8| by_type[usize::from(k)].unwrap_or_default();
    let non_cash: Decimal = [PAYMENT_CARD, PAYMENT_CREDIT, PAYMENT_TARE, PAYMENT_MOBILE].into_iter().map(paid_by).sum();
    if non_cash > total {
        return Err(broke(
            Rule::CardSumGreaterThanTotal,
            text!(
                "безналичная оплата {} больше итога {}",
                "қолма-қолсыз төлем {} қорытынды {} сомасынан көп",
                non_cash,
                total
            ),
        ));
    }
    let taken = amounts.taken.map(money::round_pos_input).unwrap_or_default();
    if taken < Decimal::ZERO {
        tracing::warn!(taken = %taken, "a negative amounts.taken is left out, as the vendor's server does");
    }
    let cash = paid_by(PAYMENT_CASH).max(taken).min(MAX_AMOUNT);
    let paid = cash + non_cash;
    if paid <= Decimal::ZERO {
        return Err(broke(
            Rule::PaidSumIncorrect,
            text!(
                "нет ни оплаты (payments), ни полученных наличных (amounts.taken)",
                "төлем де (payments), алынған қолма-қол ақша да (amounts.taken) жоқ"
            ),
        ));
    }
    if paid < total {
        return Err(broke(
            Rule::PaidLessThanTotal,
            text!("оплачено {} при итоге {}", "{} төленді, қорытынды {}", paid, total),
        ));
    }
    let change = paid - total;
    if let Some(sent) = amounts.change.map(money::round_pos_input).filter(|c| !c.is_zero() && *c != change) {
        tracing::warn!(pos = %sent, kassa = %change, "amounts.change differs from the computed change: the computed one is used");
    }
    let cash_net = cash - change;
    effects.cash_delta = if input.operation.pays_out() { -cash_net } else { cash_net };
    if input.operation.pays_out() && cash_net > ctx.cash_sum {
        return Err(broke(
            Rule::NotEnoughCash,
            text!("к выдаче {}, в кассе {}", "берілуі керек {}, кассада {}", cash_net, ctx.cash_sum),
        ));
    }
    let customer = input.customer_iin_or_bin.trim();
    if !customer.is_empty() && customer == ctx.seller_inn.trim() {
        return Err(broke(Rule::SameTaxpayerAndCustomer, Text::same("customer_iin_or_bin")));
    }

    let mut payments = Vec::new();
    // Cash taken with no cash payment sent (`amounts.taken` alone) still shows as a cash payment, so the
    // ticket's payments add up to its total (the vendor leaves the line out).
    let cash_line = by_type[usize::from(PAYMENT_CASH)].is_some() || cash_net > Decimal::ZERO;
    for kind in 0..PAYMENT_TYPES as u8 {
        let recorded = match kind {
            PAYMENT_CASH if cash_line => cash_net,
            PAYMENT_CASH => continue,
            _ => match by_type[usize::from(kind)] {
                Some(sum) => sum,
                None => continue,
            },
        };
        payments.push(Payment { kind, sum: Money::from_decimal(recorded) });
        effects.payments.push((kind, recorded));
    }
    effects.ticket_discount = discount;
    effects.ticket_markup = markup;
    effects.total = total;
    effects.change = change;

    let empty = ModifierInput::default();
    let ticket = Ticket {
        operation: input.operation as u8,
        date_time: ctx.now.into(),
        operator: ctx.operator.clone(),
        domain: input.domain.clone(),
        amounts: Amounts {
            total: Money::from_decimal(total),
            taken: Money::from_decimal(cash),
            change: Money::from_decimal(change),
            markup: modifier_body(ticket_markup.as_ref().unwrap_or(&empty)),
            discount: modifier_body(ticket_discount.as_ref().unwrap_or(&empty)),
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

    fn first(t: &mut TradeInput) -> &mut CommodityInput {
        t.items.as_mut().unwrap()[0].commodity.as_mut().unwrap()
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
        assert_eq!(effects.operator, "[1] Administrator");
    }

    #[test]
    fn a_computed_sum_uses_kassas_rule_and_a_sent_one_the_vendors() {
        let mut t = seed();
        let c = first(&mut t);
        (c.quantity, c.price, c.sum) = (dec!(0.125), dec!(1.00), None);
        t.items.as_mut().unwrap()[0].discount = None;
        t.amounts = None;
        t.taxes.clear();
        t.payments = vec![PaymentInput { kind: 0, sum: dec!(1) }];
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.amounts.total, money(0, 13), "computed: half away from zero");
        first(&mut t).sum = Some(dec!(0.125));
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.amounts.total, money(0, 12), "sent: the vendor's half to even");
    }

    #[test]
    fn every_rule_is_reachable() {
        type Case = (Rule, fn(&mut TradeInput));
        let cases: &[Case] = &[
            (Rule::ItemsEmpty, |t| t.items = None),
            (Rule::ItemsEmpty, |t| t.items = Some(vec![])),
            (Rule::CommodityUndefined, |t| t.items.as_mut().unwrap()[0].commodity = None),
            (Rule::CommodityUndefined, |t| first(t).name.clear()),
            (Rule::CommodityUndefined, |t| {
                t.items.as_mut().unwrap().insert(0, ItemInput { kind: 5, ..Default::default() })
            }),
            (Rule::QuantityIncorrect, |t| first(t).quantity = dec!(0)),
            (Rule::QuantityIncorrect, |t| first(t).quantity = dec!(0.0004)),
            (Rule::UnknownItemType, |t| t.items.as_mut().unwrap().push(ItemInput { kind: 0, ..Default::default() })),
            (Rule::TaxValueIncorrect, |t| t.taxes[0].sum = Some(dec!(0))),
            (Rule::TaxValueIncorrect, |t| t.taxes[0].percent = dec!(101)),
            (Rule::MoneyNegative, |t| {
                t.taxes[0].percent = dec!(0);
                t.taxes[0].sum = Some(dec!(-1));
            }),
            (Rule::PaymentSumIncorrect, |t| t.payments[1].sum = dec!(0)),
            (Rule::PaymentSumIncorrect, |t| t.payments[1].sum = dec!(-1)),
            (Rule::PaymentTypeIncorrect, |t| t.payments[1].kind = 5),
            (Rule::SumToPayIncorrect, |t| {
                first(t).sum = Some(dec!(0.01));
                first(t).price = dec!(0.01);
                first(t).quantity = dec!(1);
                t.items.as_mut().unwrap()[0].discount = None;
                t.amounts = Some(AmountsInput {
                    markup: Some(ModifierInput { sum: dec!(9999999999999.99), ..Default::default() }),
                    ..Default::default()
                });
            }),
            (Rule::CardSumGreaterThanTotal, |t| t.payments[1].sum = dec!(1750.01)),
            (Rule::CardSumGreaterThanTotal, |t| t.payments.push(PaymentInput { kind: 3, sum: dec!(800) })),
            (Rule::PaidSumIncorrect, |t| t.payments.clear()),
            (Rule::PaidLessThanTotal, |t| t.payments = vec![PaymentInput { kind: 1, sum: dec!(1749) }]),
            (Rule::DiscountNotLessThanTotal, |t| {
                t.items.as_mut().unwrap()[0].discount.as_mut().unwrap().sum = dec!(2000)
            }),
            (Rule::DiscountNotLessThanTotal, |t| {
                t.amounts.as_mut().unwrap().discount.as_mut().unwrap().sum = dec!(1950)
            }),
            (Rule::TaxationTypeIncorrect, |t| t.taxes[0].taxation_type = 104),
            (Rule::DiscountAndMarkup, |t| t.amounts.as_mut().unwrap().markup.as_mut().unwrap().sum = dec!(1)),
            (Rule::DiscountAndMarkup, |t| {
                t.items.as_mut().unwrap()[0].markup = Some(ModifierInput { sum: dec!(5), ..Default::default() })
            }),
            (Rule::SameTaxpayerAndCustomer, |t| t.customer_iin_or_bin = "910812450255".into()),
            (Rule::MeasureUnitEmpty, |t| first(t).measure_unit_code.clear()),
            (Rule::SectionCodeEmpty, |t| first(t).section_code.clear()),
            (Rule::ItemAndTicketTaxes, |t| first(t).taxes = vec![tax12(None)]),
            (Rule::TaxPercentRepeated, |t| t.taxes.push(tax12(None))),
            (Rule::TaxPercentRepeated, |t| t.taxes.push(TaxInput { percent: dec!(12.0009), ..tax12(None) })),
            (Rule::PriceIncorrect, |t| first(t).price = dec!(-1)),
            (Rule::PriceIncorrect, |t| first(t).price = dec!(0)),
            (Rule::PriceIncorrect, |t| first(t).price = dec!(0.004)),
            (Rule::ItemSumIncorrect, |t| first(t).sum = Some(dec!(0))),
        ];
        for (expected, mutate) in cases {
            let mut t = seed();
            mutate(&mut t);
            assert_eq!(rule_of(&t), *expected, "{t:?}");
        }
    }

    #[test]
    fn what_the_vendor_leaves_out_is_left_out() {
        let mut t = seed();
        let items = t.items.as_mut().unwrap();
        // A discount item without its discount, a storno item, a negative markup, an unknown type.
        items.push(ItemInput { kind: 5, ..Default::default() });
        items.push(ItemInput { kind: 2, ..Default::default() });
        items.push(ItemInput {
            kind: 3,
            markup: Some(ModifierInput { sum: dec!(-5), ..Default::default() }),
            ..Default::default()
        });
        items.push(ItemInput { kind: 9, ..Default::default() });
        first(&mut t).taxes = vec![TaxInput { taxation_type: 0, ..tax12(None) }];
        t.amounts.as_mut().unwrap().discount.as_mut().unwrap().sum = dec!(-200);
        t.taxes = vec![TaxInput { taxation_type: 0, ..tax12(Some(dec!(208.93))) }];
        t.amounts.as_mut().unwrap().total = Some(dec!(1));
        t.amounts.as_mut().unwrap().change = Some(dec!(3));
        let (ticket, effects) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.items.len(), 2, "the commodity and its own discount");
        assert_eq!(ticket.amounts.total, money(1950, 0), "no ticket discount; the POS's total is replaced");
        assert!(ticket.items[0].commodity.as_ref().unwrap().taxes.is_empty());
        assert_eq!(ticket.taxes, vec![TaxLine { percent: 12000, sum: money(208, 93), is_in_total_sum: true }]);
        assert_eq!(effects.change, dec!(50));
    }

    #[test]
    fn a_later_discount_item_replaces_the_commoditys_own() {
        let mut t = seed();
        let discount = ModifierInput { sum: dec!(70), ..Default::default() };
        t.items.as_mut().unwrap().push(ItemInput { kind: 5, discount: Some(discount), ..Default::default() });
        t.taxes[0].sum = None;
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.items[1].discount.as_ref().unwrap().sum, money(70, 0));
        assert_eq!(ticket.amounts.total, money(1730, 0));
    }

    #[test]
    fn taken_is_the_larger_of_taken_and_the_cash_payment() {
        let mut t = seed();
        t.amounts.as_mut().unwrap().taken = Some(dec!(2000));
        t.payments = vec![PaymentInput { kind: 0, sum: dec!(1750) }];
        let (ticket, effects) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!((ticket.amounts.taken, ticket.amounts.change), (money(2000, 0), money(250, 0)));
        assert_eq!(ticket.payments, vec![Payment { kind: 0, sum: money(1750, 0) }]);
        assert_eq!(effects.cash_delta, dec!(1750));
        // Taken alone, no payment: a cash line is recorded.
        t.payments.clear();
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.payments, vec![Payment { kind: 0, sum: money(1750, 0) }]);
    }

    #[test]
    fn credit_tare_and_repeated_types_are_paid_exactly() {
        let mut t = seed();
        t.payments = vec![
            PaymentInput { kind: 2, sum: dec!(700) },
            PaymentInput { kind: 3, sum: dec!(50) },
            PaymentInput { kind: 1, sum: dec!(500) },
            PaymentInput { kind: 1, sum: dec!(500) },
        ];
        let (ticket, effects) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        let kinds: Vec<(u8, Money)> = ticket.payments.iter().map(|p| (p.kind, p.sum)).collect();
        assert_eq!(kinds, vec![(1, money(1000, 0)), (2, money(700, 0)), (3, money(50, 0))]);
        assert_eq!((effects.change, effects.cash_delta), (Decimal::ZERO, Decimal::ZERO));
    }

    #[test]
    fn figures_past_the_tiyn_are_read_as_the_vendor_reads_them() {
        let mut t = seed();
        let c = first(&mut t);
        (c.quantity, c.price, c.sum) = (dec!(1.5), dec!(333.333), Some(dec!(499.9995)));
        t.items.as_mut().unwrap()[0].discount = None;
        t.amounts = None;
        t.taxes = vec![tax12(Some(dec!(53.571428)))];
        t.payments = vec![PaymentInput { kind: 0, sum: dec!(500.004) }];
        let (ticket, effects) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        let c = ticket.items[0].commodity.as_ref().unwrap();
        assert_eq!((c.price, c.sum), (money(333, 33), money(500, 0)));
        assert_eq!(ticket.taxes[0].sum, money(53, 57));
        assert_eq!((ticket.amounts.total, effects.change), (money(500, 0), Decimal::ZERO));
        // A tax on the gross, before the discount, is kept as sent.
        let mut t = seed();
        t.taxes[0].sum = Some(dec!(214.29));
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!(ticket.taxes[0].sum, money(214, 29));
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
    fn without_amounts_every_total_is_computed() {
        let mut t = seed();
        t.amounts = None;
        t.taxes[0].sum = None;
        let (ticket, _) = compute(&t, &ctx(Decimal::ZERO)).unwrap();
        assert_eq!((ticket.amounts.total, ticket.amounts.change), (money(1950, 0), money(50, 0)));
        assert_eq!(ticket.taxes[0].sum, money(208, 93), "12 % inside 1950");
    }
}
