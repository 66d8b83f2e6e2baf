//! The Belarusian front through the real binary: the envelope over real HTTP and over real 4-byte
//! length-framed TCP, every action's shape, every error of the issue, the spooler behind `printer.*`,
//! and the seed's deposit example reproduced byte for byte.
use crate::common;

use common::Served;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// A `kassa serve` process with the Belarusian front on; killed on drop.
struct Server {
    _served: Served,
    http: u16,
    tcp: u16,
    dir: tempfile::TempDir,
}

/// The seed's registration: ИП Моров А.М., УНП 191832203, device 131010705, serial AVQ11031010705, with
/// the СКО's clock and numbers set to the seed's example.
const SEED_SKO: &str = r#"
serial = "AVQ11031010705"
device_id = 131010705
company_name = "ИП Моров А.М."
tax_number = 191832203
first_number = 10398
last_shift = 877
fixed_time = "2022-08-31T09:56:22.794436+03:00"
uids = ["1A5663901D4B4CE607CF1091"]
pin = "2718"
"#;

fn start(by: &str, sko: &str) -> Server {
    start_logging(by, sko, "warn")
}

fn start_logging(by: &str, sko: &str, level: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(&dir.path().join("data"), dir.path(), &format!("{by}\n[by.sko]\n{sko}\n"), level);
    Server { http: served.port("by-http"), tcp: served.port("by-tcp"), _served: served, dir }
}

/// `kassa serve` over `data` with both Belarusian listeners on ports of their choosing and `by` after the
/// `[by]` line of its configuration; the configuration and `stderr.log` go into `dir`.
fn serve(data: &Path, dir: &Path, by: &str, level: &str) -> Served {
    let config = dir.join("kassa.toml");
    std::fs::write(&config, format!("[by]\ntcp_listen = \"127.0.0.1:0\"\n{by}")).unwrap();
    let log = dir.join("stderr.log");
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--by-listen", "127.0.0.1:0", "--data-dir"]).arg(data);
    command.arg("--config").arg(&config).env("RUST_LOG", level);
    command.stderr(std::fs::File::create(&log).unwrap());
    Served::spawn(command, &["api", "by-http", "by-tcp"]).unwrap_or_else(|e| {
        panic!("the Belarusian front did not start: {e}\n{}", std::fs::read_to_string(&log).unwrap_or_default())
    })
}

/// One POST over HTTP/1.1; the status and the JSON answer.
fn http_raw(port: u16, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status: u16 = out[9..12].parse().unwrap();
    let json = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

fn send(server: &Server, address: &str, action: &str, headers: Value, data: Value) -> Value {
    let mut h = headers;
    h["action"] = json!(action);
    let msg = json!({"type": "send", "address": address, "headers": h, "data": data});
    let (status, answer) = http_raw(server.http, &msg.to_string());
    assert_eq!(status, 200, "{answer}");
    answer
}

/// One framed exchange on an open TCP connection.
fn frame(s: &mut TcpStream, msg: &[u8]) -> Value {
    let mut out = (msg.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    s.write_all(&out).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["type"], "send", "{answer}");
    &answer["data"]
}

fn error_code(answer: &Value) -> String {
    assert_eq!(answer["type"], "error", "{answer}");
    assert!(answer["data"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{answer}");
    answer["data"]["code"].as_str().unwrap().to_string()
}

const AUTH: &str = "ik.service.token.authority";
const SHIFT: &str = "ik.service.token.shift";

fn login_and_open(s: &Server) {
    ok(&send(s, AUTH, "authorize", json!({}), json!({"pin": "2718"})));
    ok(&send(s, SHIFT, "open_shift", json!({}), json!({})));
}

fn deposit(s: &Server, sum: &str) -> Value {
    send(
        s,
        "ik.service.token.deposit",
        "deposit",
        json!({}),
        json!({"header": {"cashier": "Test", "currency": "BYN"}, "sum": sum}),
    )
}

fn sale_data(items: Value, payments: Value) -> Value {
    json!({"header": {"cashier": "Анна", "currency": "BYN"}, "items": items, "payments": payments})
}

fn item(name: &str, price: &str, qty: &str) -> Value {
    json!({"section": {"code": 1, "name": "Бакалея"}, "code": {"scan": "4810000000011"}, "name": name,
           "price": price, "quantity": qty, "tax_rate": "tax20"})
}

fn sale(s: &Server, data: Value) -> Value {
    send(s, "ik.service.token.sales.retail", "create_sale", json!({}), data)
}

/// Decodes ESC/POS as the printer would: CP866 text (by `encoding_rs`, not Kassa's tables), `ESC E`
/// bold spans marked `<b>…</b>`, a QR symbol as `[QR data]`; lines end at LF; the cut ends the ticket.
fn decode_escpos(bytes: &[u8]) -> Vec<String> {
    let (mut lines, mut line, mut bold, mut i) = (Vec::new(), String::new(), false, 0);
    let text = |b: &[u8]| encoding_rs::IBM866.decode_without_bom_handling(b).0.into_owned();
    while i < bytes.len() {
        match bytes[i] {
            0x1B => {
                let (cmd, n) = (bytes[i + 1], bytes[i + 2]);
                match cmd {
                    b't' => assert_eq!(n, 17, "code page CP866 is ESC t 17"),
                    b'E' => {
                        let on = n & 1 == 1;
                        line.push_str(if on { "<b>" } else { "</b>" });
                        bold = on;
                    }
                    b'a' => {}
                    other => panic!("unexpected ESC {other:#x}"),
                }
                i += 3;
            }
            0x1D if bytes[i + 1] == b'(' && bytes[i + 2] == b'k' => {
                let n = bytes[i + 3] as usize | (bytes[i + 4] as usize) << 8;
                let (cn, f) = (bytes[i + 5], bytes[i + 6]);
                assert_eq!(cn, b'1', "QR commands are cn 49");
                if f == b'P' {
                    line.push_str(&format!("[QR {}]", text(&bytes[i + 8..i + 5 + n])));
                }
                i += 5 + n;
            }
            0x1D if bytes[i + 1] == b'V' => {
                lines.push(std::mem::take(&mut line));
                break;
            }
            b'\n' => {
                lines.push(std::mem::take(&mut line));
                i += 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], 0x1B | 0x1D | b'\n') {
                    i += 1;
                }
                line.push_str(&text(&bytes[start..i]));
            }
        }
    }
    assert!(!bold, "bold left on at the end");
    lines
}

fn strip_bold(s: &str) -> String {
    s.replace("<b>", "").replace("</b>", "")
}

fn b64(s: &Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s.as_str().unwrap()).unwrap()
}

#[test]
fn the_seeds_deposit_example_comes_back_byte_for_byte() {
    let seed: Value = serde_json::from_str(include_str!("../fixtures/by_seed_deposit.json")).unwrap();
    let s = start("", SEED_SKO);
    login_and_open(&s);
    let answer = deposit(&s, "15.00");
    let got = ok(&answer);
    let want = &seed["data"];

    // The representations.
    assert_eq!(got["repr"]["text"], want["repr"]["text"], "repr.text");
    assert_eq!(got["repr"]["html"], want["repr"]["html"], "repr.html");
    assert_eq!(got["repr"]["link"], want["repr"]["link"], "repr.link");
    let (ours, theirs) = (b64(&got["repr"]["esc_pos"]), b64(&want["repr"]["esc_pos"]));
    let (ours_lines, their_lines) = (decode_escpos(&ours), decode_escpos(&theirs));
    // Decoded, the ESC/POS prints the lines of repr.text, with the seed's bold spans and its QR.
    let text: Vec<&str> = want["repr"]["text"].as_str().unwrap().split('\n').collect();
    for (n, t) in text.iter().enumerate().filter(|(_, t)| !t.is_empty()) {
        assert_eq!(strip_bold(&ours_lines[n]), *t, "ESC/POS line {n}");
    }
    assert_eq!(ours_lines, their_lines, "lines and bold spans of the decoded ESC/POS");
    assert!(ours_lines.iter().any(|l| l == "[QR 1A5663901D4B4CE607CF1091]"));
    assert_eq!(ours_lines[7], "<b>Рег.№ Кассы: </b>131010705 <b>Зав.№ СКО: </b>AVQ11031010705");
    assert_eq!(ours_lines[9], "<b>Кассир:</b>.....................................Test");
    assert_eq!(ours, theirs, "the ESC/POS bytes themselves");

    // The header and the sum; only the type's name is the 2.x one (`deposit_v2`, per the change log).
    assert_eq!(got["sum"], want["sum"]);
    for (k, v) in want["header"].as_object().unwrap() {
        if k == "type_id" {
            assert_eq!(got["header"][k], "deposit_v2");
        } else {
            assert_eq!(&got["header"][k], v, "header.{k}");
        }
    }
}

#[test]
fn tcp_frames_carry_the_same_messages_and_ping_answers_pong() {
    let s = start("", SEED_SKO);
    let mut c = TcpStream::connect(("127.0.0.1", s.tcp)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert_eq!(frame(&mut c, br#"{"type":"ping"}"#), json!({"type": "pong"}));
    let msg = |action: &str, addr: &str, data: Value| {
        json!({"type": "send", "address": addr, "reply_address": "pos.1", "headers": {"action": action, "token": "AVQ11031010705"}, "data": data})
            .to_string()
    };
    let a = frame(&mut c, msg("authorize", AUTH, json!({"pin": "2718"})).as_bytes());
    assert_eq!(a["address"], "pos.1", "the answer goes to reply_address");
    ok(&a);
    ok(&frame(&mut c, msg("open_shift", SHIFT, json!({})).as_bytes()));
    let d = frame(
        &mut c,
        msg("deposit", "ik.service.token.deposit", json!({"header": {"cashier": "Test"}, "sum": "15.00"})).as_bytes(),
    );
    let seed: Value = serde_json::from_str(include_str!("../fixtures/by_seed_deposit.json")).unwrap();
    assert_eq!(ok(&d)["repr"]["text"], seed["data"]["repr"]["text"]);
    // Several frames on one connection, a bad one answered in the envelope, the connection kept.
    assert_eq!(error_code(&frame(&mut c, b"{not json")), "KASSA_BAD_MESSAGE");
    assert_eq!(frame(&mut c, br#"{"type":"ping"}"#)["type"], "pong");
    // A frame split over several writes still reads whole.
    let body = br#"{"type":"ping"}"#;
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    for chunk in out.chunks(3) {
        c.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut len = [0u8; 4];
    c.read_exact(&mut len).unwrap();
    let mut b = vec![0u8; u32::from_be_bytes(len) as usize];
    c.read_exact(&mut b).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&b).unwrap()["type"], "pong");
    // An oversized length closes the connection instead of allocating it.
    c.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert!(rest.is_empty());
    // HTTP answers the same message the same way.
    assert_eq!(http_raw(s.http, r#"{"type":"ping"}"#).1, json!({"type": "pong"}));
}

#[test]
fn sale_money_back_rollback_reports_and_token_actions() {
    let s = start("", "pin = \"2718\"\nfirst_number = 7\n");
    login_and_open(&s);
    ok(&deposit(&s, "100.00"));
    // A sale: sums, change, VAT, the FiscalResponse header.
    let data = json!({"header": {"cashier": "Анна", "currency": "BYN"}, "tp_tax_number": "191832203",
        "items": [item("Хлеб", "1.55", "2.000"), {"name": "Сыр", "price": "12.40", "quantity": "0.350", "discount": "0.34", "tax_rate": "tax10"}],
        "payments": [{"payment_type": "cashless", "value": "2.00", "name": "VISA", "ref": "A1"}, {"payment_type": "cash", "value": "10.00"}]});
    let sale1 = ok(&sale(&s, data)).clone();
    assert_eq!(sale1["header"]["type_id"], "sale_v2");
    assert_eq!(sale1["header"]["number"], 8);
    // 1.55 × 2 = 3.10; 12.40 × 0.350 = 4.34 − 0.34 = 4.00; total 7.10; change 4.90.
    assert_eq!(sale1["sum"], "7.10");
    let text = sale1["repr"]["text"].as_str().unwrap();
    assert!(text.contains("КАССОВЫЙ ЧЕК") && !text.contains("НЕ ЯВЛЯЕТСЯ ПЛАТЕЖНЫМ"), "{text}");
    assert!(text.contains("Сдача:") || text.contains("Сдача."), "{text}");
    assert!(text.contains("4.90") && text.contains("в т.ч. НДС 20%") && text.contains("0.52"), "{text}");
    assert!(text.lines().all(|l| l.is_empty() || l.chars().count() == 48), "48 columns:\n{text}");
    let uid = sale1["header"]["uid"].as_str().unwrap();
    assert_eq!(uid.len(), 24);
    assert!(sale1["repr"]["link"].as_str().unwrap().ends_with(uid));

    // The annulment of the last sale, checked against its number.
    let rb = |n: Option<i64>| {
        let mut d = json!({"header": {"cashier": "Анна"}});
        if let Some(n) = n {
            d["number"] = json!(n);
        }
        send(&s, "ik.service.token.rollback", "create_rollback", json!({}), d)
    };
    assert_eq!(error_code(&rb(Some(5))), "KASSA_ROLLBACK_MISMATCH");
    let r = ok(&rb(Some(8))).clone();
    assert_eq!(r["header"]["type_id"], "rollback_v2");
    assert_eq!(r["sum"], "7.10");
    assert!(r["repr"]["text"].as_str().unwrap().contains("Аннулирован документ №"));
    // Now the last document is a rollback: only a sale can be annulled.
    assert_eq!(error_code(&rb(None)), "TIN_ONLY_SALE_ROLLBACK");

    // Money back with items as an array.
    let mb = send(
        &s,
        "ik.service.token.moneyback",
        "create_money_back",
        json!({}),
        sale_data(json!([item("Хлеб", "1.55", "1.000")]), json!([{"payment_type": "cash", "value": "1.55"}])),
    );
    let mb = ok(&mb);
    assert_eq!((mb["header"]["type_id"].as_str(), mb["sum"].as_str()), (Some("money_back_v2"), Some("1.55")));

    // Withdrawals.
    let w = send(
        &s,
        "ik.service.token.withdraw",
        "withdraw",
        json!({}),
        json!({"header": {"cashier": "Анна"}, "sum": "10.00"}),
    );
    assert_eq!(ok(&w)["header"]["type_id"], "cashier_withdraw_v2");
    let cw = send(
        &s,
        "ik.service.token.withdraw",
        "create_client_withdraw",
        json!({}),
        json!({"header": {"cashier": "Анна", "currency": "BYN"}, "sum": "5.00"}),
    );
    assert_eq!(ok(&cw)["header"]["type_id"], "client_withdraw_v2");

    // Token actions.
    let tok = |action: &str, data: Value| send(&s, "ik.service.token", action, json!({}), data);
    let state = ok(&tok("get_state", json!({}))).clone();
    // 100 + 7.10 − 2.00 cashless − 7.10 rollback of the cash part... : cash = 100 + 5.10 − 5.10 − 1.55 − 10 − 5.
    assert_eq!(state["cash_in"], "83.45", "{state}");
    assert_eq!(state["shift_is_open"], true);
    assert_eq!(ok(&tok("get_next_document_number", json!({})))["number"], 13);
    assert_eq!(ok(&tok("get_unsent_documents_count", json!({})))["count"], 0);
    assert_eq!(*ok(&tok("get_oldest_document", json!({}))), Value::Null);
    let info = ok(&tok("get_token", json!({}))).clone();
    assert_eq!((info["serial_number"].as_str(), info["test_mode"].as_bool()), (Some("AVQ00000000001"), Some(true)));
    let copy = ok(&tok("print_copy", json!({"number": 8}))).clone();
    assert_eq!(copy["header"]["uid"], sale1["header"]["uid"]);
    assert!(copy["repr"]["text"].as_str().unwrap().contains("КОПИЯ"));
    assert_eq!(error_code(&tok("print_copy", json!({"number": 999}))), "KASSA_DOCUMENT_NOT_FOUND");
    assert_eq!(ok(&send(&s, "ik.service.app", "get_version", json!({}), json!({})))["name"], "kassa");

    // X report, then the Z report closes the shift; its copy only while the shift is closed.
    assert_eq!(error_code(&send(&s, SHIFT, "get_z_report_copy", json!({}), json!({}))), "KASSA_NO_CLOSED_SHIFT");
    let x = ok(&send(&s, SHIFT, "get_x_report", json!({}), json!({}))).clone();
    assert_eq!(x["currency_counters"]["BYN"]["sale"], "7.10");
    assert!(x["repr"]["text"].as_str().unwrap().contains("X-ОТЧЕТ"));
    let z = ok(&send(&s, SHIFT, "close_shift", json!({}), json!({}))).clone();
    assert_eq!(z["header"]["type_id"], "z_report_v2");
    assert!(z["repr"]["text"].as_str().unwrap().contains("83.45"));
    let zc = ok(&send(&s, SHIFT, "get_z_report_copy", json!({}), json!({}))).clone();
    assert_eq!(zc["header"]["number"], z["header"]["number"]);
    assert_eq!(error_code(&deposit(&s, "1.00")), "KASSA_SHIFT_CLOSED");
    assert_eq!(error_code(&send(&s, SHIFT, "get_x_report", json!({}), json!({}))), "KASSA_SHIFT_CLOSED");
    // The next shift starts from zero.
    ok(&send(&s, SHIFT, "open_shift", json!({}), json!({})));
    assert_eq!(error_code(&send(&s, SHIFT, "open_shift", json!({}), json!({}))), "KASSA_SHIFT_OPEN");
    assert_eq!(ok(&tok("get_state", json!({})))["cash_in"], "0.00");
    assert_eq!(error_code(&rb(None)), "TIN_MISSING_LAST_SALE");
    // Log out: fiscal actions need the PIN again.
    ok(&send(&s, AUTH, "logout", json!({}), json!({})));
    assert_eq!(error_code(&deposit(&s, "1.00")), "KASSA_NOT_AUTHORIZED");
}

#[test]
fn every_data_rule_answers_its_code() {
    let s = start("max_items = 3\nclient_withdraw_max = \"500.00\"\nmax_shift_documents = 6", "pin = \"2718\"");
    assert_eq!(error_code(&send(&s, AUTH, "authorize", json!({}), json!({"pin": "0000"}))), "KASSA_BAD_PIN");
    assert_eq!(error_code(&deposit(&s, "1.00")), "KASSA_NOT_AUTHORIZED");
    ok(&send(&s, AUTH, "authorize", json!({}), json!({"pin": "2718"})));
    assert_eq!(error_code(&deposit(&s, "1.00")), "KASSA_SHIFT_CLOSED");
    ok(&send(&s, SHIFT, "open_shift", json!({}), json!({})));
    let cash = json!([{"payment_type": "cash", "value": "100.00"}]);
    let one = json!([item("Хлеб", "1.00", "1.000")]);
    let code = |d: Value| error_code(&sale(&s, d));
    assert_eq!(code(sale_data(json!([]), cash.clone())), "TIN_EMPTY_ITEMS");
    assert_eq!(code(json!({"header": {"cashier": "A"}, "payments": cash})), "TIN_EMPTY_ITEMS");
    let four = json!([
        item("a", "1.00", "1.000"),
        item("b", "1.00", "1.000"),
        item("c", "1.00", "1.000"),
        item("d", "1.00", "1.000")
    ]);
    assert_eq!(code(sale_data(four, cash.clone())), "AVQFR_TOO_MANY_ITEMS");
    let two_cash = json!([{"payment_type": "cash", "value": "1.00"}, {"payment_type": "cash", "value": "1.00"}]);
    assert_eq!(code(sale_data(one.clone(), two_cash)), "TIN_MULTIPLE_CASH_PAYMENTS");
    let mut d =
        sale_data(json!([{"name": "x", "price": "5.00", "quantity": "1.000", "discount": "1.00"}]), cash.clone());
    d["cheque_discount"] = json!("1.00");
    assert_eq!(code(d), "TIN_TOO_MANY_DISCOUNTS");
    let mut d = sale_data(json!([{"name": "x", "price": "5.00", "quantity": "1.000", "markup": "1.00"}]), cash.clone());
    d["cheque_markup"] = json!("1.00");
    assert_eq!(code(d), "TIN_TOO_MANY_MARKUPS");
    let marked = |code: Value, qty: &str| {
        sale_data(json!([{"name": "Обувь", "price": "50.00", "quantity": qty, "code": code}]), cash.clone())
    };
    assert_eq!(
        code(marked(json!({"gtin": "04810000000011", "marking": "010481000000001121abc"}), "2.000")),
        "TIN_MARKING_QUANTITY_1"
    );
    assert_eq!(code(marked(json!({"marking": "010481000000001121abc"}), "1.000")), "TIN_MARKING_CODE_WITHOUT_GTIN");
    assert_eq!(
        code(marked(json!({"gtin": "04810000000011", "marking": "x".repeat(300)}), "1.000")),
        "TIN_MARKING_CODE_LEN"
    );
    assert_eq!(
        code(marked(json!({"gtin": "04810000000011", "marking": ["a", "b"]}), "1.000")),
        "TIN_MULTIPLE_MARKING_CODES"
    );
    // Decimal strings only, never negative; a cashier of at most 20 characters.
    let bad = |d: Value| code(d);
    assert_eq!(
        bad(sale_data(json!([{"name": "x", "price": 7.0, "quantity": "1.000"}]), cash.clone())),
        "AVQFR_BAD_DOCUMENT_FORMAT"
    );
    assert_eq!(
        bad(sale_data(json!([{"name": "x", "price": "7.00", "quantity": "1.000", "discount": "-1.00"}]), cash.clone())),
        "AVQFR_BAD_DOCUMENT_FORMAT"
    );
    assert_eq!(
        bad(sale_data(json!([{"name": "x", "price": "7.001", "quantity": "1.000"}]), cash.clone())),
        "AVQFR_BAD_DOCUMENT_FORMAT"
    );
    let long = json!({"header": {"cashier": "Ц".repeat(21)}, "sum": "1.00"});
    assert_eq!(
        error_code(&send(&s, "ik.service.token.deposit", "deposit", json!({}), long)),
        "AVQFR_BAD_DOCUMENT_FORMAT"
    );
    assert_eq!(
        code(sale_data(one.clone(), json!([{"payment_type": "cash", "value": "0.50"}]))),
        "KASSA_PAYMENT_TOO_SMALL"
    );
    // Client withdrawal: BYN only, up to the limit; no withdrawal beyond the drawer.
    let cw = |cur: &str, sum: &str| {
        error_code(&send(
            &s,
            "ik.service.token.withdraw",
            "create_client_withdraw",
            json!({}),
            json!({"header": {"cashier": "A", "currency": cur}, "sum": sum}),
        ))
    };
    assert_eq!(cw("USD", "1.00"), "AVQFR_CH_WITHDRAW_ONLY_BYN");
    assert_eq!(cw("BYN", "500.01"), "AVQFR_CH_WITHDRAW_MAX_SUM");
    assert_eq!(cw("BYN", "1.00"), "KASSA_NOT_ENOUGH_CASH");
    // Six documents fit the shift (the configured limit); the seventh overflows.
    for _ in 0..6 {
        ok(&deposit(&s, "1.00"));
    }
    assert_eq!(error_code(&deposit(&s, "1.00")), "AVQFR_MAX_DOC_COUNT_OVERFLOW");
    // Envelope errors.
    let (_, a) = http_raw(s.http, "[1,2");
    assert_eq!(error_code(&a), "KASSA_BAD_MESSAGE");
    let (_, a) = http_raw(s.http, r#"{"type":"send","address":"ik.service.token","headers":{}}"#);
    assert_eq!(error_code(&a), "KASSA_BAD_MESSAGE");
    assert_eq!(error_code(&send(&s, "ik.service.nothing", "x", json!({}), json!({}))), "KASSA_UNKNOWN_ADDRESS");
    assert_eq!(error_code(&send(&s, "ik.service.token", "x", json!({}), json!({}))), "KASSA_UNKNOWN_ACTION");
    assert_eq!(
        error_code(&send(&s, "ik.service.token", "get_state", json!({"token": "AVQ999"}), json!({}))),
        "KASSA_UNKNOWN_TOKEN"
    );
    let a = send(
        &s,
        "ik.service.token.deposit",
        "deposit",
        json!({"printer.style": "huge"}),
        json!({"header": {"cashier": "A"}, "sum": "1.00"}),
    );
    assert_eq!(error_code(&a), "AVQFR_BAD_DOCUMENT_FORMAT");
}

#[test]
fn a_shift_older_than_24_hours_and_a_certificate_without_address_are_refused() {
    // The СКО's clock stands 25 h after the shift it finds open: the shift was opened by an earlier start.
    let s = start("", "pin = \"2718\"\nfixed_time = \"2024-05-01T08:00:00+03:00\"");
    login_and_open(&s);
    let mut s = s;
    let kept = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    let data = kept.path().join("data");
    drop(s);
    let dir2 = tempfile::tempdir().unwrap();
    // Same data folder, a clock 25 hours later.
    let served =
        serve(&data, dir2.path(), "[by.sko]\npin = \"2718\"\nfixed_time = \"2024-05-02T09:00:00+03:00\"\n", "warn");
    let s2 = Server { http: served.port("by-http"), tcp: served.port("by-tcp"), _served: served, dir: dir2 };
    ok(&send(&s2, AUTH, "authorize", json!({}), json!({"pin": "2718"})));
    assert_eq!(error_code(&deposit(&s2, "1.00")), "KASSA_SHIFT_EXPIRED");
    assert_eq!(
        error_code(&sale(
            &s2,
            sale_data(json!([item("a", "1.00", "1.000")]), json!([{"payment_type": "cash", "value": "1.00"}]))
        )),
        "KASSA_SHIFT_EXPIRED"
    );
    // Closing the expired shift is what is left to do, and it is allowed.
    let z = ok(&send(&s2, SHIFT, "close_shift", json!({}), json!({}))).clone();
    assert_eq!(z["header"]["type_id"], "z_report_v2");
    drop(s2);

    let s3 = start("", "pin = \"2718\"\nlegal_address = \"\"");
    login_and_open(&s3);
    assert_eq!(error_code(&deposit(&s3, "1.00")), "CRT_MISSING_LEGAL_ADDR");
}

#[test]
fn unsent_documents_are_counted_while_the_skko_is_away() {
    let s = start("", "pin = \"2718\"\nconnected = false\nfirst_number = 40");
    login_and_open(&s);
    ok(&deposit(&s, "3.00"));
    ok(&deposit(&s, "4.00"));
    let tok = |action: &str| send(&s, "ik.service.token", action, json!({}), json!({}));
    assert_eq!(ok(&tok("get_unsent_documents_count"))["count"], 2);
    let oldest = ok(&tok("get_oldest_document")).clone();
    assert_eq!((oldest["number"].as_i64(), oldest["type_id"].as_str()), (Some(40), Some("deposit_v2")));
}

#[test]
fn an_operation_id_makes_a_document_once() {
    let s = start("", "pin = \"2718\"\nfirst_number = 100");
    login_and_open(&s);
    let h = json!({"operation_id": "pos-7-0001"});
    let body = json!({"header": {"cashier": "Test"}, "sum": "9.00"});
    let first = ok(&send(&s, "ik.service.token.deposit", "deposit", h.clone(), body.clone())).clone();
    let again = ok(&send(&s, "ik.service.token.deposit", "deposit", h, body)).clone();
    assert_eq!(first["header"], again["header"]);
    assert_eq!(first["repr"]["text"], again["repr"]["text"]);
    let next = send(&s, "ik.service.token", "get_next_document_number", json!({}), json!({}));
    assert_eq!(ok(&next)["number"], 101, "one document, not two");
    assert_eq!(ok(&send(&s, "ik.service.token", "get_state", json!({}), json!({})))["cash_in"], "9.00");
}

#[test]
fn a_document_keeps_the_template_version_it_was_answered_with() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    std::fs::create_dir_all(tpl.join("by")).unwrap();
    let render = format!("[render]\ntemplate_dir = {:?}\n", tpl.to_str().unwrap());
    let s = start(&render, "pin = \"2718\"\nfirst_number = 20");
    login_and_open(&s);
    let first = ok(&deposit(&s, "5.00")).clone();
    let text = |a: &Value| a["repr"]["text"].as_str().unwrap().to_string();
    assert!(!text(&first).contains("ШАБЛОН ИЗМЕНЁН"));
    // An override of the deposit's template is in force from the next document on.
    let builtin = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/by/cash.j2")).unwrap();
    std::fs::write(tpl.join("by/cash.j2"), format!("@center: ШАБЛОН ИЗМЕНЁН\n{builtin}")).unwrap();
    let second = ok(&deposit(&s, "6.00")).clone();
    assert!(text(&second).contains("ШАБЛОН ИЗМЕНЁН"), "{}", text(&second));
    // Each copy is drawn by the version its document was first answered with.
    let copy = |n: i64| ok(&send(&s, "ik.service.token", "print_copy", json!({}), json!({"number": n}))).clone();
    let (copy1, copy2) = (copy(20), copy(21));
    assert!(text(&copy1).contains("КОПИЯ") && !text(&copy1).contains("ШАБЛОН ИЗМЕНЁН"), "{}", text(&copy1));
    assert_eq!(
        text(&copy1).replace("КОПИЯ", "").split_whitespace().collect::<Vec<_>>(),
        text(&first).split_whitespace().collect::<Vec<_>>()
    );
    assert!(text(&copy2).contains("ШАБЛОН ИЗМЕНЁН"), "{}", text(&copy2));
}

#[test]
fn printer_headers_shape_the_receipt_and_a_named_printer_gets_it_through_the_spooler() {
    let s = start("", SEED_SKO);
    login_and_open(&s);
    // Only the representations asked for; a prefix line; 32 columns for narrow paper.
    let h =
        json!({"repr.text": "", "printer.prefix": "Заказ 17", "printer.style": "narrow", "printer.name": "virtual"});
    let a = send(&s, "ik.service.token.deposit", "deposit", h, json!({"header": {"cashier": "Test"}, "sum": "15.00"}));
    let d = ok(&a);
    let repr = d["repr"].as_object().unwrap();
    assert_eq!(repr.keys().collect::<Vec<_>>(), vec!["text"], "{d}");
    let text = d["repr"]["text"].as_str().unwrap();
    assert!(text.starts_with("            Заказ 17            \n"), "{text}");
    assert!(text.lines().all(|l| l.is_empty() || l.chars().count() == 32), "{text}");
    // printer.escpos.required adds ESC/POS to what repr.* asked for.
    let h = json!({"repr.link": "", "printer.escpos.required": "true"});
    let a = send(&s, "ik.service.token.deposit", "deposit", h, json!({"header": {"cashier": "Test"}, "sum": "2.00"}));
    let keys: Vec<String> = ok(&a)["repr"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, vec!["link", "esc_pos"]);
    // The virtual printer (ID 1 by default) wrote the first receipt's ESC/POS.
    let printed = s.dir.path().join("data").join("printed");
    let deadline = Instant::now() + Duration::from_secs(20);
    let file = loop {
        // A job appears as `<job>.escpos` by a rename from a hidden temporary file.
        let found = std::fs::read_dir(&printed).ok().and_then(|r| {
            r.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "escpos"))
        });
        if let Some(f) = found {
            break f;
        }
        assert!(Instant::now() < deadline, "nothing printed in {}", printed.display());
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines = decode_escpos(&std::fs::read(&file).unwrap());
    assert!(lines.iter().any(|l| strip_bold(l).contains("Заказ 17")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("<b>Внесено:</b>")), "{lines:?}");
    // A printer that does not exist is refused before anything is made.
    let a = send(
        &s,
        "ik.service.token.deposit",
        "deposit",
        json!({"printer.name": "nowhere"}),
        json!({"header": {"cashier": "Test"}, "sum": "1.00"}),
    );
    assert_eq!(error_code(&a), "KASSA_UNKNOWN_PRINTER");
}

#[test]
fn a_client_that_never_finishes_its_request_head_is_let_go_and_others_are_served() {
    let s = start("", "pin = \"2718\"");
    let mut slow = TcpStream::connect(("127.0.0.1", s.http)).unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // Others are answered meanwhile.
    assert_eq!(http_raw(s.http, r#"{"type":"ping"}"#).1["type"], "pong");
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(started.elapsed() < Duration::from_secs(50), "the half-sent head held the connection");
}

#[test]
fn the_sko_pin_never_reaches_the_log() {
    let pin = "Pq-7719-secret";
    let s = start_logging("", &format!("pin = \"{pin}\""), "trace");
    let wrong = "Wr0ng-9931-guess";
    assert_eq!(error_code(&send(&s, AUTH, "authorize", json!({}), json!({"pin": wrong}))), "KASSA_BAD_PIN");
    ok(&send(&s, AUTH, "authorize", json!({}), json!({"pin": pin})));
    ok(&send(&s, SHIFT, "open_shift", json!({}), json!({})));
    ok(&deposit(&s, "1.00"));
    let log = std::fs::read_to_string(s.dir.path().join("stderr.log")).unwrap();
    assert!(log.contains("Belarusian front"), "the log is read: {log}");
    assert!(!log.contains(pin) && !log.contains(wrong), "a PIN in the log");
}

/// Whether a ping on a fresh framed connection gets its pong (false when the connection is closed at once).
fn pong(port: u16) -> bool {
    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let msg = br#"{"type":"ping"}"#;
    let mut out = (msg.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    let mut len = [0u8; 4];
    if c.write_all(&out).is_err() || c.read_exact(&mut len).is_err() {
        return false;
    }
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    c.read_exact(&mut body).is_ok() && serde_json::from_slice::<Value>(&body).is_ok_and(|a| a["type"] == "pong")
}

#[test]
fn a_flood_of_stalled_frames_makes_room_for_a_new_client() {
    let s = start("", "pin = \"2718\"");
    assert!(pong(s.tcp));
    // 600 connections each announce a 1 MB frame and never send it: more than the listener holds (512).
    let stalled: Vec<TcpStream> = (0..600)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", s.tcp)).unwrap();
            c.write_all(&(1u32 << 20).to_be_bytes()).unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // A new client is served at once: the oldest stalled connection made room.
    for _ in 0..10 {
        assert!(pong(s.tcp), "a client was kept out by stalled frames");
    }
    drop(stalled);
    assert!(pong(s.tcp));
}

#[test]
fn guessing_the_sko_pin_is_paused_after_five_wrong_ones() {
    let s = start("", "pin = \"2718\"");
    for guess in ["0000", "1111", "2222", "3333", "4444"] {
        let answer = send(&s, AUTH, "authorize", json!({}), json!({"pin": guess}));
        assert_eq!(error_code(&answer), "KASSA_BAD_PIN", "{answer}");
    }
    // Now no PIN is checked, the right one neither, and the answer says for how long.
    let answer = send(&s, AUTH, "authorize", json!({}), json!({"pin": "2718"}));
    assert_eq!(error_code(&answer), "KASSA_PIN_PAUSED", "{answer}");
    assert!(answer["data"]["text"].as_str().unwrap().contains("PIN ещё"), "{answer}");
    let answer = send(&s, SHIFT, "open_shift", json!({}), json!({}));
    assert_eq!(error_code(&answer), "KASSA_NOT_AUTHORIZED", "{answer}");
}

#[test]
fn a_body_that_trickles_in_is_cut_off_with_an_answer() {
    let s = start("", "pin = \"2718\"");
    let (text, took) = common::trickle_body(s.http, "/");
    assert!(text.contains("KASSA_BAD_MESSAGE") && text.contains("did not arrive"), "{text}");
    assert!(took < Duration::from_secs(16), "cut off after its 10 s: {took:?}");
}

#[test]
fn belarusian_letters_and_guillemets_print_right_on_cp866() {
    let s = start("", SEED_SKO);
    login_and_open(&s);
    let name = "Хлеб «Бародзінскі» Іўе";
    let data = sale_data(json!([item(name, "2.00", "1.000")]), json!([{"payment_type": "cash", "value": "2.00"}]));
    // No printer named: the POS prints repr.esc_pos itself on a printer Kassa does not know, so the letters
    // CP866 lacks go as their look-alikes (І as the Latin I, «» as straight quotes); Ў ў are CP866's own.
    let a = sale(&s, data.clone());
    let lines: Vec<String> = decode_escpos(&b64(&ok(&a)["repr"]["esc_pos"])).iter().map(|l| strip_bold(l)).collect();
    assert!(lines.iter().any(|l| l.contains("Хлеб \"Бародзiнскi\" Iўе")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains('?')), "nothing prints as ?: {lines:?}");

    // Through a printer that holds user-defined characters (the default virtual one): they are downloaded
    // glyphs, drawn as the receipt font draws them, so the paper shows the very letters.
    let mut h = json!({"printer.name": "virtual"});
    h["action"] = json!("create_sale");
    let msg = json!({"type": "send", "address": "ik.service.token.sales.retail", "headers": h, "data": data});
    let (status, answer) = http_raw(s.http, &msg.to_string());
    assert_eq!(status, 200, "{answer}");
    ok(&answer);
    let printed = s.dir.path().join("data").join("printed");
    let deadline = Instant::now() + Duration::from_secs(20);
    let file = loop {
        let found = std::fs::read_dir(&printed).ok().and_then(|r| {
            r.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "escpos"))
        });
        if let Some(f) = found {
            break f;
        }
        assert!(Instant::now() < deadline, "nothing printed in {}", printed.display());
        std::thread::sleep(Duration::from_millis(100));
    };
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.windows(2).any(|w| w == [0x1B, b'&']), "glyphs downloaded");
    let profile = kassa::spool::profile::embedded().unwrap()["generic-80"].clone();
    let font = kassa::rom_font::ReceiptRomFont::new(&kassa::receipt::render_profile(&profile));
    let mut printer =
        kassa::spool::emulator::escpos::Interpreter::new(profile).with_font(Some(std::sync::Arc::new(font)));
    let mut jobs = printer.feed(&bytes, Default::default()).jobs;
    jobs.extend(printer.disconnect());
    assert!(jobs.iter().any(|j| j.has_line(name)), "{:?}", jobs.iter().map(|j| &j.lines).collect::<Vec<_>>());
}

#[test]
fn kassas_own_texts_are_russian_or_belarusian_as_asked() {
    let s = start("", "pin = \"2718\"");
    // Russian by default, for every error of Kassa's own; the seed's texts stay as the seed writes them.
    let a = send(&s, SHIFT, "open_shift", json!({}), json!({}));
    assert_eq!(error_code(&a), "KASSA_NOT_AUTHORIZED");
    assert_eq!(a["data"]["text"], "СКО не авторизовано: вызовите authorize с его PIN-кодом");
    // A message's `lang` header asks for Belarusian.
    let a = send(&s, SHIFT, "open_shift", json!({"lang": "be"}), json!({}));
    assert_eq!(a["data"]["text"], "СКА не аўтарызавана: выклічце authorize з яго PIN-кодам");
    login_and_open(&s);
    let a = sale(
        &s,
        sale_data(json!([item("Хлеб", "1.555", "1.000")]), json!([{"payment_type": "cash", "value": "2.00"}])),
    );
    assert_eq!(error_code(&a), "AVQFR_BAD_DOCUMENT_FORMAT");
    let text = a["data"]["text"].as_str().unwrap();
    assert!(text.starts_with("bad document format: items[0].price:") && text.contains("знаков после точки"), "{text}");
    let a = sale(&s, sale_data(json!([]), json!([])));
    assert_eq!(a["data"]["text"], "empty items", "the seed's own text");
    let (_, a) = http_raw(s.http, "{not json");
    assert!(a["data"]["text"].as_str().unwrap().starts_with("сообщение не JSON"), "{a}");
    // `by.lang = "be"` makes Belarusian the default.
    let be = start("lang = \"be\"", "pin = \"2718\"");
    let a = send(&be, AUTH, "authorize", json!({}), json!({"pin": "0000"}));
    assert_eq!(a["data"]["text"], "няправільны PIN-код СКА");
}

#[test]
fn an_action_of_the_older_ikassa_api_gets_its_counterpart_and_the_valid_actions() {
    let s = start("", "pin = \"2718\"");
    // The older API's camelCase action, reply address spelled `replyAddress`.
    let msg = json!({"type": "send", "address": "ik.service.token.sales.retail", "replyAddress": "pos.replies",
        "headers": {"action": "createSale", "token": "AVQ00000000001"}, "data": {"cashier": "Анна", "cash": "5.00", "items": []}});
    let (_, a) = http_raw(s.http, &msg.to_string());
    assert_eq!(error_code(&a), "KASSA_UNKNOWN_ACTION");
    assert_eq!(a["address"], "pos.replies");
    assert_eq!(
        (a["data"]["replacement"].clone(), a["data"]["actions"].clone()),
        (json!("create_sale"), json!(["create_sale"]))
    );
    assert!(a["data"]["text"].as_str().unwrap().contains("create_sale"), "{a}");
    let a = send(&s, "ik.service.token", "getStoredDocuments", json!({}), json!(null));
    assert_eq!(a["data"]["replacement"], "get_unsent_documents_count");
    assert!(a["data"]["actions"].as_array().unwrap().contains(&json!("get_state")));
    let a = send(&s, "ik.service.ean", "getItems", json!({}), json!(null));
    assert_eq!(error_code(&a), "KASSA_UNKNOWN_ADDRESS");
    assert!(a["data"]["addresses"].as_array().unwrap().contains(&json!("ik.service.token.shift")));
    // get_state carries the СКО's user (its taxpayer) and its trade point.
    let st = send(&s, "ik.service.token", "get_state", json!({}), json!({}));
    assert_eq!(ok(&st)["user_data"]["tax_number"], 100000000, "{st}");
    assert!(ok(&st).get("trade_point_information").is_some());
}
