//! The `info` of the Device Manager's answers, in the shapes and JSON types the public DM clients bind
//! (README's Ukraine section names them): the one real DM answer public (a sale's, repeated by its tag)
//! is the reference where the seed is silent. Numbers are JSON numbers written as short as they go
//! (`540`, `540.5`); `docno` is a string and `dataid` an integer, as the clients' models declare; the
//! printed forms' template contexts are made beside the `info` they print.
use super::errors::UaError;
use super::rules::{self, show};
use super::tasks::{CASH_IN, CASH_OUT, OPEN, RETURN, SALE, Z, task_of};
use crate::config::ua::{PrroConfig, TaxGroup};
use crate::ledger::Ledger;
use crate::store::{DeviceRow, LedgerDocRow};
use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;

/// An amount as a JSON number, as short as it goes (`540`, `90.9`): the real answer writes whole amounts
/// without a fraction, and a client parsing the text with a comma locale takes `540` but not `540.0`.
pub fn money(d: Decimal) -> Value {
    let d = crate::ledger::money::round(d).normalize();
    if d.scale() == 0
        && let Some(n) = d.to_i64()
    {
        return json!(n);
    }
    d.to_string().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(json!(0))
}

/// A decimal kept as text in a stored body (`"133.72"`); 0 when absent.
pub fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap_or_default(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

/// A count kept as a decimal, as a JSON integer.
fn count(d: Decimal) -> Value {
    json!(d.to_i64().unwrap_or(0))
}

/// `YYYYMMDDhhmmss`: the envelope's and `info`'s time.
pub fn dm_time(at: &DateTime<FixedOffset>) -> String {
    at.format("%Y%m%d%H%M%S").to_string()
}

/// `dd-MM-yyyy HH:mm:ss`: the time of `printinfo`, as the real answer writes it.
fn print_time(at: &DateTime<FixedOffset>) -> String {
    at.format("%d-%m-%Y %H:%M:%S").to_string()
}

pub fn parse_time(rfc3339: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(rfc3339).ok()
}

/// A group or kind code: a JSON number when it is one (clients bind `gr_code` and `taxgrp` to integers).
fn code(c: &str) -> Value {
    c.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(c))
}

/// The register's header (`printheader`) the X, Z and status answers carry: a client takes the taxpayer's
/// name from it.
pub fn printheader(p: &PrroConfig) -> Value {
    json!({"name": p.name, "shopname": p.shopname, "shopad": p.shopad, "vat_code": p.vat_code, "fis_code": p.edrpou})
}

/// The tax service's check link of a document (what the printed QR code carries, and `info.qr`).
fn check_url(p: &PrroConfig, doccode: &str, sum: Decimal, at: &DateTime<FixedOffset>) -> String {
    format!(
        "https://cabinet.tax.gov.ua/cashregs/check?fn={}&id={doccode}&sm={}&date={}&time={}",
        p.fisid,
        show(sum),
        at.format("%Y%m%d"),
        at.format("%H%M%S")
    )
}

/// A text that may hold line breaks, as the lines a template prints one by one.
fn lines(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if !s.is_empty() => json!(s.split('\n').collect::<Vec<_>>()),
        _ => json!([]),
    }
}

/// A stored tax line's full name (bodies stored before `label` existed: the name and the rate).
fn tax_label(t: &Value) -> String {
    match t["label"].as_str() {
        Some(l) if !l.is_empty() => l.to_string(),
        _ => format!("{} {}%", t["name"].as_str().unwrap_or_default(), t["percent"].as_str().unwrap_or_default())
            .trim()
            .to_string(),
    }
}

/// A stored payment's amount the receipt took (bodies stored before `applied` existed: `sum − change`).
fn applied(p: &Value) -> Decimal {
    if p.get("applied").is_some() { dec(&p["applied"]) } else { dec(&p["sum"]) - dec(&p["change"]) }
}

/// The `info` of a stored document, its template and, when `forms` are to be rendered, the template's
/// context (`Null` otherwise: most sales answer without forms, and the context is as much work as `info`).
pub fn document(
    p: &PrroConfig,
    groups: &[TaxGroup],
    doc: &LedgerDocRow,
    at: &DateTime<FixedOffset>,
    copy: bool,
    forms: bool,
) -> (Value, &'static str, Value) {
    let b = &doc.body;
    let reply = doc.fiscal_reply.clone().unwrap_or(Value::Null);
    let doccode = reply.get("doccode").and_then(Value::as_str).unwrap_or_default().to_string();
    let mac = reply.get("mac").and_then(Value::as_str).unwrap_or_default().to_string();
    let cashier = b.get("cashier").and_then(Value::as_str).unwrap_or_default().to_string();
    let task = task_of(&doc.doc_type);
    let sum = b.get("sum_topay").or_else(|| b.get("sum")).map(dec).unwrap_or_default();
    let safe = b.get("safe_after").map(dec).unwrap_or_default();
    let url = check_url(p, &doccode, sum, at);
    let mut info = json!({
        "task": task, "fisid": p.fisid, "dataid": doc.id, "doccode": doccode, "docno": doc.number.to_string(),
        "shift_link": doc.shift_number, "dt": dm_time(at), "cashier": cashier, "dtype": 0, "isprint": 0,
        "ispay": 0, "isoffline": false, "safe": money(safe), "qr": url, "mac": mac, "cancelid": doc.uid,
        "devinfo": "", "userdata1": "", "userdata2": "", "userdata3": "", "vacant_off_nums": 0,
        "printheader": Value::Null,
    });
    let mut ctx = if forms {
        json!({
            "shop": {"name": p.name, "shopname": p.shopname, "shopad": p.shopad, "vat_code": p.vat_code, "edrpou": p.edrpou},
            "test": true, "copy": copy, "docno": doc.number, "fisn": doccode, "fisid": p.fisid,
            "shift_link": doc.shift_number, "dt": at.format("%d.%m.%Y %H:%M:%S").to_string(), "cashier": cashier,
            "qr": url, "safe": show(safe),
        })
    } else {
        Value::Null
    };
    let template = match doc.doc_type.as_str() {
        SALE | RETURN => {
            let (printinfo, receipt_ctx) = receipt(p, groups, doc, &info, at, forms);
            info["printinfo"] = printinfo;
            if let (Some(c), Value::Object(r)) = (ctx.as_object_mut(), receipt_ctx) {
                c.extend(r);
            }
            "receipt.j2"
        }
        Z => {
            let mut z = b.clone();
            z["task"] = json!(11);
            for k in [
                "fisid",
                "dataid",
                "doccode",
                "docno",
                "dt",
                "dtype",
                "mac",
                "cashier",
                "isprint",
                "devinfo",
                "vacant_off_nums",
                "qr",
            ] {
                z[k] = info[k].clone();
            }
            z["printheader"] = printheader(p);
            info = z;
            if forms {
                ctx = report_context(p, &info, "Z-ЗВІТ", &cashier, at, Some(doc.number), Some(&doccode));
                ctx["copy"] = json!(copy);
            }
            "report.j2"
        }
        other => {
            let (title, label) = match other {
                OPEN => ("ВІДКРИТТЯ ЗМІНИ", ""),
                CASH_IN => ("СЛУЖБОВЕ ВНЕСЕННЯ", "Внесено"),
                CASH_OUT => ("СЛУЖБОВА ВИДАЧА", "Видано"),
                _ => ("ЧЕК ВИДАЧІ ГОТІВКИ", "Видано"),
            };
            if forms {
                ctx["title"] = json!(title);
                ctx["sum_label"] = json!(label);
                ctx["sum"] = b.get("sum").cloned().unwrap_or(Value::Null);
            }
            if let Some(s) = b.get("sum") {
                info["sum"] = money(dec(s));
            }
            "cash.j2"
        }
    };
    (info, template, ctx)
}

/// A sale's or return's `printinfo` (the real answer's keys and types) and its template context.
fn receipt(
    p: &PrroConfig,
    groups: &[TaxGroup],
    doc: &LedgerDocRow,
    info: &Value,
    at: &DateTime<FixedOffset>,
    forms: bool,
) -> (Value, Value) {
    let b = &doc.body;
    let letter = |grp: &Value| {
        groups.iter().find(|g| Some(g.code.as_str()) == grp.as_str()).map(|g| g.letter.clone()).unwrap_or_default()
    };
    let rows: Vec<&Value> = b["rows"].as_array().into_iter().flatten().collect();
    let goods: Vec<Value> = rows
        .iter()
        .map(|r| {
            let marks: Vec<&str> = r["marks"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let taxgrp = r["taxgrp"].as_str().map(code).unwrap_or(Value::Null);
            json!({"name": r["name"], "code": r["code"], "code1": r["code1"].as_str().unwrap_or_default(),
                "code2": r["code2"].as_str().unwrap_or_default(), "code3": r["code3"].as_str().unwrap_or_default(),
                "code_a": marks.first().copied().unwrap_or_default(), "code_aa": marks.iter().skip(1).collect::<Vec<_>>(),
                "cnt": money_or_quantity(&r["cnt"]), "price": money(dec(&r["price"])), "cost": money(dec(&r["gross"])),
                "disc": money(dec(&r["disc"])), "taxgrp": taxgrp, "taxlit": letter(&r["taxgrp"]),
                "comment": r["comment"].as_str().unwrap_or_default(),
                "purchase_receipt_dt": r["purchase_receipt_dt"].as_str().unwrap_or_default()})
        })
        .collect();
    let stored_pays: Vec<&Value> = b["pays"].as_array().into_iter().flatten().collect();
    const CARD_KEYS: [&str; 9] =
        ["paysys", "rrn", "cardmask", "term_id", "bank_id", "auth_code", "bank_name", "oper_type", "commission"];
    let pays: Vec<Value> = stored_pays
        .iter()
        .map(|pay| {
            let kind = pay["type"].as_i64().unwrap_or(0);
            let change = dec(&pay["change"]);
            let mut out = json!({"type": kind, "typen": rules::pay_name(kind), "sum": money(applied(pay)),
                "currency": "грн", "info": if kind == 0 {
                    format!("Отримано {} решта {}", show(dec(&pay["sum"])), show(change))
                } else {
                    String::new()
                },
                "comment": pay["comment"].as_str().unwrap_or_default(), "comment_up": "", "comment_down": "",
                "purchase_dt": pay["purchase_dt"].as_str().unwrap_or_default()});
            for k in CARD_KEYS {
                if let Some(v) = pay["card"].get(k) {
                    out[k] = v.clone();
                }
            }
            out
        })
        .collect();
    let stored_taxes: Vec<&Value> = b["taxes"].as_array().into_iter().flatten().collect();
    let taxes: Vec<Value> = stored_taxes
        .iter()
        .map(|t| {
            json!({"gr_code": code(t["code"].as_str().unwrap_or_default()), "base_sum": money(dec(&t["base"])),
                "tax_name": t["name"].as_str().unwrap_or_default(), "tax_fname": tax_label(t),
                "tax_lit": t["lit"].as_str().unwrap_or_default(), "tax_percent": money(dec(&t["percent"])),
                "tax_sum": money(dec(&t["tax"])), "ex_name": t["excise_name"].as_str().unwrap_or_default(),
                "ex_percent": money(dec(&t["excise_percent"])), "ex_sum": money(dec(&t["excise"]))})
        })
        .collect();
    let (disc, rounding) = (dec(&b["sum_disc"]), dec(&b["round"]));
    let is_sale = doc.doc_type == SALE;
    let title =
        if is_sale { "ФІСКАЛЬНИЙ ЧЕК" } else { "ФІСКАЛЬНИЙ ЧЕК ПОВЕРНЕННЯ" };
    let text = |k: &str| b[k].as_str().unwrap_or_default().to_string();
    let printinfo = json!({
        "name": p.name, "shopname": p.shopname, "shopad": p.shopad, "vat_code": p.vat_code, "fis_code": p.edrpou,
        "goods": goods, "sum_0": money(dec(&b["sum_0"])), "sum_receipt": money(dec(&b["sum_receipt"])),
        "sum_disc": money(disc), "sum_topay": money(dec(&b["sum_topay"])), "round": money(rounding),
        "pays": pays, "taxes": taxes, "fisn": info["doccode"], "dt": print_time(at), "qr": info["qr"],
        "isOffline": false, "mac": info["mac"], "fisid": p.fisid, "manuf": "Kassa", "cashier": info["cashier"],
        "task": info["task"], "fisdoctype": if is_sale { "Фіскальний чек" } else { "Фіскальний чек повернення" },
        "comment_down": text("comment_down"), "comment_up": text("comment_up"), "safe": info["safe"],
        "docno": info["docno"], "userdata1": "", "userdata2": "", "userdata3": "",
        "purchase_receipt_fisn": text("purchase_receipt_fisn"), "purchase_rro_fisn": text("purchase_rro_fisn"),
    });
    if !forms {
        return (printinfo, Value::Null);
    }
    let ctx_goods: Vec<Value> = rows
        .iter()
        .map(|r| {
            let disc = dec(&r["disc"]);
            json!({"code": r["code"], "name": r["name"], "cnt": r["cnt"], "price": r["price"], "gross": r["gross"],
                "cost": r["cost"], "disc": if disc.is_zero() { Value::Null } else { r["disc"].clone() },
                "taxgrp": r["taxgrp"], "tax_lit": letter(&r["taxgrp"]), "comment": r["comment"], "marks": r["marks"],
                "purchase_receipt_dt": r["purchase_receipt_dt"]})
        })
        .collect();
    let ctx_pays: Vec<Value> = stored_pays
        .iter()
        .map(|pay| {
            let change = dec(&pay["change"]);
            json!({"name": pay["name"], "sum": pay["sum"], "change": if change.is_zero() { Value::Null } else { pay["change"].clone() },
                "lines": pay["lines"], "comment": pay["comment"], "purchase_dt": pay["purchase_dt"]})
        })
        .collect();
    let ctx_taxes: Vec<Value> = stored_taxes
        .iter()
        .map(|t| {
            let excise = dec(&t["excise"]);
            json!({"lit": t["lit"], "name": t["name"], "label": tax_label(t), "percent": t["percent"], "tax": t["tax"],
                "excise_name": t["excise_name"], "excise_percent": t["excise_percent"],
                "excise": if excise.is_zero() { Value::Null } else { t["excise"].clone() }})
        })
        .collect();
    let ctx = json!({
        "title": title, "goods": ctx_goods, "pays": ctx_pays, "taxes": ctx_taxes, "sum_0": b["sum_0"],
        "sum_disc": if disc.is_zero() { Value::Null } else { b["sum_disc"].clone() },
        "sum_receipt": b["sum_receipt"], "round": if rounding.is_zero() { Value::Null } else { b["round"].clone() },
        "sum_topay": b["sum_topay"], "comment_up": lines(&b["comment_up"]), "comment_down": lines(&b["comment_down"]),
        "purchase_receipt_fisn": text("purchase_receipt_fisn"), "purchase_rro_fisn": text("purchase_rro_fisn"),
    });
    (printinfo, ctx)
}

/// A quantity kept as text (`"0.345"`) as a JSON number.
fn money_or_quantity(v: &Value) -> Value {
    let d = dec(v).normalize();
    if d.scale() == 0
        && let Some(n) = d.to_i64()
    {
        return json!(n);
    }
    d.to_string().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(json!(0))
}

/// The X/Z report `info` from the shift's counters. `closing`: the Z report about to be committed, whose
/// number is the device's next.
pub fn report(
    ledger: &Ledger,
    groups: &[TaxGroup],
    d: &DeviceRow,
    c: &BTreeMap<String, Decimal>,
    closing: bool,
) -> Result<Value, UaError> {
    let get = |k: &str| c.get(k).copied().unwrap_or_default();
    let last_no = |t: &str| -> Result<Value, UaError> {
        Ok(json!(
            ledger
                .last_document(d.id, &[t])?
                .filter(|doc| doc.shift_number == d.shift_number)
                .map_or(0, |doc| doc.number)
        ))
    };
    let mut kinds: Vec<i64> = c
        .keys()
        .filter_map(|k| k.strip_prefix("pay_p:").or_else(|| k.strip_prefix("pay_m:")))
        .filter_map(|k| k.parse().ok())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let rounds = json!({"round_pu": 0, "round_pd": 0, "round_mu": 0, "round_md": 0});
    let row = |kind: i64, name: &str, p: Decimal, m: Decimal| {
        let mut v = json!({"type": kind, "name": name, "sum_p": money(p), "sum_m": money(m)});
        if let (Some(o), Some(r)) = (v.as_object_mut(), rounds.as_object()) {
            o.extend(r.clone());
        }
        v
    };
    let pays: Vec<Value> = kinds
        .iter()
        .map(|k| row(*k, &rules::pay_name(*k), get(&format!("pay_p:{k}")), get(&format!("pay_m:{k}"))))
        .collect();
    let taxes: Vec<Value> = groups
        .iter()
        .filter(|g| {
            c.contains_key(&format!("taxbase_p:{}", g.code)) || c.contains_key(&format!("taxbase_m:{}", g.code))
        })
        .map(|g| {
            let pick = |k: &str| get(&format!("{k}:{}", g.code));
            json!({"gr_code": code(&g.code), "tax_name": g.name, "tax_fname": g.full_name(), "tax_lit": g.letter,
                "tax_percent": money(Decimal::from_str(&g.percent).unwrap_or_default()),
                "base_sum_p": money(pick("taxbase_p")), "base_sum_m": money(pick("taxbase_m")),
                "tax_sum_p": money(pick("tax_p")), "tax_sum_m": money(pick("tax_m")),
                "ex_name": g.excise_name, "ex_percent": money(Decimal::from_str(&g.excise_percent).unwrap_or_default()),
                "ex_sum_p": money(pick("excise_p")), "ex_sum_m": money(pick("excise_m"))})
        })
        .collect();
    // The shift's documents are numbered one after another, from its opening to the last one (or the Z).
    let documents = d.shift_position;
    let last = if closing { d.next_number } else { d.next_number - 1 };
    let first = if closing { last - documents } else { last - documents + 1 };
    let excise: Decimal = c.iter().filter(|(k, _)| k.starts_with("excise_p:")).map(|(_, v)| *v).sum();
    let excise_m: Decimal = c.iter().filter(|(k, _)| k.starts_with("excise_m:")).map(|(_, v)| *v).sum();
    let mut info = Map::new();
    for (k, v) in [
        ("shift_link", json!(d.shift_number)),
        ("docno_from", json!(first.max(0))),
        ("docno_to", json!(last.max(0))),
        (
            "receipt",
            json!({"count_p": count(get("count_p")), "count_m": count(get("count_m")),
            "count_14": count(get("count_14")), "count_transfer": 0,
            "last_docno_p": last_no(SALE)?, "last_docno_m": last_no(RETURN)?}),
        ),
        (
            "summary",
            json!({"base_p": money(get("base_p")), "base_m": money(get("base_m")), "taxex_p": money(excise),
            "taxex_m": money(excise_m), "disc_p": money(get("disc_p")), "disc_m": money(get("disc_m"))}),
        ),
        ("taxes", json!(taxes)),
        ("pays", json!(pays)),
        // Service deposits (`sum_p`) and withdrawals (`sum_m`) of cash, as the one client that reads this
        // prints them; cash the receipts took and paid back is `cash[]`.
        ("money", json!([row(0, "Готівка", get("cash_in"), get("cash_out"))])),
        ("cash", json!([row(0, "Готівка", get("pay_p:0"), get("pay_m:0") + get("withdrawal_14"))])),
        ("money_transfer", json!([])),
        ("safe", money(get("safe"))),
    ] {
        info.insert(k.into(), v);
    }
    Ok(Value::Object(info))
}

/// The last numbers a status or task 21 answers: the last sale's and return's document numbers and the
/// number of the last closed shift (0 when none), and no reserved offline numbers.
pub fn last_numbers(ledger: &Ledger, d: &DeviceRow, info: &mut Value) -> Result<(), UaError> {
    let last = |t: &str| -> Result<Value, UaError> {
        Ok(json!(ledger.last_document(d.id, &[t])?.map_or(0, |doc| doc.number)))
    };
    info["last_receipt_no"] = last(SALE)?;
    info["last_back_no"] = last(RETURN)?;
    let closed = if d.shift_opened_at.is_some() { d.shift_number - 1 } else { d.shift_number };
    info["last_z_no"] = json!(closed.max(0));
    info["vacant_off_nums"] = json!(0);
    Ok(())
}

/// The template context of an X or Z report.
pub fn report_context(
    p: &PrroConfig,
    info: &Value,
    title: &str,
    cashier: &str,
    at: &DateTime<FixedOffset>,
    docno: Option<i64>,
    fisn: Option<&str>,
) -> Value {
    let mut ctx = info.clone();
    let text = |v: &Value| show(dec(v));
    ctx["shop"] =
        json!({"name": p.name, "shopname": p.shopname, "shopad": p.shopad, "vat_code": p.vat_code, "edrpou": p.edrpou});
    ctx["title"] = json!(title);
    ctx["test"] = json!(true);
    ctx["copy"] = json!(false);
    ctx["cashier"] = json!(cashier);
    ctx["dt"] = json!(at.format("%d.%m.%Y %H:%M:%S").to_string());
    ctx["docno"] = json!(docno);
    ctx["fisn"] = json!(fisn);
    ctx["fisid"] = json!(p.fisid);
    ctx["safe"] = json!(text(&info["safe"]));
    for k in ["base_p", "base_m", "disc_p", "disc_m"] {
        ctx["summary"][k] = json!(text(&info["summary"][k]));
    }
    if let Some(list) = ctx["pays"].as_array_mut() {
        for p in list {
            p["sum_p"] = json!(text(&p["sum_p"]));
            p["sum_m"] = json!(text(&p["sum_m"]));
        }
    }
    if let Some(list) = ctx["taxes"].as_array_mut() {
        for t in list {
            for k in ["tax_sum_p", "tax_sum_m", "base_sum_p", "base_sum_m", "ex_sum_p", "ex_sum_m"] {
                t[k] = json!(text(&t[k]));
            }
            let excise = dec(&t["ex_sum_p"]) + dec(&t["ex_sum_m"]);
            t["has_excise"] = json!(!excise.is_zero());
        }
    }
    let service = &info["money"][0];
    ctx["cash"] = json!([
        {"name": "Службове внесення", "sum": text(&service["sum_p"])},
        {"name": "Службова видача", "sum": text(&service["sum_m"])},
    ]);
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_as_short_as_the_real_answer_writes_it() {
        assert_eq!(money(Decimal::new(54000, 2)).to_string(), "540");
        assert_eq!(money(Decimal::new(9090, 2)).to_string(), "90.9");
        assert_eq!(money(Decimal::new(13372, 2)).to_string(), "133.72");
        assert_eq!(money(Decimal::ZERO).to_string(), "0");
        assert_eq!(code("2"), json!(2));
        assert_eq!(code("A1"), json!("A1"));
    }
}
