//! Idempotency keys as two cashiers and a retrying POS meet them, through the real binary on all three
//! fronts at once: a key belongs to one device and one method, a retry gets its stored document even after
//! the drawer or the shift changed, the same key with another request is refused with its front's code, and
//! no key shows a document of a KKM the caller is not bound to.
use crate::common;

use common::Served;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

const ADMIN: &str = "0000";

/// `kassa serve` with the Kazakh, Belarusian and Ukrainian fronts on ports of their choosing.
fn serve(dir: &Path) -> Served {
    let config = dir.join("kassa.toml");
    std::fs::write(
        &config,
        "[by]\nlisten = \"127.0.0.1:0\"\n[by.sko]\npin = \"2718\"\n[ua]\nlisten = \"127.0.0.1:0\"\n\
         [ua.prro]\nfisid = \"4000123456\"\n",
    )
    .unwrap();
    let log = dir.join("stderr.log");
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.join("data"));
    command.arg("--config").arg(&config).stderr(std::fs::File::create(&log).unwrap());
    Served::spawn(command, &["api", "by-http", "ua"])
        .unwrap_or_else(|e| panic!("kassa did not start: {e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))
}

/// One POST with extra header lines; the JSON answer.
fn post(port: u16, path: &str, headers: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let json = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(json).unwrap_or_else(|_| panic!("not JSON: {out}"))
}

/// A Kazakh method call by `pin`, with an `Idempotency-Key` when given.
fn kz(port: u16, method: &str, pin: &str, key: Option<&str>, body: Value) -> Value {
    let mut headers = format!("Authorization: {pin}\r\n");
    if let Some(key) = key {
        headers.push_str(&format!("Idempotency-Key: {key}\r\n"));
    }
    post(port, &format!("/{method}"), &headers, &body)
}

fn kz_ok(port: u16, method: &str, pin: &str, key: Option<&str>, body: Value) -> Value {
    let a = kz(port, method, pin, key, body);
    assert_eq!(a["response_code"], 0, "{method}: {a}");
    a["response_data"].clone()
}

fn sale(kkm: i64, price: i64) -> Value {
    json!({"kkm_ofd_id": kkm, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": price,
            "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": price}], "amounts": {"total": price}})
}

fn tickets(port: u16, pin: &str, kkm: i64) -> Vec<Value> {
    let list = kz_ok(port, "GetTransactionList", pin, None, json!({"kkm_ofd_id": kkm, "command_type_list": [1]}));
    list.as_array().unwrap().clone()
}

#[test]
fn kazakh_keys_belong_to_their_kkm_and_method_and_a_reused_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let port = server.port("api");
    let a = kz_ok(port, "SaveKKM", ADMIN, None, json!({"ofd_id": 7001, "ofd_token": 1, "local_name": "Касса A"}));
    let b = kz_ok(port, "SaveKKM", ADMIN, None, json!({"ofd_id": 7002, "ofd_token": 2, "local_name": "Касса B"}));
    let op = |name: &str, pin: &str, kkm: &Value| {
        kz_ok(
            port,
            "SaveOperator",
            ADMIN,
            None,
            json!({"name": name, "access_pin": pin, "role": 3, "bindings": [kkm["ID"]]}),
        );
    };
    op("A", "1111", &a);
    op("B", "2222", &b);

    // Cashier A's receipt on 7001.
    let first = kz_ok(port, "TradeOperation", "1111", Some("receipt-1"), sale(7001, 100));
    assert_eq!(first["kkm_local_name"], "Касса A");
    // Cashier B, another KKM, the same key: B's own sale is made, not A's receipt answered.
    let other = kz_ok(port, "TradeOperation", "2222", Some("receipt-1"), sale(7002, 300));
    assert_eq!(other["kkm_local_name"], "Касса B", "{other}");
    assert_ne!(other["fiscal_id"], first["fiscal_id"]);
    assert_eq!(tickets(port, "2222", 7002).len(), 1, "B's sale is in 7002's journal");
    // B names A's KKM with that key: refused by the binding, never shown A's document.
    let peek = kz(port, "TradeOperation", "2222", Some("receipt-1"), sale(7001, 100));
    assert_eq!(peek["response_code"], 72, "{peek}");
    assert!(peek.get("response_data").and_then(|d| d.get("fiscal_id")).is_none(), "{peek}");
    // The same key with another body: refused with a clear text, not answered with the old receipt.
    let reused = kz(port, "TradeOperation", "1111", Some("receipt-1"), sale(7001, 999));
    assert_eq!(reused["response_code"], 2, "{reused}");
    let text = reused["message"].as_str().unwrap();
    assert!(text.contains("Idempotency-Key") && text.contains("другому запросу"), "{text}");
    assert_eq!(tickets(port, "1111", 7001).len(), 1);
    // The same key with another method is another key: a deposit is made.
    let deposit = kz_ok(
        port,
        "MoneyPlacement",
        "1111",
        Some("receipt-1"),
        json!({"kkm_ofd_id": 7001, "operation": 0, "sum": 50}),
    );
    assert_eq!(deposit["command_type"], 6, "{deposit}");
    // The retry itself: the stored answer, one document.
    let again = kz_ok(port, "TradeOperation", "1111", Some("receipt-1"), sale(7001, 100));
    assert_eq!(
        (again["fiscal_id"].clone(), again["body"].clone()),
        (first["fiscal_id"].clone(), first["body"].clone())
    );

    // A withdrawal retried after it emptied the drawer gets its document, not 58.
    let cash = kz_ok(port, "GetKKMList", ADMIN, None, json!({}))
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["ofd_id"] == 7001)
        .unwrap()["cash_sum"]
        .clone();
    let out = json!({"kkm_ofd_id": 7001, "operation": 1, "sum": cash});
    let withdrawn = kz_ok(port, "MoneyPlacement", "1111", Some("out-1"), out.clone());
    let retried = kz_ok(port, "MoneyPlacement", "1111", Some("out-1"), out);
    assert_eq!(retried["shift_document_number"], withdrawn["shift_document_number"]);
    // A sale retried after the shift was closed gets its receipt and opens no shift.
    kz_ok(port, "ZXReport", "1111", None, json!({"kkm_ofd_id": 7001, "report_type": 0}));
    let after_z = kz_ok(port, "TradeOperation", "1111", Some("receipt-1"), sale(7001, 100));
    assert_eq!(after_z["fiscal_id"], first["fiscal_id"]);
    assert_eq!(after_z["shift_state"], 0, "the retry opened no shift: {after_z}");
    assert_eq!(tickets(port, "1111", 7001).len(), 1);
}

const SKO: &str = "ik.service.token";

fn by(port: u16, address: &str, action: &str, headers: Value, data: Value) -> Value {
    let mut h = headers;
    h["action"] = json!(action);
    post(port, "/", "", &json!({"type": "send", "address": address, "headers": h, "data": data}))
}

fn by_ok(answer: Value) -> Value {
    assert_eq!(answer["type"], "send", "{answer}");
    answer["data"].clone()
}

fn by_code(answer: &Value) -> String {
    assert_eq!(answer["type"], "error", "{answer}");
    answer["data"]["code"].as_str().unwrap().to_owned()
}

fn cash_move(port: u16, action: &str, id: &str, sum: &str) -> Value {
    let address = if action == "deposit" { "ik.service.token.deposit" } else { "ik.service.token.withdraw" };
    by(port, address, action, json!({"operation_id": id}), json!({"header": {"cashier": "Анна"}, "sum": sum}))
}

#[test]
fn a_belarusian_operation_id_is_looked_up_before_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let port = server.port("by-http");
    by_ok(by(port, "ik.service.token.authority", "authorize", json!({}), json!({"pin": "2718"})));
    by_ok(by(port, "ik.service.token.shift", "open_shift", json!({}), json!({})));
    by_ok(cash_move(port, "deposit", "in-1", "9.00"));
    // A withdrawal retried after it emptied the drawer: the stored document, not KASSA_NOT_ENOUGH_CASH.
    let out = by_ok(cash_move(port, "withdraw", "out-1", "9.00"));
    let again = cash_move(port, "withdraw", "out-1", "9.00");
    assert_eq!(by_ok(again)["header"], out["header"]);
    // A deposit retried after close_shift: the stored document, not KASSA_SHIFT_CLOSED.
    let deposit = by_ok(cash_move(port, "deposit", "in-2", "5.00"));
    by_ok(by(port, "ik.service.token.shift", "close_shift", json!({}), json!({"header": {"cashier": "Анна"}})));
    let again = cash_move(port, "deposit", "in-2", "5.00");
    assert_eq!(by_ok(again)["header"], deposit["header"]);
    // The same operation_id with other data: refused, not answered with the deposit.
    by_ok(by(port, "ik.service.token.shift", "open_shift", json!({}), json!({})));
    let reused = cash_move(port, "deposit", "in-2", "7.00");
    assert_eq!(by_code(&reused), "KASSA_OPERATION_ID_REUSED", "{reused}");
    assert!(reused["data"]["text"].as_str().unwrap().contains("in-2"), "{reused}");
    // With another action it is another key: a withdrawal is made.
    by_ok(cash_move(port, "deposit", "in-3", "2.00"));
    let next = by_ok(by(port, SKO, "get_next_document_number", json!({}), json!({})))["number"].clone();
    let made = by_ok(cash_move(port, "withdraw", "in-2", "1.00"));
    assert_eq!(made["header"]["number"], next, "{made}");
    assert_eq!(made["header"]["type_id"], "cashier_withdraw_v2");
}

fn ua(port: u16, tag: &str, fiscal: Value) -> Value {
    post(
        port,
        "/dm/execute",
        "",
        &json!({"ver": 6, "source": "POS1", "device": "Каса 1", "tag": tag, "type": 1, "fiscal": fiscal}),
    )
}

fn ua_ok(a: Value) -> Value {
    assert_eq!(a["res"], 0, "{a}");
    a["info"].clone()
}

#[test]
fn a_ukrainian_tag_belongs_to_its_task_and_a_reused_tag_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let port = server.port("ua");
    ua_ok(ua(port, "", json!({"task": 0, "cashier": "Петренко І."})));
    let cash_in = ua_ok(ua(port, "t-1", json!({"task": 3, "cash": {"type": 0, "sum": 500}})));
    let cash_out = ua_ok(ua(port, "t-2", json!({"task": 4, "cash": {"type": 0, "sum": 500}})));
    // Retried after the drawer emptied: the stored document.
    let again = ua_ok(ua(port, "t-2", json!({"task": 4, "cash": {"type": 0, "sum": 500}})));
    assert_eq!(again["docno"], cash_out["docno"]);
    // Another sum under the same tag: refused with its own res and a Ukrainian text.
    let reused = ua(port, "t-1", json!({"task": 3, "cash": {"type": 0, "sum": 300}}));
    assert_eq!(reused["res"], 11, "{reused}");
    assert!(reused["errortxt"].as_str().unwrap().contains("t-1"), "{reused}");
    // The tag of a cash-out used for a cash-in: another task, another key, a new document.
    let other = ua_ok(ua(port, "t-2", json!({"task": 3, "cash": {"type": 0, "sum": 20}})));
    assert_eq!(other["task"], 3);
    assert_ne!(other["docno"], cash_out["docno"]);
    // Retried after the shift was closed: the stored document.
    ua_ok(ua(port, "", json!({"task": 11, "cashier": "Петренко І."})));
    let after_z = ua_ok(ua(port, "t-1", json!({"task": 3, "cash": {"type": 0, "sum": 500}})));
    assert_eq!(after_z["docno"], cash_in["docno"]);
}

/// `kassa serve` with the Belarusian front alone, its shifts holding at most `max` documents.
fn serve_by(dir: &Path, max: i64) -> Served {
    let config = dir.join("kassa.toml");
    let text = format!("[by]\nlisten = \"127.0.0.1:0\"\nmax_shift_documents = {max}\n[by.sko]\npin = \"2718\"\n");
    std::fs::write(&config, text).unwrap();
    let log = dir.join("stderr.log");
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.join("data"));
    command.arg("--config").arg(&config).stderr(std::fs::File::create(&log).unwrap());
    Served::spawn(command, &["api", "by-http"])
        .unwrap_or_else(|e| panic!("kassa did not start: {e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))
}

/// one-ledger.md §1.4: a Belarusian retry met the shift's document limit instead of its document. The key is
/// looked up after the access check (a logged-out СКО shows no document by key) and before every rule (a
/// full shift still answers a retry).
#[test]
fn a_belarusian_retry_gets_its_document_in_a_full_shift_but_not_past_the_access_check() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_by(dir.path(), 2);
    let port = server.port("by-http");
    by_ok(by(port, "ik.service.token.authority", "authorize", json!({}), json!({"pin": "2718"})));
    by_ok(by(port, "ik.service.token.shift", "open_shift", json!({}), json!({})));
    by_ok(cash_move(port, "deposit", "in-1", "3.00"));
    let second = by_ok(cash_move(port, "deposit", "in-2", "4.00"));
    // The shift is full: a new document is refused, a retry of the last one answers it again.
    let full = cash_move(port, "deposit", "in-3", "1.00");
    assert_eq!(by_code(&full), "AVQFR_MAX_DOC_COUNT_OVERFLOW", "{full}");
    let again = by_ok(cash_move(port, "deposit", "in-2", "4.00"));
    assert_eq!(again["header"], second["header"]);
    assert_eq!(again["sum"], second["sum"]);
    // Logged out, the same key shows nothing: the access check comes before the key.
    by_ok(by(port, "ik.service.token.authority", "logout", json!({}), json!({})));
    let refused = cash_move(port, "deposit", "in-2", "4.00");
    assert_eq!(by_code(&refused), "KASSA_NOT_AUTHORIZED", "{refused}");
    let uid = second["header"]["uid"].as_str().unwrap();
    assert!(!refused.to_string().contains(uid), "{refused}");
}
