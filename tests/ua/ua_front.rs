//! The Ukrainian front through the real binary over real HTTP: every task's request and answer shape as
//! the public Vchasno DM clients send and read them, the idempotent `tag`, each error as `res` ≠ 0 with a
//! Ukrainian `errortxt`, the printed forms decoded by code Kassa did not write (`encoding_rs` for
//! windows-1251, the `png` crate, `lopdf` for the PDF), the settings, printing through the spooler and
//! the cloud-style path with its raw token.
use crate::common;

use base64::Engine as _;
use common::Served;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A `kassa serve` process with the Ukrainian front on; killed on drop.
struct Server {
    served: Served,
    port: u16,
    dir: tempfile::TempDir,
}

const PRRO: &str = r#"
fisid = "4000123456"
device = "Каса 1"
name = "ФОП Петренко Іван"
shopname = "Крамниця «Ґанок»"
shopad = "м. Львів, вул. Городоцька, 5"
edrpou = "3012345678"
fixed_time = "2026-03-01T10:00:00+02:00"
"#;

fn start(ua: &str) -> Server {
    start_logging(ua, "info")
}

fn start_logging(ua: &str, level: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("listen = \"127.0.0.1:0\"\n[ua]\nlisten = \"127.0.0.1:0\"\n{ua}\n[ua.prro]\n{PRRO}\n");
    std::fs::write(dir.path().join("kassa.toml"), config).unwrap();
    let served = spawn(dir.path(), level);
    Server { port: served.port("ua"), served, dir }
}

/// `kassa serve` over `dir/data` with `dir/kassa.toml`, its standard error appended to `dir/stderr.log`.
fn spawn(dir: &std::path::Path, level: &str) -> Served {
    let log = dir.join("stderr.log");
    let mut command = common::kassa();
    command.args(["serve", "--data-dir"]).arg(dir.join("data")).arg("--config").arg(dir.join("kassa.toml"));
    command.env("RUST_LOG", level);
    command.stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap());
    Served::spawn(command, &["api", "ua"]).unwrap_or_else(|e| {
        panic!("the Ukrainian front did not start: {e}\n{}", std::fs::read_to_string(&log).unwrap_or_default())
    })
}

/// Kills the server (SIGKILL: no clean shutdown) and starts it again over the same folder (on a new port).
fn kill_and_restart(s: &mut Server) {
    s.served.child.kill().unwrap();
    s.served.child.wait().unwrap();
    s.served = spawn(s.dir.path(), "info");
    s.port = s.served.port("ua");
}

/// One HTTP/1.1 request; the status and the JSON answer.
fn http(port: u16, method: &str, path: &str, headers: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost:3939\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status: u16 = out[9..12].parse().unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    // A batch's answer is streamed, envelope by envelope: chunked.
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The body of a chunked answer.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    body
}

/// The envelope a DM client sends.
fn envelope(tag: &str, fiscal: Value) -> Value {
    json!({"ver": 6, "source": "POS1", "device": "Каса 1", "tag": tag, "type": 1,
        "userinfo": {"email": "", "phone": ""}, "fiscal": fiscal})
}

fn exec_at(s: &Server, path: &str, env: &Value) -> Value {
    let (status, a) = http(s.port, "POST", path, "", &env.to_string());
    assert_eq!(status, 200, "{a}");
    a
}

fn exec(s: &Server, env: &Value) -> Value {
    exec_at(s, "/dm/execute", env)
}

fn ok(a: &Value) -> &Value {
    assert_eq!(a["res"], 0, "{a}");
    assert_eq!(a["errortxt"], "", "{a}");
    &a["info"]
}

fn refused(a: &Value, res: i64, words: &[&str]) {
    assert_eq!(a["res"], res, "{a}");
    let text = a["errortxt"].as_str().unwrap();
    for w in words {
        assert!(text.contains(w), "{w:?} not in {text:?}");
    }
    // An error answer keeps the envelope.
    assert_eq!(a["dt"].as_str().unwrap().len(), 14, "{a}");
}

fn sale() -> Value {
    json!({"task": 1, "cashier": "Петренко І.", "receipt": {
        "sum": 133.72, "disc": 5, "disc_type": 0, "comment_up": "Дякуємо!", "comment_down": "Чекаємо знову",
        "rows": [
            {"code": "101", "code1": "4820000000001", "name": "Сир твердий", "cnt": 0.345, "price": 289.90, "taxgrp": 1},
            {"code": "102", "name": "Хліб «Бородинський»", "cnt": 2, "price": 21.5, "disc": 10, "disc_type": 1,
             "cost": 38.70, "taxgrp": "2", "code_a": "AAAB123456"}],
        "pays": [{"type": 0, "sum": 200, "change": 66.28, "comment": ""}]}})
}

fn open(s: &Server) -> Value {
    exec(s, &envelope("", json!({"task": 0, "cashier": "Петренко І."})))
}

fn data_uri(v: &Value, mime: &str) -> Vec<u8> {
    let uri = v.as_str().unwrap_or_else(|| panic!("no data URI: {v}"));
    let prefix = format!("data:{mime};base64,");
    assert!(uri.starts_with(&prefix), "{}", &uri[..uri.len().min(60)]);
    base64::engine::general_purpose::STANDARD.decode(&uri[prefix.len()..]).unwrap()
}

#[test]
fn every_task_answers_the_shape_dm_clients_read() {
    let s = start("auto_open_shift = false");
    let (status, info) = http(s.port, "GET", "/dm/api/v1/sys_info", "", "");
    assert_eq!(status, 200);
    assert_eq!(info["devices"][0]["fisid"], "4000123456");

    // 18 status: no shift yet.
    let a = exec(&s, &envelope("st1", json!({"task": 18})));
    for k in ["task", "type", "ver", "source", "device", "tag"] {
        assert!(a.get(k).is_some(), "{k} not echoed: {a}");
    }
    assert_eq!(
        (a["task"].clone(), a["ver"].clone(), a["source"].clone(), a["tag"].clone()),
        (json!(18), json!(6), json!("POS1"), json!("st1"))
    );
    assert_eq!(a["dt"], "20260301100000");
    assert_eq!(a["res_action"], 0);
    assert_eq!(a["warnings"], json!([]));
    let i = ok(&a);
    assert_eq!(
        (i["shift_status"].clone(), i["fisid"].clone(), i["safe"].clone()),
        (json!(0), json!("4000123456"), json!(0))
    );

    // A sale before the shift opens is refused, and so is a second opening.
    refused(&exec(&s, &envelope("", sale())), 4, &["Зміну не відкрито"]);
    let i = ok(&open(&s)).clone();
    assert_eq!(i["task"], 0);
    assert_eq!(i["shift_link"], 1);
    assert_eq!(i["dtype"], 0);
    assert!(i["doccode"].as_str().unwrap().starts_with("TEST_"), "{i}");
    refused(&open(&s), 5, &["вже відкрито"]);

    // 3 cash in.
    let a = exec(&s, &envelope("", json!({"task": 3, "cashier": "Петренко І.", "cash": {"type": 0, "sum": 500}})));
    let i = ok(&a);
    assert_eq!((i["task"].clone(), i["sum"].clone(), i["safe"].clone()), (json!(3), json!(500), json!(500)));

    // 1 sale: the receipt info and its printinfo.
    let a = exec(&s, &envelope("", sale()));
    let i = ok(&a);
    for k in [
        "doccode",
        "fisid",
        "dataid",
        "docno",
        "shift_link",
        "dt",
        "cashier",
        "dtype",
        "isprint",
        "isoffline",
        "safe",
        "qr",
        "printinfo",
    ] {
        assert!(i.get(k).is_some(), "{k} missing: {i}");
    }
    assert_eq!(i["task"], 1);
    assert_eq!(i["dtype"], 0);
    assert_eq!(i["isprint"], 0);
    assert_eq!(i["safe"], json!(633.72));
    assert_eq!(i["cashier"], "Петренко І.");
    let doccode = i["doccode"].as_str().unwrap().to_string();
    assert!(doccode.starts_with("TEST_4000123456"), "{doccode}");
    // The tax service's check link: one line with the document, its sum and the register.
    let qr = i["qr"].as_str().unwrap();
    assert!(qr.contains(&doccode) && qr.contains("133.72") && qr.contains("4000123456") && !qr.contains('\n'), "{qr}");
    let p = &i["printinfo"];
    assert_eq!(
        (p["sum_0"].clone(), p["sum_disc"].clone(), p["sum_receipt"].clone(), p["sum_topay"].clone()),
        (json!(143.02), json!(9.3), json!(133.72), json!(133.72))
    );
    assert_eq!(p["goods"][0]["cost"], json!(100.02));
    assert_eq!((p["goods"][1]["taxlit"].clone(), p["goods"][1]["disc"].clone()), (json!("Б"), json!(4.3)));
    // VAT is inside the prices: А 20 % of 100.02 − 3.61 (its share of the 5.00 discount); Б is без ПДВ.
    let taxes = p["taxes"].as_array().unwrap();
    assert_eq!(taxes.len(), 2);
    assert_eq!((taxes[0]["base_sum"].clone(), taxes[0]["tax_sum"].clone()), (json!(96.41), json!(16.07)));
    assert_eq!((taxes[1]["base_sum"].clone(), taxes[1]["tax_sum"].clone()), (json!(37.31), json!(0)));
    assert_eq!((taxes[1]["gr_code"].clone(), taxes[1]["tax_fname"].clone()), (json!(2), json!("Без ПДВ")));
    let sale_no: i64 = i["docno"].as_str().unwrap().parse().unwrap();

    // 2 return of one loaf, in cash.
    let ret = json!({"task": 2, "cashier": "Петренко І.", "receipt": {"rows": [
        {"name": "Хліб «Бородинський»", "cnt": 1, "price": 21.5, "taxgrp": 2}], "pays": [{"type": 0, "sum": 21.5}]}});
    let i = ok(&exec(&s, &envelope("", ret))).clone();
    assert_eq!((i["task"].clone(), i["safe"].clone()), (json!(2), json!(612.22)));

    // 4 cash out: more than the drawer holds is refused; less is taken.
    refused(
        &exec(&s, &envelope("", json!({"task": 4, "cash": {"type": 0, "sum": 1000}}))),
        6,
        &["Недостатньо готівки", "612.22"],
    );
    let i = ok(&exec(&s, &envelope("", json!({"task": 4, "cash": {"type": 0, "sum": 100}})))).clone();
    assert_eq!(i["safe"], json!(512.22));
    // 14 cash withdrawal (best effort): counted apart, out of the drawer.
    let i = ok(&exec(&s, &envelope("", json!({"task": 14, "cash": {"type": 0, "sum": 12.22}})))).clone();
    assert_eq!((i["task"].clone(), i["safe"].clone()), (json!(14), json!(500)));

    // 10 X report.
    let a = exec(&s, &envelope("", json!({"task": 10})));
    let x = ok(&a);
    assert_eq!(x["receipt"]["count_p"], 1);
    assert_eq!(x["receipt"]["count_m"], 1);
    assert_eq!(x["summary"]["base_p"], json!(133.72));
    assert_eq!(x["summary"]["base_m"], json!(21.5));
    assert_eq!(
        x["pays"][0],
        json!({"type": 0, "name": "Готівка", "sum_p": 133.72, "sum_m": 21.5,
        "round_pu": 0, "round_pd": 0, "round_mu": 0, "round_md": 0})
    );
    // money[]: the service deposits and withdrawals; cash[]: cash taken and paid back by documents.
    assert_eq!((x["money"][0]["sum_p"].clone(), x["money"][0]["sum_m"].clone()), (json!(500), json!(100)));
    assert_eq!((x["cash"][0]["sum_p"].clone(), x["cash"][0]["sum_m"].clone()), (json!(133.72), json!(33.72)));
    assert_eq!(x["taxes"].as_array().unwrap().len(), 2);
    assert_eq!(x["receipt"]["count_14"], 1);
    assert_eq!(x["safe"], json!(500));
    assert_eq!(x["printheader"]["name"], "ФОП Петренко Іван");

    // 18 status with the last numbers.
    let i = ok(&exec(&s, &envelope("", json!({"task": 18})))).clone();
    assert_eq!(i["shift_status"], 1);
    assert_eq!(i["shift_dt"], "20260301100000");
    assert_eq!(i["last_receipt_no"], sale_no);
    assert_eq!(i["last_back_no"], sale_no + 1);
    assert_eq!(i["last_z_no"], 0);

    // 22 reprint of the last receipt (the return), 21 last numbers, 20 the register's fiscal number (and
    // with `fisn` a document by its fiscal number).
    let i = ok(&exec(&s, &envelope("", json!({"task": 22})))).clone();
    assert_eq!((i["task"].clone(), i["docno"].clone()), (json!(2), json!((sale_no + 1).to_string())));
    let i = ok(&exec(&s, &envelope("", json!({"task": 21})))).clone();
    assert_eq!(i["last_receipt_no"], sale_no);
    let i = ok(&exec(&s, &envelope("", json!({"task": 20})))).clone();
    assert_eq!((i["task"].clone(), i["fisid"].clone()), (json!(20), json!("4000123456")));
    let i = ok(&exec(&s, &envelope("", json!({"task": 20, "fisn": doccode})))).clone();
    assert_eq!(i["docno"], sale_no.to_string());
    refused(&exec(&s, &envelope("", json!({"task": 20, "fisn": "TEST_0"}))), 9, &["не знайдено"]);

    // 11 Z report closes the shift; the drawer's cash carries into the next one.
    let a = exec(&s, &envelope("", json!({"task": 11, "cashier": "Петренко І."})));
    let z = ok(&a);
    assert_eq!(z["task"], 11);
    assert_eq!(z["receipt"]["count_p"], 1);
    assert!(z["doccode"].as_str().unwrap().starts_with("TEST_"));
    // The shift's documents: its opening (1) to the Z itself.
    assert_eq!(
        (z["docno_from"].clone(), z["docno_to"].clone()),
        (json!(1), json!(z["docno"].as_str().unwrap().parse::<i64>().unwrap()))
    );
    let i = ok(&exec(&s, &envelope("", json!({"task": 18})))).clone();
    assert_eq!(i["shift_status"], 0);
    assert_eq!(i["last_z_no"], 1, "the number of the last closed shift");
    refused(&exec(&s, &envelope("", json!({"task": 10}))), 4, &["Зміну не відкрито"]);
    let i = ok(&open(&s)).clone();
    assert_eq!((i["shift_link"].clone(), i["safe"].clone()), (json!(2), json!(500)));
}

#[test]
fn the_same_tag_returns_the_stored_answer_and_makes_nothing() {
    let s = start("");
    ok(&open(&s));
    let first = exec(&s, &envelope("9f1c-sale-1", sale()));
    let again = exec(&s, &envelope("9f1c-sale-1", sale()));
    assert_eq!(ok(&first), ok(&again));
    assert_eq!(first, again);
    // Only one sale was made and counted.
    let x = ok(&exec(&s, &envelope("", json!({"task": 10})))).clone();
    assert_eq!(x["receipt"]["count_p"], 1);
    assert_eq!(x["safe"], json!(133.72));
    // The same answer without the task ("repeat by tag": no fiscal block), as the first request was
    // answered.
    let repeat = json!({"ver": 6, "source": "POS1", "device": "Каса 1", "tag": "9f1c-sale-1"});
    let again = exec(&s, &repeat);
    assert_eq!((again["type"].clone(), again["task"].clone()), (json!(1), json!(1)));
    assert_eq!(ok(&again), ok(&first));
    let mut by_type = repeat.clone();
    by_type["type"] = json!(0);
    assert_eq!(ok(&exec(&s, &by_type)), ok(&first));
    refused(&exec(&s, &json!({"ver": 6, "tag": "never-made"})), 9, &["never-made"]);
    // A new tag makes a new document.
    let number = |a: &Value| ok(a)["docno"].as_str().unwrap().parse::<i64>().unwrap();
    let other = exec(&s, &envelope("9f1c-sale-2", sale()));
    assert_eq!(number(&other), number(&first) + 1);
    // A refused request stores nothing under its tag: fixed, it goes through.
    let bad = json!({"task": 4, "cash": {"type": 0, "sum": 10000}});
    refused(&exec(&s, &envelope("out-1", bad)), 6, &[]);
    let good = exec(&s, &envelope("out-1", json!({"task": 4, "cash": {"type": 0, "sum": 10}})));
    assert_eq!(ok(&good)["task"], 4);
}

#[test]
fn a_tag_holds_across_a_killed_server_and_concurrent_repeats_make_one_document() {
    let mut s = start("");
    ok(&open(&s));
    // Eight POS retries of one sale at once: one document, eight equal answers.
    let port = s.port;
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(move || {
                    let (status, a) = http(port, "POST", "/dm/execute", "", &envelope("retry-7", sale()).to_string());
                    assert_eq!(status, 200);
                    a
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert!(ok(&answers[0])["doccode"].as_str().unwrap().starts_with("TEST_"));
    // Killed and started again: the shift, the drawer and the tag are all still there.
    kill_and_restart(&mut s);
    let again = exec(&s, &envelope("retry-7", sale()));
    assert_eq!(again, answers[0]);
    let x = ok(&exec(&s, &envelope("", json!({"task": 10})))).clone();
    assert_eq!(x["receipt"]["count_p"], 1);
    assert_eq!(x["safe"], json!(133.72));
}

#[test]
fn bad_requests_are_res_not_zero_with_a_ukrainian_text_naming_the_field() {
    let s = start("");
    ok(&open(&s));
    let with_row = |row: Value, pay: f64| {
        envelope("", json!({"task": 1, "receipt": {"rows": [row], "pays": [{"type": 0, "sum": pay}]}}))
    };
    // A character outside the seed's set (the modifier apostrophe is not in it).
    let a = exec(&s, &with_row(json!({"name": "Обʼєкт", "cnt": 1, "price": 1}), 1.0));
    refused(&a, 2, &["rows[0].name", "ʼ", "U+02BC"]);
    let a = exec(&s, &envelope("", json!({"task": 3, "cashier": "Кас\tир", "cash": {"sum": 1}})));
    refused(&a, 2, &["fiscal.cashier", "U+0009"]);
    // Bad rows.
    refused(&exec(&s, &with_row(json!({"name": "Сіль", "cnt": 0, "price": 1}), 1.0)), 1, &["rows[0].cnt"]);
    refused(
        &exec(&s, &with_row(json!({"name": "Сіль", "cnt": 1, "price": 1.005}), 1.0)),
        1,
        &["rows[0].price", "копійках"],
    );
    refused(&exec(&s, &with_row(json!({"name": "", "cnt": 1, "price": 1}), 1.0)), 1, &["rows[0].name"]);
    refused(
        &exec(&s, &with_row(json!({"name": "Сіль", "cnt": 1, "price": 1, "taxgrp": 10}), 1.0)),
        1,
        &["rows[0].taxgrp", "«10»"],
    );
    refused(&exec(&s, &with_row(json!({"name": "Сіль", "cnt": 1, "price": 1, "cost": 2}), 1.0)), 3, &["rows[0].cost"]);
    refused(&exec(&s, &with_row(json!({"name": "Сіль", "cnt": 1, "price": 10}), 9.0)), 3, &["Оплати", "10.00"]);
    let a = exec(
        &s,
        &envelope(
            "",
            json!({"task": 1, "receipt": {"sum": 5, "rows": [{"name": "Сіль", "cnt": 1, "price": 10}], "pays": [{"type": 0, "sum": 10}]}}),
        ),
    );
    refused(&a, 3, &["sum"]);
    refused(&exec(&s, &envelope("", json!({"task": 1, "receipt": {"rows": [], "pays": []}}))), 3, &["rows"]);
    // Change only from cash.
    refused(&exec(&s, &with_row(json!({"name": "Сіль", "cnt": 1, "price": 10}), 10.0)).clone(), 0, &[]);
    let a = exec(
        &s,
        &envelope(
            "",
            json!({"task": 1, "receipt": {"rows": [{"name": "Сіль", "cnt": 1, "price": 10}], "pays": [{"type": 2, "sum": 20, "change": 10}]}}),
        ),
    );
    refused(&a, 3, &["решта"]);
    // Unknown tasks and kinds, and no JSON at all: still HTTP 200 with the envelope.
    refused(&exec(&s, &envelope("", json!({"task": 99}))), 7, &["99"]);
    refused(&exec(&s, &envelope("", json!({"task": 15}))), 7, &["не підтримується"]);
    let mut pay = envelope("", json!({"task": 1}));
    pay["type"] = json!(3);
    refused(&exec(&s, &pay), 7, &["Тип завдання"]);
    let (status, a) = http(s.port, "POST", "/dm/execute", "", "{not json");
    assert_eq!(status, 200);
    assert_eq!(a["res"], 1, "{a}");
    assert!(a["errortxt"].as_str().unwrap().contains("JSON"));
    // A return paying out more cash than the drawer holds (10.00 from the sale above).
    let ret = json!({"task": 2, "receipt": {"rows": [{"name": "Сіль", "cnt": 2, "price": 10}], "pays": [{"type": 0, "sum": 20}]}});
    refused(&exec(&s, &envelope("", ret)), 6, &["Недостатньо готівки", "10.00", "20.00"]);
    // Nothing refused was made: only the one good sale above counts.
    let x = ok(&exec(&s, &envelope("", json!({"task": 10})))).clone();
    assert_eq!(x["receipt"]["count_p"], 1);
}

#[test]
fn printed_forms_decode_with_tools_kassa_did_not_write() {
    let s = start("");
    ok(&open(&s));
    let mut env = envelope("", sale());
    for k in ["need_pf_txt", "need_pf_img", "need_pf_pdf", "need_pf_doccmd"] {
        env[k] = json!("1");
    }
    let a = exec(&s, &env);
    ok(&a);
    // The forms are at the top level of the answer, where the public clients read them.
    let i = &a;

    // Text: windows-1251, decoded by encoding_rs; the totals, the test mark and Ukrainian letters.
    let raw = data_uri(&i["pf_text"], "text/plain;charset=windows-1251");
    let (text, _, had_errors) = encoding_rs::WINDOWS_1251.decode(&raw);
    assert!(!had_errors);
    for needle in [
        "СУМА:",
        "133.72 ГРН",
        "Знижка",
        "9.30",
        "ПДВ 20% А....",
        "16.07",
        "Решта",
        "66.28",
        "ФІСКАЛЬНИЙ ЧЕК",
        "ТЕСТОВИЙ РЕЖИМ",
        "Крамниця «Ґанок»",
        "ЄДРПОУ 3012345678",
        "Хліб «Бородинський»",
        "AAAB123456",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    assert!(text.lines().all(|l| l.chars().count() <= 42), "{text}");

    // PNG: opened by the png crate, as wide as the settings say (42 characters × 12 dots).
    let png_bytes = data_uri(&i["pf_image"], "image/png");
    let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
    let reader = decoder.read_info().unwrap();
    let (w, h) = (reader.info().width, reader.info().height);
    assert_eq!(w, 504);
    assert!(h > 400, "{h}");

    // PDF: parsed by lopdf (written by pdf-writer): one page holding the receipt picture at full size.
    let pdf = data_uri(&i["pf_pdf"], "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 1);
    let images = doc.get_page_images(*pages.values().next().unwrap()).unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!((images[0].width, images[0].height), (i64::from(w), i64::from(h)));
    // A PDF reader sees the PNG's very pixels: the image stream inflated and its PNG row filters undone.
    assert_eq!(pdf_image_rows(&images[0]), png_rows(&png_bytes));

    // ESC/POS: windows-1251 selected first (ESC t 46, the pf_codepage default), the total in cp1251 bytes, a cut.
    let cmd = data_uri(&i["pf_doccmd"], "application/octet-stream");
    assert!(cmd.starts_with(&[0x1b, 0x74, 46]), "{:?}", &cmd[..8]);
    let (total, _, _) = encoding_rs::WINDOWS_1251.encode("133.72 ГРН");
    assert!(cmd.windows(total.len()).any(|w| w == &total[..]));
    assert!(cmd.windows(2).any(|w| w == [0x1d, 0x56]), "no cut");

    // The X report and a reprint carry forms too; the reprint is marked as a copy.
    let mut x = envelope("", json!({"task": 10}));
    x["need_pf_txt"] = json!(1);
    let raw = data_uri(&exec(&s, &x)["pf_text"], "text/plain;charset=windows-1251");
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&raw);
    assert!(text.contains("X-ЗВІТ") && text.contains("133.72"), "{text}");
    let mut r = envelope("", json!({"task": 22}));
    r["need_pf_txt"] = json!(2);
    let raw = data_uri(&exec(&s, &r)["pf_text"], "text/plain;charset=windows-1251");
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&raw);
    assert!(text.contains("КОПІЯ") && text.contains("133.72 ГРН"), "{text}");
    // A card payment's details are printed; cash stays where it was.
    let card = json!({"task": 1, "receipt": {"rows": [{"name": "Кава", "cnt": 1, "price": 45}],
        "pays": [{"type": 2, "sum": 45, "cardmask": "4149****1234", "paysys": "VISA", "rrn": "123456789012", "auth_code": "A1B2C3", "commission": 0.0}]}});
    let mut c = envelope("", card);
    c["need_pf_txt"] = json!(1);
    let raw = data_uri(&exec(&s, &c)["pf_text"], "text/plain;charset=windows-1251");
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&raw);
    for needle in ["Картка", "4149****1234", "VISA", "123456789012", "A1B2C3"] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    assert!(!text.contains("Комісія"), "a zero commission is not printed:\n{text}");
    // A "Національний кешбек" return keeps the sale's numbers and dates and prints them.
    let cashback = json!({"task": 2, "receipt": {"purchase_receipt_fisn": "TEST_400012345600000003",
        "purchase_rro_fisn": "4000123456", "rows": [{"name": "Кава", "cnt": 1, "price": 45, "purchase_receipt_dt": "20260301100000"}],
        "pays": [{"type": 2, "sum": 45, "purchase_dt": "20260301100000"}]}});
    let mut c = envelope("", cashback);
    c["need_pf_txt"] = json!(1);
    let a = exec(&s, &c);
    let p = &ok(&a)["printinfo"];
    assert_eq!(
        (
            p["purchase_receipt_fisn"].clone(),
            p["goods"][0]["purchase_receipt_dt"].clone(),
            p["pays"][0]["purchase_dt"].clone()
        ),
        (json!("TEST_400012345600000003"), json!("20260301100000"), json!("20260301100000"))
    );
    let raw = data_uri(&a["pf_text"], "text/plain;charset=windows-1251");
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&raw);
    for needle in ["Національний кешбек", "TEST_400012345600000003", "Дата чека продажу", "Дата покупки"]
    {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    // Without the flags, no forms.
    let plain = exec(&s, &envelope("", json!({"task": 22})));
    ok(&plain);
    assert!(plain.get("pf_text").is_none() && plain.get("pf_pdf").is_none());
    assert!(plain["info"].get("pf_text").is_none());
}

#[test]
fn settings_are_read_and_written_and_shape_the_forms() {
    let s = start("");
    let (status, v) = http(s.port, "GET", "/vchasno-kasa/api/v1/settings", "", "");
    assert_eq!(status, 200);
    assert_eq!(
        (v["pf_charcount"].clone(), v["pf_charwidth"].clone(), v["pf_astext"].clone()),
        (json!(42), json!(12), json!(true))
    );
    let (_, v) =
        http(s.port, "POST", "/vchasno-kasa/api/v1/settings", "", r#"{"pf_charcount": 32, "pf_charwidth": "10"}"#);
    assert_eq!(v["res"], 0, "{v}");
    assert_eq!(v["pf_charcount"], 32);
    let (_, v) = http(s.port, "POST", "/vchasno-kasa/api/v1/settings", "", r#"{"pf_charcount": 5}"#);
    assert_ne!(v["res"], 0);
    assert!(v["errortxt"].as_str().unwrap().contains("pf_charcount"));
    // A key Kassa does not know is taken and not kept, with a warning; a bad value refuses the change.
    let (_, v) = http(s.port, "POST", "/vchasno-kasa/api/v1/settings", "", r#"{"pf_colour": 1, "supmail": "a@b.ua"}"#);
    assert_eq!((v["res"].clone(), v["errortxt"].clone()), (json!(0), json!("")), "{v}");
    assert_eq!(v["warnings"][0]["code"], 2, "{v}");
    assert!(v["warnings"][0]["wtxt"].as_str().unwrap().contains("pf_colour"));
    assert_eq!(v["supmail"], "a@b.ua");
    let (_, v) = http(s.port, "POST", "/vchasno-kasa/api/v1/settings", "", r#"{"pf_astext": "perhaps"}"#);
    assert_ne!(v["res"], 0);
    let (_, v) = http(s.port, "GET", "/vchasno-kasa/api/v1/settings", "", "");
    assert_eq!(v["pf_charcount"], 32);

    ok(&open(&s));
    let mut env = envelope("", sale());
    env["need_pf_txt"] = json!(1);
    env["need_pf_img"] = json!(true);
    let i = exec(&s, &env);
    ok(&i);
    let raw = data_uri(&i["pf_text"], "text/plain;charset=windows-1251");
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&raw);
    assert!(text.lines().any(|l| l.chars().count() == 32), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 32), "{text}");
    let png_bytes = data_uri(&i["pf_image"], "image/png");
    let reader = png::Decoder::new(std::io::Cursor::new(&png_bytes)).read_info().unwrap();
    assert_eq!(reader.info().width, 320);
    let height = reader.info().height as usize;

    // pf_astext 0: pf_doccmd is the picture as ESC/POS raster bands of 40 bytes (320 dots) per line.
    let (_, v) = http(s.port, "POST", "/vchasno-kasa/api/v1/settings", "", r#"{"pf_astext": false}"#);
    assert_eq!(v["pf_astext"], false, "{v}");
    let mut env = envelope("", json!({"task": 22}));
    env["need_pf_doccmd"] = json!(1);
    env["need_pf_img"] = json!(1);
    let i = exec(&s, &env);
    ok(&i);
    let cmd = data_uri(&i["pf_doccmd"], "application/octet-stream");
    assert_eq!(&cmd[..8], &[0x1b, 0x40, 0x1d, 0x76, 0x30, 0, 40, 0]);
    let reader = png::Decoder::new(std::io::Cursor::new(data_uri(&i["pf_image"], "image/png"))).read_info().unwrap();
    let h = reader.info().height as usize;
    assert!(h > height, "a copy has the КОПІЯ line: {h} > {height}");
    let bands = h.div_ceil(256);
    assert_eq!(cmd.len(), 2 + bands * 8 + 40 * h + 7);
}

/// The first `.escpos` file the virtual printer writes.
fn printed(s: &Server) -> Vec<u8> {
    let dir = s.dir.path().join("data").join("printed");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = std::fs::read_dir(&dir).ok().and_then(|r| {
            r.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "escpos"))
        });
        if let Some(f) = found {
            return std::fs::read(f).unwrap();
        }
        assert!(Instant::now() < deadline, "nothing printed in {}", dir.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn execute_prn_prints_on_the_named_printer_and_execute_pkg_runs_a_batch() {
    let s = start("");
    // An unknown printer does not lose the task: it is done, not printed, and a warning names the printer.
    let a = exec_at(&s, "/dm/execute-prn?dev_id=nowhere", &envelope("", json!({"task": 0})));
    assert_eq!((ok(&a)["isprint"].clone(), a["warnings"][0]["code"].clone()), (json!(0), json!(1)), "{a}");
    assert!(a["warnings"][0]["wtxt"].as_str().unwrap().contains("nowhere"), "{a}");
    let i = ok(&exec(&s, &envelope("", json!({"task": 18})))).clone();
    assert_eq!(i["shift_status"], 1);
    // A batch: two sales, answered in order, printed on the default printer.
    let batch = json!([envelope("b1", sale()), envelope("b2", sale())]);
    let (status, a) = http(s.port, "POST", "/dm/execute-pkg", "", &batch.to_string());
    assert_eq!(status, 200);
    let list = a.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0]["tag"].clone(), list[1]["tag"].clone()), (json!("b1"), json!("b2")));
    assert_eq!(ok(&list[1])["isprint"], 1);
    let bytes = printed(&s);
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&bytes);
    assert!(text.contains("ФІСКАЛЬНИЙ ЧЕК"), "{text}");
    // The named printer; the X report prints too.
    let a = exec_at(&s, "/dm/execute-prn?dev_id=virtual", &envelope("", json!({"task": 22})));
    assert_eq!(ok(&a)["isprint"], 1);
    let a = exec_at(&s, "/dm/execute-pkg", &envelope("", json!({"task": 10})));
    assert_eq!(ok(&a)["isprint"], 1);
    let a = exec(&s, &envelope("", json!({"task": 10})));
    assert_eq!(ok(&a)["isprint"], 0);
}

#[test]
fn the_cloud_path_takes_the_raw_token_in_authorization() {
    let s = start_logging("token = \"k9-secret-token\"", "trace");
    let body = envelope("", json!({"task": 18})).to_string();
    let (status, a) = http(s.port, "POST", "/api/v3/fiscal/execute", "Authorization: k9-secret-token\r\n", &body);
    assert_eq!(status, 200);
    assert_eq!(ok(&a)["task"], 18);
    let (_, a) = http(s.port, "POST", "/api/v3/fiscal/execute", "Authorization: Bearer k9-secret-token\r\n", &body);
    refused(&a, 8, &["без «Bearer»"]);
    let (_, a) = http(s.port, "POST", "/api/v3/fiscal/execute", "", &body);
    refused(&a, 8, &["Authorization"]);
    // The DM path checks a token given in the envelope.
    let mut env = envelope("", json!({"task": 18}));
    env["token"] = json!("wrong");
    refused(&exec(&s, &env), 8, &["токен"]);
    // The token never reaches the log, even at trace level.
    let log = std::fs::read_to_string(s.dir.path().join("stderr.log")).unwrap();
    assert!(log.contains("DM request refused"), "the log is not at trace level:\n{log}");
    assert!(!log.contains("k9-secret-token"));
}

#[test]
fn auto_open_shift_opens_with_the_first_receipt_by_default_and_can_be_turned_off() {
    let off = start("auto_open_shift = false");
    refused(&exec(&off, &envelope("", sale())), 4, &["Зміну не відкрито"]);
    let s = start("");
    let i = ok(&exec(&s, &envelope("", sale()))).clone();
    assert_eq!(i["shift_link"], 1);
    let st = ok(&exec(&s, &envelope("", json!({"task": 18})))).clone();
    assert_eq!(st["shift_status"], 1);
    // Cash movements still need an open shift to exist; a Z closes it and a service deposit is refused.
    ok(&exec(&s, &envelope("", json!({"task": 11}))));
    refused(&exec(&s, &envelope("", json!({"task": 3, "cash": {"sum": 1}}))), 4, &["Зміну не відкрито"]);
}

#[test]
fn a_body_that_trickles_in_is_cut_off_with_an_envelope() {
    let s = start("");
    let (text, took) = common::trickle_body(s.port, "/dm/execute");
    assert!(text.contains("\"res\"") && text.contains("вчасно"), "{text}");
    assert!(took < Duration::from_secs(16), "cut off after its 10 s: {took:?}");
}

/// The rows of a PDF image as a reader decodes them: FlateDecode, then the PNG predictor its DecodeParms name
/// (one byte per pixel group at most 8 bits deep, as the grey receipt images are).
fn pdf_image_rows(image: &lopdf::xobject::PdfImage) -> Vec<Vec<u8>> {
    assert_eq!(image.filters.as_deref(), Some(&["FlateDecode".to_string()][..]));
    let mut data = Vec::new();
    flate2::read::ZlibDecoder::new(image.content).read_to_end(&mut data).unwrap();
    let bits = image.bits_per_component.unwrap() as usize;
    let stride = (image.width as usize * bits).div_ceil(8);
    let parms = image.origin_dict.get(b"DecodeParms").and_then(|p| p.as_dict()).ok();
    let predictor = parms.and_then(|p| p.get(b"Predictor").ok()).and_then(|p| p.as_i64().ok()).unwrap_or(1);
    if predictor < 10 {
        return data.chunks(stride).map(<[u8]>::to_vec).collect();
    }
    let mut rows: Vec<Vec<u8>> = Vec::new();
    for chunk in data.chunks(stride + 1) {
        let (filter, raw) = (chunk[0], &chunk[1..]);
        let up = rows.last().cloned().unwrap_or_else(|| vec![0; stride]);
        let mut row = vec![0u8; stride];
        for i in 0..stride {
            let left = if i > 0 { row[i - 1] } else { 0 };
            let corner = if i > 0 { up[i - 1] } else { 0 };
            let guess = match filter {
                0 => 0,
                1 => left,
                2 => up[i],
                3 => ((u16::from(left) + u16::from(up[i])) / 2) as u8,
                4 => {
                    let p = i16::from(left) + i16::from(up[i]) - i16::from(corner);
                    let (pa, pb, pc) =
                        ((p - i16::from(left)).abs(), (p - i16::from(up[i])).abs(), (p - i16::from(corner)).abs());
                    if pa <= pb && pa <= pc {
                        left
                    } else if pb <= pc {
                        up[i]
                    } else {
                        corner
                    }
                }
                other => panic!("PNG filter {other}"),
            };
            row[i] = raw[i].wrapping_add(guess);
        }
        rows.push(row);
    }
    rows
}

/// The rows of a PNG as stored (packed pixels, no filter bytes).
fn png_rows(png_bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    buf[..frame.buffer_size()].chunks(frame.line_size).map(<[u8]>::to_vec).collect()
}
