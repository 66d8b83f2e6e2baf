//! Belarusian document rules, pure: the request data of the cash service's v2 document types turned
//! into checked documents with their sums, or the seed's error. No I/O, no clock, no store.
//!
//! Money and quantities travel as decimal strings (`"7.00"`, `"1.000"`); rounding is the one rule of
//! `ledger::money`. Our reading where the seed gives no rule: a discount or markup on the cheque as well
//! as on its items is `TIN_TOO_MANY_DISCOUNTS` / `TIN_TOO_MANY_MARKUPS`; a marking code is `code.marking`
//! (one string; an array of more than one is `TIN_MULTIPLE_MARKING_CODES`) and needs `code.gtin`.
use super::errors::{self as e, ByError};
use crate::ledger::money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Limits of the fiscal module the rules check.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_items: usize,
    pub max_marking_codes: usize,
    pub max_marking_code_len: usize,
    pub client_withdraw_max: Decimal,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_items: 500,
            max_marking_codes: 100,
            max_marking_code_len: 255,
            client_withdraw_max: Decimal::new(100_000, 2),
        }
    }
}

/// The longest cashier name (the 2.x change log raised it to 20 characters).
pub const MAX_CASHIER: usize = 20;

/// A decimal string with at most `places` decimals, not negative.
fn decimal(field: &str, v: Option<&Value>, places: u32) -> Result<Decimal, ByError> {
    let s = match v {
        Some(Value::String(s)) => s,
        None | Some(Value::Null) => return Err(ByError::format(field, "не указано", "не пазначана")),
        Some(_) => {
            return Err(ByError::format(
                field,
                "ожидается строка с десятичным числом, например \"7.00\"",
                "чакаецца радок з дзесятковым лікам, напрыклад \"7.00\"",
            ));
        }
    };
    let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') && s.matches('.').count() <= 1;
    let d = Decimal::from_str(s).ok().filter(|_| ok).ok_or_else(|| {
        ByError::format(field, format!("«{s}» не десятичное число"), format!("«{s}» не дзесятковы лік"))
    })?;
    if d.scale() > places {
        return Err(ByError::format(
            field,
            format!("в «{s}» больше {places} знаков после точки"),
            format!("у «{s}» больш за {places} знакі пасля кропкі"),
        ));
    }
    Ok(d)
}

/// Money: a decimal string with at most two decimals.
pub fn amount(field: &str, v: Option<&Value>) -> Result<Decimal, ByError> {
    decimal(field, v, 2)
}

/// Money as the wire shows it: two decimals.
pub fn show(d: Decimal) -> String {
    format!("{:.2}", money::round(d))
}

/// A quantity: three decimals.
pub fn show_quantity(d: Decimal) -> String {
    format!("{d:.3}")
}

/// The header every document carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocHeader {
    pub cashier: String,
    pub currency: String,
}

/// The header of a request: `cashier` (up to 20 characters) and `currency` (three letters; BYN when absent).
pub fn header(data: &Value) -> Result<DocHeader, ByError> {
    let h = data.get("header").unwrap_or(data);
    let cashier = match h.get("cashier") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(ByError::format("header.cashier", "не указано", "не пазначана")),
    };
    if cashier.chars().count() > MAX_CASHIER {
        return Err(ByError::format(
            "header.cashier",
            format!("длиннее {MAX_CASHIER} символов"),
            format!("даўжэй за {MAX_CASHIER} сімвалаў"),
        ));
    }
    let currency = match h.get("currency") {
        None | Some(Value::Null) => "BYN".to_string(),
        Some(Value::String(s)) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) => s.clone(),
        Some(_) => {
            return Err(ByError::format(
                "header.currency",
                "три заглавные латинские буквы, например BYN",
                "тры вялікія лацінскія літары, напрыклад BYN",
            ));
        }
    };
    Ok(DocHeader { cashier, currency })
}

/// A deposit or withdrawal: its header and sum (more than zero).
pub fn cash_move(data: &Value) -> Result<(DocHeader, Decimal), ByError> {
    let h = header(data)?;
    let sum = amount("sum", data.get("sum"))?;
    if sum.is_zero() {
        return Err(ByError::format("sum", "должно быть больше нуля", "павінна быць больш за нуль"));
    }
    Ok((h, sum))
}

/// A client withdrawal (cash to a card holder): BYN only, up to the module's limit.
pub fn client_withdraw(data: &Value, limits: &Limits) -> Result<(DocHeader, Decimal), ByError> {
    let (h, sum) = cash_move(data)?;
    if h.currency != "BYN" {
        return Err(ByError::new(
            e::CH_WITHDRAW_ONLY_BYN,
            "Выдача наличных держателю возможна только в белорусских рублях",
        ));
    }
    if sum > limits.client_withdraw_max {
        return Err(ByError::new(
            e::CH_WITHDRAW_MAX_SUM,
            "Сумма выдачи наличных держателю превышает максимально допустимую",
        ));
    }
    Ok((h, sum))
}

/// One checked line of a cheque.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Line {
    pub name: String,
    pub section: Option<Value>,
    pub code: Option<Value>,
    pub price: String,
    pub quantity: String,
    /// price × quantity, rounded.
    pub gross: String,
    pub discount: Option<String>,
    pub markup: Option<String>,
    /// gross − discount + markup.
    pub amount: String,
    pub tax_rate: Option<String>,
}

/// One payment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Payment {
    pub payment_type: String,
    pub label: String,
    pub value: String,
    pub name: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
}

/// VAT included, per rate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tax {
    pub rate: String,
    pub amount: String,
}

/// A checked sale, money back or the sale an annulment repeats.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cheque {
    pub header: DocHeader,
    pub items: Vec<Line>,
    pub payments: Vec<Payment>,
    pub cheque_markup: Option<String>,
    pub cheque_discount: Option<String>,
    pub tp_tax_number: Option<String>,
    pub total: String,
    pub change: Option<String>,
    /// Cash that went into the drawer (cash paid − change).
    pub cash: String,
    pub taxes: Vec<Tax>,
}

fn tax_percent(rate: &str) -> Result<Option<Decimal>, ByError> {
    match rate {
        "no_tax" | "none" => Ok(None),
        r => r
            .strip_prefix("tax")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n <= 100)
            .map(|n| Some(Decimal::from(n)))
            .ok_or_else(|| {
                ByError::format(
                    "tax_rate",
                    format!("«{rate}»: ожидается tax20, tax10, tax0 или no_tax"),
                    format!("«{rate}»: чакаецца tax20, tax10, tax0 або no_tax"),
                )
            }),
    }
}

fn payment_label(t: &str) -> String {
    match t {
        "cash" => "Наличными".into(),
        "cashless" | "card" => "Безналичными".into(),
        other => other.to_string(),
    }
}

fn marking(item: usize, code: Option<&Value>, quantity: Decimal, limits: &Limits) -> Result<usize, ByError> {
    let Some(m) = code.and_then(|c| c.get("marking")).filter(|m| !m.is_null()) else {
        return Ok(0);
    };
    let m = match m {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.len() == 1 => a[0].as_str().unwrap_or_default().to_string(),
        Value::Array(a) if a.len() > 1 => {
            return Err(ByError::new(e::MULTIPLE_MARKING_CODES, "multiple marking codes"));
        }
        _ => return Err(ByError::format(&format!("items[{item}].code.marking"), "ожидается строка", "чакаецца радок")),
    };
    if quantity != Decimal::ONE {
        return Err(ByError::new(e::MARKING_QUANTITY_1, "marking quantity should be 1"));
    }
    if m.is_empty() || m.chars().count() > limits.max_marking_code_len {
        return Err(ByError::new(e::MARKING_CODE_LEN, "marking code len is exhausted"));
    }
    let gtin = code.and_then(|c| c.get("gtin")).and_then(Value::as_str).unwrap_or("");
    if gtin.is_empty() {
        return Err(ByError::new(e::MARKING_CODE_WITHOUT_GTIN, "marking code without gtin"));
    }
    Ok(1)
}

/// Checks a cheque request (`create_sale`, `create_money_back`) and computes its sums.
pub fn cheque(data: &Value, limits: &Limits) -> Result<Cheque, ByError> {
    let header = header(data)?;
    let items = match data.get("items") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => return Err(ByError::new(e::EMPTY_ITEMS, "empty items")),
        Some(_) => return Err(ByError::format("items", "ожидается массив", "чакаецца масіў")),
    };
    if items.is_empty() {
        return Err(ByError::new(e::EMPTY_ITEMS, "empty items"));
    }
    if items.len() > limits.max_items {
        return Err(ByError::new(
            e::TOO_MANY_ITEMS,
            "Превышено максимальное количество позиций в документе или размер документа слишком большой",
        ));
    }
    let opt = |field: &str, v: Option<&Value>| match v {
        None | Some(Value::Null) => Ok(None),
        some => amount(field, some).map(Some),
    };
    let cheque_markup = opt("cheque_markup", data.get("cheque_markup"))?;
    let cheque_discount = opt("cheque_discount", data.get("cheque_discount"))?;
    let (mut lines, mut total, mut markings) = (Vec::new(), Decimal::ZERO, 0usize);
    let (mut any_discount, mut any_markup) = (false, false);
    let mut taxes: BTreeMap<u32, Decimal> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        let f = |name: &str| format!("items[{i}].{name}");
        let name = match it.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => return Err(ByError::format(&f("name"), "не указано", "не пазначана")),
        };
        let price = amount(&f("price"), it.get("price"))?;
        let quantity = decimal(&f("quantity"), it.get("quantity"), 3)?;
        if quantity.is_zero() {
            return Err(ByError::format(&f("quantity"), "должно быть больше нуля", "павінна быць больш за нуль"));
        }
        // A negative discount is refused by `amount` (digits and one point only).
        let discount = opt(&f("discount"), it.get("discount"))?;
        let markup = opt(&f("markup"), it.get("markup"))?;
        any_discount |= discount.is_some_and(|d| !d.is_zero());
        any_markup |= markup.is_some_and(|d| !d.is_zero());
        markings += marking(i, it.get("code"), quantity, limits)?;
        let gross = money::round(price * quantity);
        let d = discount.unwrap_or_default();
        if d > gross {
            return Err(ByError::format(&f("discount"), "больше суммы позиции", "больш за суму пазіцыі"));
        }
        let line = gross - d + markup.unwrap_or_default();
        let tax_rate = match it.get("tax_rate") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(ByError::format(
                    &f("tax_rate"),
                    "ожидается строка, например tax20",
                    "чакаецца радок, напрыклад tax20",
                ));
            }
        };
        if let Some(p) = tax_rate.as_deref().map(tax_percent).transpose()?.flatten() {
            let vat = money::round(line * p / (Decimal::ONE_HUNDRED + p));
            *taxes.entry(p.try_into().unwrap_or(0)).or_default() += vat;
        }
        total += line;
        lines.push(Line {
            name,
            section: it.get("section").cloned().filter(|v| !v.is_null()),
            code: it.get("code").cloned().filter(|v| !v.is_null()),
            price: show(price),
            quantity: show_quantity(quantity),
            gross: show(gross),
            discount: discount.map(show),
            markup: markup.map(show),
            amount: show(line),
            tax_rate,
        });
    }
    if markings > limits.max_marking_codes {
        return Err(ByError::new(e::TOO_MANY_MARKING_CODES, "too many marking codes"));
    }
    if any_discount && cheque_discount.is_some_and(|d| !d.is_zero()) {
        return Err(ByError::new(e::TOO_MANY_DISCOUNTS, "too many discounts"));
    }
    if any_markup && cheque_markup.is_some_and(|d| !d.is_zero()) {
        return Err(ByError::new(e::TOO_MANY_MARKUPS, "too many markups"));
    }
    total += cheque_markup.unwrap_or_default();
    let cd = cheque_discount.unwrap_or_default();
    if cd > total {
        return Err(ByError::format("cheque_discount", "больше суммы чека", "больш за суму чэка"));
    }
    total -= cd;
    let (payments, change, cash) = payments(data, total)?;
    let tp_tax_number = match data.get("tp_tax_number") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.clone()),
        Some(_) => return Err(ByError::format("tp_tax_number", "девять цифр (УНП)", "дзевяць лічбаў (УНП)")),
    };
    Ok(Cheque {
        header,
        items: lines,
        payments,
        cheque_markup: cheque_markup.map(show),
        cheque_discount: cheque_discount.map(show),
        tp_tax_number,
        total: show(total),
        change: (!change.is_zero()).then(|| show(change)),
        cash: show(cash),
        taxes: taxes.into_iter().map(|(r, a)| Tax { rate: r.to_string(), amount: show(a) }).collect(),
    })
}

/// Payments: at most one in cash; non-cash never more than the total; together at least the total.
/// Returns them with the change and the cash kept.
fn payments(data: &Value, total: Decimal) -> Result<(Vec<Payment>, Decimal, Decimal), ByError> {
    let list = match data.get("payments") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => return Err(ByError::format("payments", "нужна хотя бы одна оплата", "патрэбна хоць адна аплата")),
    };
    let (mut out, mut cash, mut other, mut cash_count) = (Vec::new(), Decimal::ZERO, Decimal::ZERO, 0);
    for (i, p) in list.iter().enumerate() {
        let t = match p.get("payment_type") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(ByError::format(&format!("payments[{i}].payment_type"), "не указано", "не пазначана"));
            }
        };
        let v = amount(&format!("payments[{i}].value"), p.get("value"))?;
        if t == "cash" {
            cash_count += 1;
            cash += v;
        } else {
            other += v;
        }
        let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
        out.push(Payment {
            label: payment_label(&t),
            payment_type: t,
            value: show(v),
            name: text("name"),
            reference: text("ref"),
        });
    }
    if cash_count > 1 {
        return Err(ByError::new(e::MULTIPLE_CASH_PAYMENTS, "multiple cash payments"));
    }
    if other > total {
        return Err(ByError::format(
            "payments",
            "безналичные оплаты больше суммы чека",
            "безнаяўныя аплаты больш за суму чэка",
        ));
    }
    if cash + other < total {
        return Err(ByError::ours(
            e::PAYMENT_TOO_SMALL,
            format!("оплаты покрывают {} из {}", show(cash + other), show(total)),
            format!("аплаты пакрываюць {} з {}", show(cash + other), show(total)),
        ));
    }
    let change = cash + other - total;
    Ok((out, change, cash - change))
}
