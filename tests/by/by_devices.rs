//! Several СКО behind one Belarusian front, through the real binary: the `token` header picks the СКО, and
//! each keeps its own authorisation, PIN, shift, numbering, counters and operation_id scope; an unknown
//! serial is refused, the old single `[by.sko]` table still serves, and a serial given twice stops the start.
use crate::common;

use common::Served;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;

const TWO_SKO: &str = r#"
[[by.sko]]
serial = "AVQ00000000011"
device_id = 100000011
pin = "1111"
first_number = 500
last_shift = 40
fixed_time = "2026-03-01T10:00:00+03:00"

[[by.sko]]
serial = "AVQ00000000022"
device_id = 100000022
company_name = "ООО \"Вторая касса\""
pin = "2222"
fixed_time = "2026-03-01T11:00:00+03:00"
"#;
const A: &str = "AVQ00000000011";
const B: &str = "AVQ00000000022";

/// `kassa serve` with the Belarusian HTTP listener and `by` as the rest of the configuration; the
/// server, or why it did not start with its standard error.
fn serve(by: &str) -> (Result<Served, String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, by).unwrap();
    let log = dir.path().join("stderr.log");
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--by-listen", "127.0.0.1:0", "--data-dir"]);
    command.arg(dir.path().join("data")).arg("--config").arg(&config).env("RUST_LOG", "warn");
    command.stderr(std::fs::File::create(&log).unwrap());
    let served = Served::spawn(command, &["api", "by-http"])
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()));
    (served, dir)
}

fn start(by: &str) -> (u16, Served, tempfile::TempDir) {
    let (served, dir) = serve(by);
    let served = served.unwrap_or_else(|e| panic!("the Belarusian front did not start: {e}"));
    (served.port("by-http"), served, dir)
}

/// One message to `address`/`action` on the СКО `token` names (none: no header).
fn send(port: u16, token: Option<&str>, address: &str, action: &str, data: Value) -> Value {
    send_with(port, token, address, action, json!({}), data)
}

fn send_with(port: u16, token: Option<&str>, address: &str, action: &str, headers: Value, data: Value) -> Value {
    let mut h = headers;
    h["action"] = json!(action);
    if let Some(t) = token {
        h["token"] = json!(t);
    }
    let body = json!({"type": "send", "address": address, "headers": h, "data": data}).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    serde_json::from_str(out.split_once("\r\n\r\n").map_or("", |(_, b)| b)).unwrap_or(Value::Null)
}

fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["type"], "send", "{answer}");
    &answer["data"]
}

fn code(answer: &Value) -> &str {
    assert_eq!(answer["type"], "error", "{answer}");
    answer["data"]["code"].as_str().unwrap()
}

fn login_and_open(port: u16, token: &str, pin: &str) {
    ok(&send(port, Some(token), "ik.service.token.authority", "authorize", json!({"pin": pin})));
    ok(&send(port, Some(token), "ik.service.token.shift", "open_shift", json!({})));
}

fn deposit(port: u16, token: &str, sum: &str, operation_id: &str) -> Value {
    send_with(
        port,
        Some(token),
        "ik.service.token.deposit",
        "deposit",
        json!({"operation_id": operation_id}),
        json!({"header": {"cashier": "Test", "currency": "BYN"}, "sum": sum}),
    )
}

fn state(port: u16, token: &str) -> Value {
    ok(&send(port, Some(token), "ik.service.token", "get_state", json!({}))).clone()
}

#[test]
fn two_sko_keep_their_own_pin_shift_numbers_counters_and_keys() {
    let (port, _served, _dir) = start(&format!("[by]\n{TWO_SKO}"));

    // Each СКО its own PIN and its own authorisation.
    assert_eq!(
        code(&send(port, Some(B), "ik.service.token.authority", "authorize", json!({"pin": "1111"}))),
        "KASSA_BAD_PIN"
    );
    login_and_open(port, A, "1111");
    assert_eq!(code(&send(port, Some(B), "ik.service.token.shift", "open_shift", json!({}))), "KASSA_NOT_AUTHORIZED");
    let b = state(port, B);
    assert_eq!(
        (b["authorized"].clone(), b["shift_is_open"].clone(), b["shift_number"].clone()),
        (json!(false), json!(false), json!(0))
    );
    login_and_open(port, B, "2222");

    // The same operation_id on both: two documents, each numbered by its own СКО.
    let a1 = ok(&deposit(port, A, "30.00", "op-1")).clone();
    let b1 = ok(&deposit(port, B, "7.00", "op-1")).clone();
    assert_eq!((a1["header"]["number"].clone(), a1["header"]["serial_number"].clone()), (json!(500), json!(A)));
    assert_eq!((b1["header"]["number"].clone(), b1["header"]["serial_number"].clone()), (json!(1), json!(B)));
    assert_eq!((a1["header"]["shift_number"].clone(), b1["header"]["shift_number"].clone()), (json!(41), json!(1)));
    assert_eq!(b1["header"]["company_name"], "ООО \"Вторая касса\"");
    assert_eq!(b1["header"]["date_time"].as_str().unwrap()[..19], *"2026-03-01T11:00:00");
    // A retry on A answers A's document and makes nothing on either.
    let again = ok(&deposit(port, A, "30.00", "op-1")).clone();
    assert_eq!(again["header"]["uid"], a1["header"]["uid"]);
    ok(&deposit(port, A, "5.00", "op-2"));

    let (a, b) = (state(port, A), state(port, B));
    assert_eq!((a["cash_in"].clone(), a["next_document_number"].clone()), (json!("35.00"), json!(502)));
    assert_eq!((b["cash_in"].clone(), b["next_document_number"].clone()), (json!("7.00"), json!(2)));

    // Closing A's shift leaves B's open; A's copy by number is A's document, B has no such number.
    ok(&send(port, Some(A), "ik.service.token.shift", "close_shift", json!({"header": {"cashier": "Test"}})));
    let (a, b) = (state(port, A), state(port, B));
    assert_eq!((a["shift_is_open"].clone(), b["shift_is_open"].clone()), (json!(false), json!(true)));
    assert_eq!(
        ok(&send(port, Some(A), "ik.service.token", "print_copy", json!({"number": 500})))["header"]["uid"],
        a1["header"]["uid"]
    );
    assert_eq!(
        code(&send(port, Some(B), "ik.service.token", "print_copy", json!({"number": 500}))),
        "KASSA_DOCUMENT_NOT_FOUND"
    );
    // Logging out of B leaves A authorised.
    ok(&send(port, Some(B), "ik.service.token.authority", "logout", json!({})));
    assert_eq!(state(port, A)["authorized"], true);
    assert_eq!(state(port, B)["authorized"], false);
}

#[test]
fn an_unknown_or_missing_token_is_refused_when_several_sko_serve() {
    let (port, _served, _dir) = start(&format!("[by]\n{TWO_SKO}"));
    let a = send(port, Some("AVQ99999999999"), "ik.service.token", "get_token", json!({}));
    assert_eq!(code(&a), "KASSA_UNKNOWN_TOKEN");
    let text = a["data"]["text"].as_str().unwrap();
    assert!(text.contains("AVQ99999999999") && text.contains(A) && text.contains(B), "{text}");
    // Without a token, several СКО: which one is not guessed.
    assert_eq!(code(&send(port, None, "ik.service.token", "get_state", json!({}))), "KASSA_TOKEN_REQUIRED");
    assert_eq!(
        code(&send(port, None, "ik.service.token.authority", "authorize", json!({"pin": "1111"}))),
        "KASSA_TOKEN_REQUIRED"
    );
    // The service's version needs no СКО; each token reads its own СКО.
    assert_eq!(ok(&send(port, None, "ik.service.app", "get_version", json!({})))["name"], "kassa");
    assert_eq!(ok(&send(port, Some(B), "ik.service.token", "get_token", json!({})))["device_id"], 100000022);
}

#[test]
fn the_single_table_form_still_serves_one_sko_without_a_token() {
    let (port, _served, _dir) =
        start("[by]\n[by.sko]\nserial = \"AVQ00000000033\"\npin = \"3333\"\nfirst_number = 9\n");
    ok(&send(port, None, "ik.service.token.authority", "authorize", json!({"pin": "3333"})));
    ok(&send(port, None, "ik.service.token.shift", "open_shift", json!({})));
    let d = ok(&deposit(port, "AVQ00000000033", "1.00", "k")).clone();
    assert_eq!(d["header"]["number"], 9);
    assert_eq!(ok(&send(port, None, "ik.service.token", "get_token", json!({})))["serial_number"], "AVQ00000000033");
    assert_eq!(
        code(&send(port, Some("AVQ00000000011"), "ik.service.token", "get_state", json!({}))),
        "KASSA_UNKNOWN_TOKEN"
    );
}

#[test]
fn a_serial_given_to_two_sko_stops_the_start_with_a_clear_text() {
    let twice = "[by]\n[[by.sko]]\nserial = \"AVQ00000000044\"\npin = \"1\"\n[[by.sko]]\nserial = \"AVQ00000000044\"\npin = \"2\"\n";
    let (served, _dir) = serve(twice);
    let err = served.err().expect("two СКО with one serial must not start");
    assert!(err.contains("by.sko: the serial \"AVQ00000000044\" is given to two СКО"), "{err}");
}

#[test]
fn the_readme_two_sko_example_serves_both() {
    let section = common::readme_section("Belarus");
    let example = common::code_blocks(&section, "```toml").into_iter().find(|b| b.contains("[[by.sko]]"));
    let example = example.expect("README's Belarus section has a [[by.sko]] example");
    let (port, _served, _dir) = start(&format!("[by]\n{example}"));
    for (serial, pin) in [("AVQ11031010705", "2718"), ("AVQ11031010706", "3141")] {
        ok(&send(port, Some(serial), "ik.service.token.authority", "authorize", json!({"pin": pin})));
        assert_eq!(ok(&send(port, Some(serial), "ik.service.token", "get_token", json!({})))["serial_number"], serial);
    }
}
