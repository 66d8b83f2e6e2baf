//! The Ukrainian rules, pure: amounts in hryvnia with kopiyky (exact `Decimal`, rounded only by
//! `ledger::money::round`), quantities to the thousandth, the receipt's rows, discounts, payments and
//! taxes by the register's tax groups, and the seed's allowed characters in text fields.
//!
//! Where the public DM clients differ, every client's reading is taken (README's Ukraine section): a row's
//! `cost` may be before its discount (the Device Manager's own answer), after it (the Java client) or
//! absent; a payment's `sum` may be what the customer handed over (`sum − change` pays) or what the receipt
//! takes (`sum` pays, `change` given back on top); a double's noise below a millionth is rounded away.
use super::errors::{self as e, UaError};
use crate::config::ua::TaxGroup;
use crate::ledger::money::{MAX_AMOUNT, MAX_QUANTITY, round};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::str::FromStr;

/// The characters the seed allows in text fields ("Текстові поля мають містити лише наступні дозволені
/// символи"), besides the Latin and Cyrillic letters and digits checked in [`allowed`].
const ALLOWED_MARKS: &str = " !.,\"№;:?\\*()<>|/@#$%^-_+=~'&{}[]®©«»°±‘’“”–•—™„‰‹›";

/// Whether the seed allows `c` in a text field.
pub fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('А'..='я').contains(&c) || "ЁёІіЇїҐґЄє".contains(c) || ALLOWED_MARKS.contains(c)
}

/// Checks a text field: the first character outside the allowed set is named with its position.
pub fn check_text(field: &str, text: &str) -> Result<(), UaError> {
    match text.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        None => Ok(()),
        Some((i, c)) => Err(UaError::new(
            e::BAD_CHARACTER,
            format!(
                "Поле {field}: недозволений символ «{}» (U+{:04X}) у позиції {}",
                c.escape_debug(),
                u32::from(c),
                i + 1
            ),
        )),
    }
}

/// Money as the answers and printed forms show it: two decimals.
pub fn show(d: Decimal) -> String {
    format!("{:.2}", round(d))
}

/// A quantity as printed: as many decimals as it has, at most three.
pub fn show_quantity(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A number field (a JSON number or a numeric string) as an exact decimal.
fn decimal(field: &str, v: &Value) -> Result<Decimal, UaError> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(UaError::field(field, "очікується число")),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| UaError::field(field, format!("«{text}» не є числом")))
}

/// How far a number may sit from a kopiyka (or a thousandth of a quantity) and still be taken as it: a
/// client's binary double (`3 × 12.3 = 36.900000000000006`) is never further off than this.
const NOISE: Decimal = Decimal::from_parts(1, 0, 0, false, 6);

/// An amount in hryvnia: whole kopiyky (a double's noise rounded away), at most `MAX_AMOUNT` either way.
pub fn amount(field: &str, v: &Value) -> Result<Decimal, UaError> {
    let mut d = decimal(field, v)?;
    if (round(d) - d).abs() <= NOISE {
        d = round(d);
    }
    if round(d) != d {
        return Err(UaError::field(field, format!("{d} не є сумою в копійках (два знаки після коми)")));
    }
    if d.abs() > MAX_AMOUNT {
        return Err(UaError::field(field, "сума завелика"));
    }
    Ok(d)
}

fn positive_amount(field: &str, v: &Value) -> Result<Decimal, UaError> {
    let d = amount(field, v)?;
    if d <= Decimal::ZERO {
        return Err(UaError::field(field, "сума має бути більшою за нуль"));
    }
    Ok(d)
}

fn text_of(obj: &Map<String, Value>, key: &str, field: &str, max: usize) -> Result<String, UaError> {
    let s = match obj.get(key) {
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(UaError::field(field, "очікується рядок")),
    };
    if s.chars().count() > max {
        return Err(UaError::field(field, format!("довше за {max} символів")));
    }
    check_text(field, &s)?;
    Ok(s)
}

/// A text that may hold line breaks (comments: a POS prints tickets in them): each line checked as a text
/// field. `\r\n`, a lone `\r` and the two characters `\` `n` (one client joins its lines with them) are
/// line breaks.
fn lines_of(obj: &Map<String, Value>, key: &str, field: &str, max: usize) -> Result<String, UaError> {
    let s = match obj.get(key) {
        Some(Value::String(s)) => s.replace("\r\n", "\n").replace('\r', "\n").replace("\\n", "\n"),
        _ => return text_of(obj, key, field, max),
    };
    if s.chars().count() > max {
        return Err(UaError::field(field, format!("довше за {max} символів")));
    }
    let mut at = 0;
    for line in s.split('\n') {
        check_text(field, line).map_err(|e| shift_position(e, at))?;
        at += line.chars().count() + 1;
    }
    Ok(s)
}

/// A character error of one line, its position counted from the start of the whole text.
fn shift_position(e: UaError, by: usize) -> UaError {
    if by == 0 {
        return e;
    }
    let Some((head, n)) = e.text.rsplit_once("у позиції ") else { return e };
    match n.parse::<usize>() {
        Ok(n) => UaError::new(e.res, format!("{head}у позиції {}", n + by)),
        Err(_) => e,
    }
}

fn int_of(obj: &Map<String, Value>, key: &str, field: &str, default: i64) -> Result<i64, UaError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| UaError::field(field, "очікується ціле число")),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| UaError::field(field, "очікується ціле число")),
        Some(_) => Err(UaError::field(field, "очікується ціле число")),
    }
}

/// A discount (`disc`, `disc_type`: 0 an amount, 1 a percent) on `base`: the amount taken off
/// (negative for a surcharge).
fn discount(obj: &Map<String, Value>, field: &str, base: Decimal) -> Result<Decimal, UaError> {
    let Some(v) = obj.get("disc").filter(|v| !v.is_null()) else {
        return Ok(Decimal::ZERO);
    };
    match int_of(obj, "disc_type", &format!("{field}.disc_type"), 0)? {
        0 => amount(&format!("{field}.disc"), v),
        1 => {
            let p = decimal(&format!("{field}.disc"), v)?;
            if p.abs() > Decimal::ONE_HUNDRED {
                return Err(UaError::field(&format!("{field}.disc"), "відсоток понад 100"));
            }
            Ok(round(base * p / Decimal::ONE_HUNDRED))
        }
        other => Err(UaError::field(&format!("{field}.disc_type"), format!("{other}: 0 (сума) або 1 (відсоток)"))),
    }
}

/// One row of a receipt, computed.
#[derive(Debug, Clone)]
pub struct Row {
    pub code: String,
    pub code1: String,
    pub code2: String,
    pub code3: String,
    pub name: String,
    pub cnt: Decimal,
    pub price: Decimal,
    /// `cnt × price`, rounded.
    pub gross: Decimal,
    /// The row's own discount (negative: a surcharge).
    pub disc: Decimal,
    /// `gross − disc`.
    pub cost: Decimal,
    /// Its share of the receipt's discount.
    pub receipt_disc: Decimal,
    pub taxgrp: Option<String>,
    pub comment: String,
    pub marks: Vec<String>,
    /// "Національний кешбек": the date of the sale receipt a returned row was bought with.
    pub purchase_receipt_dt: String,
}

/// One payment.
#[derive(Debug, Clone)]
pub struct Pay {
    pub kind: i64,
    /// What the customer handed over.
    pub received: Decimal,
    /// What was given back (cash only).
    pub change: Decimal,
    /// What the receipt takes from it: `received − change`.
    pub applied: Decimal,
    pub comment: String,
    /// Card details (the request's key, its value), zero amounts left out.
    pub card: Vec<(String, String)>,
    /// Whether the card details are printed (`show_additional_info`).
    pub show_card: bool,
    /// "Національний кешбек": the date of the purchase paid.
    pub purchase_dt: String,
}

/// Taxes of one group.
#[derive(Debug, Clone)]
pub struct TaxLine {
    pub group: TaxGroup,
    pub base: Decimal,
    pub tax: Decimal,
    /// The group's second levy (excise, the pension fund's), inside `base` like the VAT.
    pub excise: Decimal,
}

/// A receipt (sale or return), checked and computed.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub rows: Vec<Row>,
    pub pays: Vec<Pay>,
    pub taxes: Vec<TaxLine>,
    /// Σ gross.
    pub sum_0: Decimal,
    /// Σ row discounts + the receipt's discount.
    pub sum_disc: Decimal,
    /// The receipt's total after discounts (`sum`).
    pub sum_receipt: Decimal,
    /// The rounding (`round`, signed).
    pub round: Decimal,
    /// `sum_receipt + round`: what the payments cover.
    pub sum_topay: Decimal,
    /// Cash that goes into (a sale) or out of (a return) the drawer.
    pub cash: Decimal,
    pub comment_up: String,
    pub comment_down: String,
    /// "Національний кешбек" (a return): the fiscal numbers of the sale receipt and of its ПРРО.
    pub purchase_receipt_fisn: String,
    pub purchase_rro_fisn: String,
}

/// Names of the payment kinds (`pays[].type`).
pub fn pay_name(kind: i64) -> String {
    match kind {
        0 => "Готівка".into(),
        1 => "Безготівкова".into(),
        2 => "Картка".into(),
        3 => "Передоплата".into(),
        4 => "Післяплата".into(),
        5 => "Кредит".into(),
        6 => "Сертифікат".into(),
        n => format!("Інша оплата {n}"),
    }
}

/// Card fields a payment may carry, printed under it (label).
pub const CARD_FIELDS: &[(&str, &str)] = &[
    ("paysys", "Платіжна система"),
    ("cardmask", "Картка"),
    ("term_id", "Термінал"),
    ("rrn", "RRN"),
    ("auth_code", "Код авторизації"),
    ("oper_type", "Операція"),
    ("bank_name", "Банк"),
    ("bank_id", "Код банку"),
    ("commission", "Комісія"),
];

/// The largest number of rows a receipt may hold.
pub const MAX_ROWS: usize = 1000;

fn row(i: usize, v: &Value, groups: &[TaxGroup]) -> Result<Row, UaError> {
    let f = format!("rows[{i}]");
    let obj = v.as_object().ok_or_else(|| UaError::field(&f, "очікується об'єкт"))?;
    let name = text_of(obj, "name", &format!("{f}.name"), 256)?;
    if name.trim().is_empty() {
        return Err(UaError::field(&format!("{f}.name"), "порожня назва товару"));
    }
    let mut cnt = decimal(&format!("{f}.cnt"), obj.get("cnt").unwrap_or(&Value::Null))?;
    let thousandths = cnt.round_dp_with_strategy(3, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    if (thousandths - cnt).abs() <= NOISE {
        cnt = thousandths;
    }
    if cnt <= Decimal::ZERO || cnt > MAX_QUANTITY || cnt.normalize().scale() > 3 {
        return Err(UaError::field(&format!("{f}.cnt"), format!("{cnt}: кількість більша за нуль, до тисячних")));
    }
    let cost_given = match obj.get("cost").filter(|v| !v.is_null()) {
        Some(v) => Some(amount(&format!("{f}.cost"), v)?).filter(|c| !c.is_zero()),
        None => None,
    };
    let price = match (obj.get("price").filter(|v| !v.is_null()), cost_given) {
        (Some(v), _) => amount(&format!("{f}.price"), v)?,
        // No price: the DM takes it from the cost (one client documents the price as optional).
        (None, Some(cost)) => round(cost / cnt),
        (None, None) => return Err(UaError::field(&format!("{f}.price"), "немає ціни (price) і вартості (cost)")),
    };
    if price < Decimal::ZERO {
        return Err(UaError::field(&format!("{f}.price"), "ціна від'ємна"));
    }
    let mut gross = round(cnt.checked_mul(price).ok_or_else(|| UaError::field(&format!("{f}.price"), "завелика"))?);
    if obj.get("price").is_none_or(Value::is_null) {
        gross = cost_given.unwrap_or(gross);
    }
    let mut disc = discount(obj, &f, gross)?;
    match cost_given {
        // Absent or 0: computed. Equal to cnt × price: the cost before the row's discount (the DM's own
        // answer, two clients). Equal to that less the discount: the cost after it.
        None => {}
        Some(c) if c == gross || c == gross - disc => {}
        // Less than cnt × price with no discount given: the difference is the row's discount (a client that
        // sends the discounted total as the cost).
        Some(c) if disc.is_zero() && c >= Decimal::ZERO && c < gross => disc = gross - c,
        Some(c) => {
            return Err(UaError::receipt(format!(
                "{f}.cost {}: очікується {} (кількість × ціна) або {} (за вирахуванням знижки)",
                show(c),
                show(gross),
                show(gross - disc)
            )));
        }
    }
    let cost = gross - disc;
    if cost < Decimal::ZERO {
        return Err(UaError::receipt(format!("{f}: знижка {} більша за суму {}", show(disc), show(gross))));
    }
    let taxgrp = match obj.get("taxgrp") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(UaError::field(&format!("{f}.taxgrp"), "очікується код податкової групи")),
    };
    if let Some(g) = &taxgrp
        && !groups.iter().any(|t| t.code == *g)
    {
        let known: Vec<&str> = groups.iter().map(|t| t.code.as_str()).collect();
        return Err(UaError::field(
            &format!("{f}.taxgrp"),
            format!("податкової групи «{g}» немає в налаштуваннях каси (є: {})", known.join(", ")),
        ));
    }
    let mut marks = Vec::new();
    let code_a = text_of(obj, "code_a", &format!("{f}.code_a"), 128)?;
    if !code_a.is_empty() {
        marks.push(code_a);
    }
    match obj.get("code_aa") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (j, m) in list.iter().enumerate() {
                let field = format!("{f}.code_aa[{j}]");
                let m = m.as_str().ok_or_else(|| UaError::field(&field, "очікується рядок"))?;
                check_text(&field, m)?;
                marks.push(m.to_string());
            }
        }
        Some(_) => return Err(UaError::field(&format!("{f}.code_aa"), "очікується масив рядків")),
    }
    Ok(Row {
        code: text_of(obj, "code", &format!("{f}.code"), 64)?,
        code1: text_of(obj, "code1", &format!("{f}.code1"), 64)?,
        code2: text_of(obj, "code2", &format!("{f}.code2"), 64)?,
        code3: text_of(obj, "code3", &format!("{f}.code3"), 64)?,
        name,
        cnt,
        price,
        gross,
        disc,
        cost,
        receipt_disc: Decimal::ZERO,
        taxgrp,
        comment: lines_of(obj, "comment", &format!("{f}.comment"), 256)?,
        marks,
        purchase_receipt_dt: text_of(obj, "purchase_receipt_dt", &format!("{f}.purchase_receipt_dt"), 32)?,
    })
}

fn pay(i: usize, v: &Value) -> Result<Pay, UaError> {
    let f = format!("pays[{i}]");
    let obj = v.as_object().ok_or_else(|| UaError::field(&f, "очікується об'єкт"))?;
    let kind = int_of(obj, "type", &format!("{f}.type"), 0)?;
    if !(0..=99).contains(&kind) {
        return Err(UaError::field(&format!("{f}.type"), format!("{kind}: вид оплати 0..99")));
    }
    let sum = positive_amount(&format!("{f}.sum"), obj.get("sum").unwrap_or(&Value::Null))?;
    let change = match obj.get("change").filter(|v| !v.is_null()) {
        None => Decimal::ZERO,
        Some(v) => amount(&format!("{f}.change"), v)?,
    };
    if change < Decimal::ZERO {
        return Err(UaError::receipt(format!("{f}.change {}: решта від'ємна", show(change))));
    }
    if change > Decimal::ZERO && kind != 0 {
        return Err(UaError::receipt(format!("{f}.change: решта буває лише з готівки")));
    }
    let mut card = Vec::new();
    for (key, _) in CARD_FIELDS {
        let value = text_of(obj, key, &format!("{f}.{key}"), 128)?;
        // A zero amount (a client sends `"commission": 0.0` with every payment) is no detail to print.
        let zero = obj.get(*key).is_some_and(Value::is_number) && Decimal::from_str(&value).is_ok_and(|d| d.is_zero());
        if !value.is_empty() && !zero {
            card.push((key.to_string(), value));
        }
    }
    let show_card = obj.get("show_additional_info").is_none_or(|v| v != &json!(false) && v != &json!(0));
    Ok(Pay {
        kind,
        // Read as handed over until the receipt's total says otherwise (`settle`).
        received: sum,
        change,
        applied: sum - change,
        comment: lines_of(obj, "comment", &format!("{f}.comment"), 256)?,
        card,
        show_card,
        purchase_dt: text_of(obj, "purchase_dt", &format!("{f}.purchase_dt"), 32)?,
    })
}

/// Reads the payments against what they must cover. A payment's `sum` is what the customer handed over
/// when `Σ (sum − change)` covers the receipt (change below the sum), else what the receipt takes when
/// `Σ sum` covers it and change was given (then handed over = `sum + change`).
fn settle(pays: &mut [Pay], sum_topay: Decimal) -> Result<(), UaError> {
    let handed: Decimal = pays.iter().map(|p| p.received - p.change).sum();
    let sane = pays.iter().all(|p| p.change.is_zero() || p.change < p.received);
    if sane && handed == sum_topay {
        return Ok(());
    }
    let taken: Decimal = pays.iter().map(|p| p.received).sum();
    if taken == sum_topay && pays.iter().any(|p| !p.change.is_zero()) {
        for p in pays.iter_mut() {
            p.applied = p.received;
            p.received += p.change;
        }
        return Ok(());
    }
    if !sane && handed != sum_topay {
        let p = pays.iter().position(|p| !(p.change.is_zero() || p.change < p.received)).unwrap_or(0);
        return Err(UaError::receipt(format!(
            "pays[{p}].change {}: решта від нуля до суми оплати",
            show(pays.get(p).map(|p| p.change).unwrap_or_default())
        )));
    }
    Err(UaError::receipt(format!(
        "Оплати мінус решта {} не дорівнюють сумі до сплати {}",
        show(handed),
        show(sum_topay)
    )))
}

/// Checks and computes `fiscal.receipt` against the register's tax groups.
pub fn receipt(v: &Value, groups: &[TaxGroup]) -> Result<Receipt, UaError> {
    let obj = v.as_object().ok_or_else(|| UaError::field("fiscal.receipt", "очікується об'єкт чека"))?;
    let rows_v =
        obj.get("rows").and_then(Value::as_array).ok_or_else(|| UaError::receipt("У чеку немає товарів (rows)"))?;
    if rows_v.is_empty() {
        return Err(UaError::receipt("У чеку немає товарів (rows)"));
    }
    if rows_v.len() > MAX_ROWS {
        return Err(UaError::receipt(format!("У чеку понад {MAX_ROWS} рядків")));
    }
    let mut rows = rows_v.iter().enumerate().map(|(i, r)| row(i, r, groups)).collect::<Result<Vec<_>, _>>()?;
    let sum_0: Decimal = rows.iter().map(|r| r.gross).sum();
    let after_rows: Decimal = rows.iter().map(|r| r.cost).sum();
    let receipt_disc = discount(obj, "receipt", after_rows)?;
    if receipt_disc > after_rows {
        return Err(UaError::receipt(format!(
            "Знижка на чек {} більша за суму {}",
            show(receipt_disc),
            show(after_rows)
        )));
    }
    spread(&mut rows, receipt_disc, after_rows);
    let sum_receipt = after_rows - receipt_disc;
    let sum_disc = sum_0 - sum_receipt;
    if let Some(given) = obj.get("sum").filter(|v| !v.is_null()) {
        let given = amount("sum", given)?;
        if given != sum_receipt {
            return Err(UaError::receipt(format!(
                "Сума чека sum {} не дорівнює сумі рядків зі знижками {}",
                show(given),
                show(sum_receipt)
            )));
        }
    }
    let rounding = match obj.get("round").filter(|v| !v.is_null()) {
        None => Decimal::ZERO,
        Some(v) => amount("round", v)?,
    };
    if rounding.abs() >= Decimal::new(10, 2) {
        return Err(UaError::field("round", "заокруглення менше за 10 копійок"));
    }
    let sum_topay = sum_receipt + rounding;
    let pays_v =
        obj.get("pays").and_then(Value::as_array).ok_or_else(|| UaError::receipt("У чеку немає оплат (pays)"))?;
    if pays_v.is_empty() {
        return Err(UaError::receipt("У чеку немає оплат (pays)"));
    }
    let mut pays = pays_v.iter().enumerate().map(|(i, p)| pay(i, p)).collect::<Result<Vec<_>, _>>()?;
    settle(&mut pays, sum_topay)?;
    let cash = pays.iter().filter(|p| p.kind == 0).map(|p| p.applied).sum();
    Ok(Receipt {
        taxes: taxes(&rows, groups),
        rows,
        pays,
        sum_0,
        sum_disc,
        sum_receipt,
        round: rounding,
        sum_topay,
        cash,
        comment_up: lines_of(obj, "comment_up", "comment_up", 4096)?,
        comment_down: lines_of(obj, "comment_down", "comment_down", 4096)?,
        purchase_receipt_fisn: text_of(obj, "purchase_receipt_fisn", "purchase_receipt_fisn", 64)?,
        purchase_rro_fisn: text_of(obj, "purchase_rro_fisn", "purchase_rro_fisn", 64)?,
    })
}

/// Spreads the receipt's discount over the rows in proportion to their cost; the last row with a cost
/// takes what rounding leaves, so the shares add up exactly.
fn spread(rows: &mut [Row], disc: Decimal, total: Decimal) {
    if disc.is_zero() || total.is_zero() {
        return;
    }
    let last = rows.iter().rposition(|r| !r.cost.is_zero()).unwrap_or(0);
    let mut given = Decimal::ZERO;
    for (i, r) in rows.iter_mut().enumerate() {
        r.receipt_disc = if i == last { disc - given } else { round(disc * r.cost / total) };
        given += r.receipt_disc;
    }
}

/// Tax of each group over what its rows cost after every discount (prices include the tax). A group with
/// a second levy (excise) has it taken out of the price first and the VAT from the rest, as Ukrainian
/// retail excise is not part of the VAT base.
fn taxes(rows: &[Row], groups: &[TaxGroup]) -> Vec<TaxLine> {
    use crate::ledger::money::tax_included;
    groups
        .iter()
        .filter_map(|g| {
            let base: Decimal = rows
                .iter()
                .filter(|r| r.taxgrp.as_deref() == Some(g.code.as_str()))
                .map(|r| r.cost - r.receipt_disc)
                .sum();
            let in_use = rows.iter().any(|r| r.taxgrp.as_deref() == Some(g.code.as_str()));
            let percent = Decimal::from_str(&g.percent).unwrap_or_default();
            let excise_percent = Decimal::from_str(&g.excise_percent).unwrap_or_default();
            let excise = tax_included(base, excise_percent).unwrap_or_default();
            let tax = tax_included(base - excise, percent).unwrap_or_default();
            in_use.then(|| TaxLine { group: g.clone(), base, tax, excise })
        })
        .collect()
}

/// `fiscal.cash` of a service deposit or withdrawal: its sum.
pub fn cash_sum(fiscal: &Value) -> Result<Decimal, UaError> {
    let cash = fiscal.get("cash").ok_or_else(|| UaError::field("fiscal.cash", "немає блоку cash"))?;
    positive_amount("fiscal.cash.sum", cash.get("sum").unwrap_or(&Value::Null))
}

/// The cashier's name (`fiscal.cashier`), checked.
pub fn cashier(fiscal: &Value) -> Result<String, UaError> {
    match fiscal.get("cashier") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => {
            if s.chars().count() > 128 {
                return Err(UaError::field("fiscal.cashier", "довше за 128 символів"));
            }
            check_text("fiscal.cashier", s)?;
            Ok(s.clone())
        }
        Some(_) => Err(UaError::field("fiscal.cashier", "очікується рядок")),
    }
}

impl Receipt {
    /// The stored body of the document (what its answer and printed forms are made from). A payment's
    /// `sum` is what was handed over and `applied` what the receipt took (bodies stored before `applied`
    /// existed read it as `sum − change`).
    pub fn body(&self) -> Value {
        json!({
            "rows": self.rows.iter().map(|r| json!({
                "code": r.code, "code1": r.code1, "code2": r.code2, "code3": r.code3, "name": r.name,
                "cnt": show_quantity(r.cnt), "price": show(r.price), "gross": show(r.gross),
                "disc": show(r.disc), "cost": show(r.cost), "receipt_disc": show(r.receipt_disc),
                "taxgrp": r.taxgrp, "comment": r.comment, "marks": r.marks,
                "purchase_receipt_dt": r.purchase_receipt_dt,
            })).collect::<Vec<_>>(),
            "pays": self.pays.iter().map(|p| json!({
                "type": p.kind, "name": pay_name(p.kind), "sum": show(p.received), "change": show(p.change),
                "applied": show(p.applied), "comment": p.comment, "purchase_dt": p.purchase_dt,
                "card": p.card.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>(),
                "lines": p.card.iter().filter(|_| p.show_card).map(|(k, v)| json!({
                    "label": CARD_FIELDS.iter().find(|(key, _)| key == k).map(|(_, l)| *l).unwrap_or_default(),
                    "value": v})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "taxes": self.taxes.iter().map(|t| json!({
                "code": t.group.code, "lit": t.group.letter, "name": t.group.name, "label": t.group.full_name(),
                "percent": t.group.percent, "base": show(t.base), "tax": show(t.tax),
                "excise_name": t.group.excise_name, "excise_percent": t.group.excise_percent,
                "excise": show(t.excise),
            })).collect::<Vec<_>>(),
            "sum_0": show(self.sum_0), "sum_disc": show(self.sum_disc), "sum_receipt": show(self.sum_receipt),
            "round": show(self.round), "sum_topay": show(self.sum_topay), "cash": show(self.cash),
            "comment_up": self.comment_up, "comment_down": self.comment_down,
            "purchase_receipt_fisn": self.purchase_receipt_fisn, "purchase_rro_fisn": self.purchase_rro_fisn,
        })
    }

    /// The shift counters a sale (`p`) or a return (`m`) adds to.
    pub fn counters(&self, side: &str) -> Vec<(String, Decimal)> {
        let mut c = vec![
            (format!("count_{side}"), Decimal::ONE),
            (format!("base_{side}"), self.sum_receipt),
            (format!("disc_{side}"), self.sum_disc),
            (format!("round_{side}"), self.round),
        ];
        for p in &self.pays {
            c.push((format!("pay_{side}:{}", p.kind), p.applied));
        }
        for t in &self.taxes {
            c.push((format!("taxbase_{side}:{}", t.group.code), t.base));
            c.push((format!("tax_{side}:{}", t.group.code), t.tax));
            if !t.excise.is_zero() {
                c.push((format!("excise_{side}:{}", t.group.code), t.excise));
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ua::UaConfig;

    fn groups() -> Vec<TaxGroup> {
        UaConfig::default().tax_groups
    }

    #[test]
    fn a_fractional_row_a_percent_discount_and_change_add_up_in_kopiyky() {
        let r = receipt(
            &json!({"rows": [
                {"name": "Сир", "cnt": 0.345, "price": 289.90, "taxgrp": 1},
                {"name": "Хліб", "cnt": 2, "price": 21.5, "disc": 10, "disc_type": 1, "taxgrp": "2"}],
                "disc": 5, "pays": [{"type": 0, "sum": 200, "change": 66.28}]}),
            &groups(),
        )
        .unwrap();
        // 0.345 × 289.90 = 100.0155 → 100.02; 43.00 − 4.30 = 38.70; 138.72 − 5.00 = 133.72.
        assert_eq!(show(r.rows[0].gross), "100.02");
        assert_eq!(show(r.rows[1].cost), "38.70");
        assert_eq!(show(r.sum_receipt), "133.72");
        assert_eq!(r.rows.iter().map(|r| r.receipt_disc).sum::<Decimal>(), Decimal::new(500, 2));
        assert_eq!(show(r.cash), "133.72");
    }

    #[test]
    fn a_surcharge_rounding_and_half_kopiyky_follow_the_one_rule() {
        // 0.5 × 0.05 = 0.025 → 0.03 (half away from zero); a 10 % surcharge on 0.03 is 0.003 → 0.00.
        let r = receipt(
            &json!({"rows": [{"name": "Цвях", "cnt": 0.5, "price": 0.05}, {"name": "Шуруп", "cnt": 3, "price": 3.33}],
                "disc": -1, "round": -0.02, "pays": [{"type": 0, "sum": 11.0}]}),
            &groups(),
        )
        .unwrap();
        assert_eq!(show(r.rows[0].gross), "0.03");
        // 0.03 + 9.99 = 10.02, a 1.00 surcharge: 11.02, rounded by −0.02 to 11.00 paid.
        assert_eq!(
            (show(r.sum_receipt), show(r.sum_topay), show(r.sum_disc)),
            ("11.02".into(), "11.00".into(), "-1.00".into())
        );
        assert!(r.taxes.is_empty(), "rows without taxgrp carry no tax");
        let e = receipt(
            &json!({"rows": [{"name": "Цвях", "cnt": 1, "price": 1}], "round": 0.1, "pays": [{"sum": 1.1}]}),
            &groups(),
        );
        assert!(e.unwrap_err().text.contains("round"));
    }

    #[test]
    fn a_rows_cost_before_or_after_its_discount_or_absent_gives_one_total() {
        let total = |row: Value| {
            receipt(&json!({"rows": [row], "pays": [{"type": 2, "sum": 540}]}), &groups()).map(|r| show(r.sum_receipt))
        };
        // The DM's own answer: cost before the discount; Kassa's first reading: after it; absent or 0.
        assert_eq!(total(json!({"name": "a", "cnt": 1, "price": 600, "disc": 60, "cost": 600})).unwrap(), "540.00");
        assert_eq!(total(json!({"name": "a", "cnt": 1, "price": 600, "disc": 60, "cost": 540})).unwrap(), "540.00");
        assert_eq!(total(json!({"name": "a", "cnt": 1, "price": 600, "disc": 60, "cost": 0})).unwrap(), "540.00");
        // No discount given, the discounted total as the cost (a double with noise): the difference is it.
        assert_eq!(
            total(json!({"name": "a", "cnt": 1, "price": 600, "disc": 0.0, "cost": 540.0000000000001})).unwrap(),
            "540.00"
        );
        // No price: taken from the cost.
        assert_eq!(total(json!({"name": "a", "cnt": 2, "cost": 600, "disc": 60})).unwrap(), "540.00");
        // Anything else names both readings.
        let e = total(json!({"name": "a", "cnt": 1, "price": 600, "disc": 60, "cost": 700})).unwrap_err();
        assert!(e.text.contains("600.00") && e.text.contains("540.00"), "{}", e.text);
        // A quantity with a double's noise is its thousandth; a real fourth decimal is refused.
        let r = receipt(
            &json!({"rows": [{"name": "a", "cnt": 0.30000000000000004, "price": 10}], "pays": [{"sum": 3}]}),
            &groups(),
        );
        assert_eq!(r.unwrap().rows[0].cnt, Decimal::new(3, 1));
        assert!(total(json!({"name": "a", "cnt": 1.0005, "price": 600})).is_err());
    }

    #[test]
    fn a_payments_sum_is_read_as_handed_over_or_as_taken_whichever_covers_the_receipt() {
        let pays =
            |pays: Value| receipt(&json!({"rows": [{"name": "a", "cnt": 1, "price": 90.9}], "pays": pays}), &groups());
        // Handed over 100, change 9.10.
        let r = pays(json!([{"type": 0, "sum": 100, "change": 9.1}])).unwrap();
        assert_eq!(
            (show(r.pays[0].received), show(r.pays[0].applied), show(r.cash)),
            ("100.00".into(), "90.90".into(), "90.90".into())
        );
        // The pharmacy client writes "sum" twice, the second being what the receipt takes; the last one is
        // read (a JSON object keeps its last key) and the change comes on top.
        let body: Value = serde_json::from_str(r#"[{"type":0,"sum":100,"sum":90.9,"change":9.1}]"#).unwrap();
        let r = pays(body).unwrap();
        assert_eq!(
            (show(r.pays[0].received), show(r.pays[0].applied), show(r.pays[0].change)),
            ("100.00".into(), "90.90".into(), "9.10".into())
        );
        // Change larger than what the receipt takes (5.00 handed over 20.00).
        let r = receipt(
            &json!({"rows": [{"name": "a", "cnt": 1, "price": 5}], "pays": [{"sum": 5, "change": 15}]}),
            &groups(),
        )
        .unwrap();
        assert_eq!(show(r.pays[0].received), "20.00");
        // Neither reading covers it.
        assert!(pays(json!([{"type": 0, "sum": 100, "change": 5}])).unwrap_err().text.contains("90.90"));
        // A zero commission is no card detail.
        let r = pays(json!([{"type": 2, "sum": 90.9, "commission": 0.0, "paysys": "VISA"}])).unwrap();
        assert_eq!(r.pays[0].card, vec![("paysys".to_string(), "VISA".to_string())]);
    }

    #[test]
    fn vchasnos_groups_tax_no_vat_at_nothing_and_excise_before_the_vat() {
        let r = receipt(
            &json!({"rows": [{"name": "a", "cnt": 1, "price": 100, "taxgrp": 2}, {"name": "b", "cnt": 1, "price": 105, "taxgrp": 3},
                {"name": "c", "cnt": 1, "price": 107, "taxgrp": "4"}], "pays": [{"sum": 312}]}),
            &groups(),
        )
        .unwrap();
        let t: Vec<(String, String, String)> =
            r.taxes.iter().map(|t| (t.group.code.clone(), show(t.tax), show(t.excise))).collect();
        // 105 holds 5.00 excise (5 % of 100) and 16.67 VAT (20 % of 100 less its excise: 100 / 6).
        assert_eq!(
            t,
            vec![
                ("2".into(), "0.00".into(), "0.00".into()),
                ("3".into(), "16.67".into(), "5.00".into()),
                ("4".into(), "7.00".into(), "0.00".into())
            ]
        );
    }

    #[test]
    fn comments_keep_their_line_breaks_and_each_line_is_checked() {
        let r = receipt(
            &json!({"rows": [{"name": "a", "cnt": 1, "price": 1}], "pays": [{"sum": 1}],
                "comment_down": "КВИТОК 1\r\n| РЯД: 5\nМІСЦЕ\\n7"}),
            &groups(),
        )
        .unwrap();
        assert_eq!(r.comment_down, "КВИТОК 1\n| РЯД: 5\nМІСЦЕ\n7");
        let e = receipt(
            &json!({"rows": [{"name": "a", "cnt": 1, "price": 1}], "pays": [{"sum": 1}], "comment_up": "ok\nОбʼєкт"}),
            &groups(),
        )
        .unwrap_err();
        assert!(e.text.contains("U+02BC") && e.text.contains("позиції 6"), "{}", e.text);
    }

    #[test]
    fn the_seed_set_refuses_a_modifier_apostrophe_and_names_it() {
        assert!(check_text("x", "Обʼєкт").unwrap_err().text.contains("U+02BC"));
        assert!(check_text("x", "Об'єкт №1 «Ґанок» 10% — ok").is_ok());
    }
}
