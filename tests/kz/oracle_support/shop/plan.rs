//! The calls whose answers are the `shop` oracle.
use super::*;
use crate::oracle_support::{ADMIN, Recorder, ua_envelope};
use std::collections::BTreeMap;

/// The calls whose answers are the oracle, on the fixture as packed.
pub async fn plan(r: &mut Recorder<'_>) {
    kz_reads(r).await;
    kz_replays(r).await;
    by_calls(r).await;
    ua_calls(r).await;
    kz_x_reports(r).await;
}

/// Journal, KKM and operator lists, every document, receipts as text and PNG.
async fn kz_reads(r: &mut Recorder<'_>) {
    r.kz("GetKKMList: all", "GetKKMList", ADMIN, json!({})).await;
    for kkm in [K1, K2, K3, K4, 9999] {
        r.kz(&format!("GetKKMList {kkm}"), "GetKKMList", ADMIN, json!({"ofd_id": kkm})).await;
    }
    r.kz("GetKKMList: a cashier's", "GetKKMList", CASHIER, json!({})).await;
    r.kz("GetKKMList: a cashier on a KKM not bound", "GetKKMList", CASHIER, json!({"ofd_id": K2})).await;
    r.kz("GetOperatorList", "GetOperatorList", ADMIN, json!({})).await;
    r.kz("GetOperatorList: a cashier", "GetOperatorList", CASHIER, json!({})).await;
    r.kz("GetKKMList: a wrong PIN", "GetKKMList", "0001", json!({})).await;

    let mut journals = BTreeMap::new();
    for kkm in [K1, K2, K3, K4] {
        let list = r
            .kz(&format!("GetTransactionList {kkm}: all"), "GetTransactionList", ADMIN, json!({"kkm_ofd_id": kkm}))
            .await;
        journals.insert(kkm, list["response_data"].as_array().cloned().unwrap_or_default());
    }
    let k1 = &journals[&K1];
    let date = |i: usize| k1[i]["date"].as_str().expect("date").to_owned();
    let filters = [
        ("tickets", json!({"command_type_list": [1]})),
        ("reports and Z", json!({"command_type_list": [2, 3]})),
        ("money placements", json!({"command_type_list": [6]})),
        ("shift 2", json!({"shift_number": 2})),
        ("shift 2 document 4", json!({"shift_number": 2, "shift_document_number": 4})),
        ("one ID", json!({"transaction_id": k1[5]["ID"]})),
        ("by fiscal sign", json!({"command_type_list": [1], "fiscal_id": k1[1]["body"]["fiscal_id"]})),
        ("by fiscal sign without [1]", json!({"command_type_list": [1, 6], "fiscal_id": "1"})),
        ("period, documents 3 to 8", json!({"period_start": date(2), "period_end": date(7)})),
        ("from document 10", json!({"period_start": date(9)})),
        ("up to document 2", json!({"period_end": date(1)})),
        ("from document 4, seconds only", json!({"period_start": date(3)[..19].to_owned()})),
        ("a bad date", json!({"period_start": "вчера"})),
        ("paging fields, which the API does not have", json!({"limit": 5, "offset": 5, "page": 2})),
    ];
    for (name, filter) in filters {
        let mut request = filter;
        request["kkm_ofd_id"] = json!(K1);
        r.kz(&format!("GetTransactionList {K1}: {name}"), "GetTransactionList", ADMIN, request).await;
    }
    r.kz("GetTransactionList: a cashier's KKM", "GetTransactionList", CASHIER, json!({"kkm_ofd_id": K1})).await;
    r.kz("GetTransactionList: a cashier, retired KKM", "GetTransactionList", CASHIER, json!({"kkm_ofd_id": K3})).await;
    r.kz("GetTransactionList: a cashier, KKM not bound", "GetTransactionList", CASHIER, json!({"kkm_ofd_id": K2}))
        .await;
    r.kz("GetTransactionList: unknown KKM", "GetTransactionList", ADMIN, json!({"kkm_ofd_id": 9999})).await;

    // Every document by its transaction ID; the IDs no journal shows (the rolled-back sale) are not found.
    let mut ids = Vec::new();
    for (kkm, docs) in &journals {
        for doc in docs {
            let id = doc["ID"].as_i64().expect("ID");
            ids.push(id);
            let request = json!({"kkm_ofd_id": kkm, "transaction_id": id});
            r.kz(&format!("GetTransaction {kkm} #{id}"), "GetTransaction", ADMIN, request).await;
        }
    }
    let max = ids.iter().copied().max().unwrap_or(0);
    let hidden: Vec<i64> = (1..=max).filter(|id| !ids.contains(id)).collect();
    assert!(!hidden.is_empty(), "the rolled-back sale has an ID no journal shows");
    for id in hidden.iter().copied().chain([max + 1]) {
        let request = json!({"kkm_ofd_id": K1, "transaction_id": id});
        r.kz(&format!("GetTransaction {K1} #{id} (not in a journal)"), "GetTransaction", ADMIN, request).await;
    }
    let request = json!({"kkm_ofd_id": K2, "transaction_id": k1[0]["ID"]});
    r.kz("GetTransaction: another KKM's ID", "GetTransaction", ADMIN, request).await;
    let request = json!({"kkm_ofd_id": K1, "transaction_id": k1[0]["ID"]});
    r.kz("GetTransaction: a cashier", "GetTransaction", CASHIER, request).await;

    // Every receipt as text, control receipts (shift 0) included.
    for (kkm, docs) in &journals {
        for doc in docs {
            let (shift, number) = (&doc["fr_shift_number"], &doc["shift_document_number"]);
            let request = json!({"kkm_ofd_id": kkm, "fr_shift_number": shift, "shift_document_number": number,
                "format": "txt"});
            r.kz(&format!("RenderDocument {kkm} {shift}/{number} txt"), "RenderDocument", ADMIN, request).await;
        }
    }
    for (number, what) in [(1, "control receipt"), (2, "control receipt"), (3, "no such control receipt")] {
        let request = json!({"kkm_ofd_id": K1, "fr_shift_number": 0, "shift_document_number": number, "format": "txt"});
        r.kz(&format!("RenderDocument {K1} 0/{number} txt ({what})"), "RenderDocument", ADMIN, request).await;
    }
    let render = |shift: i64, number: i64, format: &str, original: bool| {
        json!({"kkm_ofd_id": K1, "fr_shift_number": shift, "shift_document_number": number, "format": format,
            "is_original": original})
    };
    r.kz("RenderDocument 6923 2/1 txt copy", "RenderDocument", ADMIN, render(2, 1, "txt", false)).await;
    r.kz("RenderDocument 6923 2/2 html", "RenderDocument", ADMIN, render(2, 2, "html", true)).await;
    r.kz("RenderDocument 6923 2/2 escpos", "RenderDocument", ADMIN, render(2, 2, "escpos", true)).await;
    r.kz("RenderDocument 6923 1/2 txt, a cashier", "RenderDocument", CASHIER, render(1, 2, "txt", true)).await;

    // Pictures: each template version, a copy, an autonomous ticket, a control receipt, a retired KKM's Z.
    let images = [
        (K1, 1, 2, true),
        (K1, 1, 2, false),
        (K1, 2, 1, true),
        (K1, 2, 2, true),
        (K1, 2, 3, true),
        (K1, 0, 1, true),
        (K2, 2, 3, true),
        (K3, 1, 4, true),
        (K1, 9, 9, true),
    ];
    for (kkm, shift, number, original) in images {
        let request = json!({"kkm_ofd_id": kkm, "fr_shift_number": shift, "shift_document_number": number,
            "is_original": original});
        let what = format!("GetDocumentImage {kkm} {shift}/{number}{}", if original { "" } else { " copy" });
        r.kz(&what, "GetDocumentImage", ADMIN, request).await;
    }
}

/// Idempotency keys used at build time: the same key and request answer the stored document.
async fn kz_replays(r: &mut Recorder<'_>) {
    let replays = [
        ("MoneyPlacement dep-0001 again", "MoneyPlacement", CASHIER, "dep-0001", deposit_keyed()),
        ("ZXReport z-0001 again", "ZXReport", CASHIER, "z-0001", z_keyed()),
        ("TradeOperation sale-0001 again", "TradeOperation", CASHIER, "sale-0001", sale_keyed()),
        ("TradeOperation sale-0001, another request", "TradeOperation", CASHIER, "sale-0001", refused_sale()),
        ("TradeOperation sale-0003 again (the retry)", "TradeOperation", CASHIER, "sale-0003", refused_sale()),
        ("TradeOperation offline-0001 again", "TradeOperation", CASHIER2, "offline-0001", offline_sale()),
    ];
    for (what, method, pin, key, request) in replays {
        r.kz_full(what, method, pin, Some(key), request, &[]).await;
    }
}

/// The Belarusian front's read-only calls: state, numbers, copies, replayed operation ids, X.
async fn by_calls(r: &mut Recorder<'_>) {
    let text = [("repr.text", "")];
    let token = |action: &str, data: Value| by_message("ik.service.token", action, &[], data);
    r.by("by get_token", token("get_token", json!({}))).await;
    r.by("by get_state, not authorised", token("get_state", json!({}))).await;
    let authorize = by_message("ik.service.token.authority", "authorize", &[], json!({"pin": "2718"}));
    r.by("by authorize", authorize).await;
    r.by("by get_state", token("get_state", json!({}))).await;
    let next = r.by("by get_next_document_number", token("get_next_document_number", json!({}))).await;
    r.by("by get_unsent_documents_count", token("get_unsent_documents_count", json!({}))).await;
    r.by("by get_oldest_document", token("get_oldest_document", json!({}))).await;
    let next = next["data"]["number"].as_i64().expect("the next number");
    for number in 1..=next {
        let copy = by_message("ik.service.token", "print_copy", &text, json!({"number": number}));
        r.by(&format!("by print_copy {number}"), copy).await;
    }
    let every_repr = by_message("ik.service.token", "print_copy", &[], json!({"number": 2}));
    r.by("by print_copy 2, every representation", every_repr).await;
    let z = by_message("ik.service.token.shift", "get_z_report_copy", &text, json!({}));
    r.by("by get_z_report_copy (a shift is open)", z).await;
    let deposit =
        by_message("ik.service.token.deposit", "deposit", &[("operation_id", "by-dep-1"), text[0]], by_deposit());
    r.by("by deposit by-dep-1 again", deposit).await;
    let sale = by_message(
        "ik.service.token.sales.retail",
        "create_sale",
        &[("operation_id", "by-sale-1"), text[0]],
        by_sale(),
    );
    r.by("by create_sale by-sale-1 again", sale).await;
    let other = by_message(
        "ik.service.token.sales.retail",
        "create_sale",
        &[("operation_id", "by-sale-1"), text[0]],
        json!({"header": {"cashier": "Анна"},
            "items": [{"name": "Хлеб", "price": "1.55", "quantity": "1.000", "tax_rate": "tax20"}],
            "payments": [{"payment_type": "cash", "value": "1.55"}]}),
    );
    r.by("by create_sale by-sale-1, other data", other).await;
    let x = by_message("ik.service.token.shift", "get_x_report", &text, json!({}));
    r.by("by get_x_report", x).await;
}

/// The Ukrainian front's read-only calls: status, numbers, repeat by tag, the last receipt, X.
async fn ua_calls(r: &mut Recorder<'_>) {
    let task = |t: i64| json!({"task": t});
    r.ua("ua task 18 (status)", ua_envelope("", task(18))).await;
    r.ua("ua task 21 (last numbers)", ua_envelope("", task(21))).await;
    r.ua("ua task 20 (fiscal number)", ua_envelope("", task(20))).await;
    let mut fisns = Vec::new();
    for (tag, fiscal) in ua_documents() {
        let repeat = r.ua(&format!("ua repeat by tag {tag}"), ua_envelope(tag, Value::Null)).await;
        if let Some(fisn) = repeat["info"]["fisn"].as_str().or(repeat["info"]["printinfo"]["fisn"].as_str()) {
            fisns.push(fisn.to_owned());
        }
        r.ua(&format!("ua {tag} again, the same request"), ua_envelope(tag, fiscal)).await;
    }
    let other = json!({"task": 1, "cashier": "Іваненко", "receipt": {"rows": [
        {"code": "1", "name": "Хліб", "cnt": 1, "price": 21.5, "taxgrp": 1}], "pays": [{"type": 0, "sum": 21.5}]}});
    r.ua("ua ua-sale-1, another receipt", ua_envelope("ua-sale-1", other)).await;
    r.ua("ua repeat by an unknown tag", ua_envelope("ua-none", Value::Null)).await;
    for fisn in fisns.iter().take(2) {
        r.ua(&format!("ua task 20 fisn {fisn}"), ua_envelope("", json!({"task": 20, "fisn": fisn}))).await;
    }
    let mut last = ua_envelope("", task(22));
    last["need_pf_txt"] = json!(1);
    r.ua("ua task 22 (last receipt again)", last).await;
    let mut x = ua_envelope("", task(10));
    x["need_pf_txt"] = json!(1);
    r.ua("ua task 10 (X)", x).await;
}

/// X reports, last: each makes a journal document, the same one on every fresh copy of the fixture.
async fn kz_x_reports(r: &mut Recorder<'_>) {
    let x = r.kz_full("ZXReport X 6923", "ZXReport", CASHIER, None, report(K1, 1), &["/response_data/body/date_time"]);
    let x = x.await;
    assert_eq!(x["response_data"]["fr_shift_number"], 3, "{x}");
    let request = json!({"kkm_ofd_id": K1, "shift_number": 3, "command_type_list": [3]});
    r.kz_full("GetTransactionList 6923: the X", "GetTransactionList", ADMIN, None, request, &["/response_data/0/date"])
        .await;
    r.kz("GetKKMList 6923 after X", "GetKKMList", ADMIN, json!({"ofd_id": K1})).await;
    let varies = ["/response_data/body/date_time", "/response_data/body/open_shift_time"];
    r.kz_full("ZXReport X 7003 (opens shift 1)", "ZXReport", SENIOR, None, report(K4, 1), &varies).await;
    let request = json!({"kkm_ofd_id": K4});
    r.kz_full(
        "GetTransactionList 7003 after X",
        "GetTransactionList",
        ADMIN,
        None,
        request,
        &["/response_data/0/date"],
    )
    .await;
    let request = json!({"ofd_id": K4});
    r.kz_full("GetKKMList 7003 after X", "GetKKMList", ADMIN, None, request, &["/response_data/0/shift_open_date"])
        .await;
}
