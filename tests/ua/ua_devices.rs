//! Several ПРРО behind one Ukrainian front (one Device Manager), through the real binary: the envelope's
//! `device` picks the ПРРО, each keeps its own shift, numbering, counters and tag scope; an unknown device is
//! refused (res 13), the old single `[ua.prro]` table still takes any device name, and a fiscal number or a
//! device name given twice stops the start.
use crate::common;

use common::Served;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;

const TWO_PRRO: &str = r#"
[ua]
listen = "127.0.0.1:0"
auto_open_shift = false

[[ua.prro]]
fisid = "4000000011"
device = "Каса 1"
first_number = 100
last_shift = 7
fixed_time = "2026-03-01T10:00:00+02:00"

[[ua.prro]]
fisid = "4000000022"
device = "Каса 2"
name = "ФОП Друга"
fixed_time = "2026-03-01T12:00:00+02:00"
"#;

fn serve(config: &str) -> (Result<Served, String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kassa.toml"), format!("listen = \"127.0.0.1:0\"\n{config}")).unwrap();
    let log = dir.path().join("stderr.log");
    let mut command = common::kassa();
    command.args(["serve", "--data-dir"]).arg(dir.path().join("data"));
    command.arg("--config").arg(dir.path().join("kassa.toml")).env("RUST_LOG", "warn");
    command.stderr(std::fs::File::create(&log).unwrap());
    let served = Served::spawn(command, &["api", "ua"])
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()));
    (served, dir)
}

fn start(config: &str) -> (u16, Served, tempfile::TempDir) {
    let (served, dir) = serve(config);
    let served = served.unwrap_or_else(|e| panic!("the Ukrainian front did not start: {e}"));
    (served.port("ua"), served, dir)
}

fn http(port: u16, method: &str, path: &str, body: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost:3939\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    serde_json::from_str(out.split_once("\r\n\r\n").map_or("", |(_, b)| b)).unwrap_or(Value::Null)
}

/// One envelope for `device` (none: no `device` field) on `/dm/execute`.
fn exec(port: u16, device: Option<&str>, tag: &str, fiscal: Value) -> Value {
    let mut env = json!({"ver": 6, "source": "POS1", "tag": tag, "type": 1, "fiscal": fiscal});
    if let Some(d) = device {
        env["device"] = json!(d);
    }
    http(port, "POST", "/dm/execute", &env.to_string())
}

fn ok(a: &Value) -> &Value {
    assert_eq!(a["res"], 0, "{a}");
    &a["info"]
}

/// A number the answers give as a number or as a string.
fn num(v: &Value) -> i64 {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or_else(|| panic!("not a number: {v}"))
}

fn cash_in(sum: i64) -> Value {
    json!({"task": 3, "cashier": "Петренко І.", "cash": {"type": 0, "sum": sum}})
}

#[test]
fn two_prro_keep_their_own_shift_numbers_counters_and_tags() {
    let (port, _served, _dir) = start(TWO_PRRO);
    let info = http(port, "GET", "/dm/api/v1/sys_info", "");
    let fisids: Vec<&str> = info["devices"].as_array().unwrap().iter().map(|d| d["fisid"].as_str().unwrap()).collect();
    assert_eq!(fisids, ["4000000011", "4000000022"]);

    // Opening Каса 1's shift leaves Каса 2's closed.
    let open1 = ok(&exec(port, Some("Каса 1"), "", json!({"task": 0}))).clone();
    assert_eq!(
        (num(&open1["shift_link"]), num(&open1["docno"]), open1["fisid"].clone()),
        (8, 100, json!("4000000011"))
    );
    let st2 = ok(&exec(port, Some("Каса 2"), "", json!({"task": 18}))).clone();
    assert_eq!((st2["shift_status"].clone(), st2["fisid"].clone()), (json!(0), json!("4000000022")));
    assert_eq!(exec(port, Some("Каса 2"), "", cash_in(5))["res"], 4, "Каса 2 has no open shift");
    let open2 = ok(&exec(port, Some("Каса 2"), "", json!({"task": 0}))).clone();
    assert_eq!((num(&open2["shift_link"]), num(&open2["docno"])), (1, 1));

    // The same tag on both: two documents; repeated on Каса 1, Каса 1's document again.
    let a = ok(&exec(port, Some("Каса 1"), "tag-1", cash_in(300))).clone();
    let b = ok(&exec(port, Some("Каса 2"), "tag-1", cash_in(20))).clone();
    assert_eq!((num(&a["docno"]), num(&b["docno"])), (101, 2));
    assert_ne!(a["doccode"], b["doccode"]);
    let again = ok(&exec(port, Some("Каса 1"), "tag-1", cash_in(300))).clone();
    assert_eq!(again["doccode"], a["doccode"]);
    // The device may be named by its fiscal number too.
    let b2 = ok(&exec(port, Some("4000000022"), "", cash_in(1))).clone();
    assert_eq!(num(&b2["docno"]), 3);

    let (s1, s2) = (
        ok(&exec(port, Some("Каса 1"), "", json!({"task": 18}))).clone(),
        ok(&exec(port, Some("Каса 2"), "", json!({"task": 18}))).clone(),
    );
    assert_eq!((s1["safe"].clone(), s2["safe"].clone()), (json!(300), json!(21)));
    // Каса 2's Z closes only its own shift, and counts only its own cash.
    let z = ok(&exec(port, Some("Каса 2"), "", json!({"task": 11}))).clone();
    assert_eq!(z["safe"], json!(21), "{z}");
    let s1 = ok(&exec(port, Some("Каса 1"), "", json!({"task": 18}))).clone();
    assert_eq!((s1["shift_status"].clone(), num(&s1["shift_link"])), (json!(1), 8));
    let next = ok(&exec(port, Some("Каса 1"), "", json!({"task": 21}))).clone();
    assert_eq!(num(&next["next_docno"]), 102);
}

#[test]
fn an_unknown_or_missing_device_is_refused_when_several_prro_serve() {
    let (port, _served, _dir) = start(TWO_PRRO);
    let a = exec(port, Some("Каса 9"), "t", json!({"task": 0}));
    assert_eq!((a["res"].clone(), a["device"].clone(), a["tag"].clone()), (json!(13), json!("Каса 9"), json!("t")));
    let text = a["errortxt"].as_str().unwrap();
    assert!(text.contains("Каса 9") && text.contains("Каса 1") && text.contains("Каса 2"), "{text}");
    assert_eq!(exec(port, None, "", json!({"task": 18}))["res"], 13);
    // Nothing was made on either: both shifts are still closed.
    for d in ["Каса 1", "Каса 2"] {
        assert_eq!(ok(&exec(port, Some(d), "", json!({"task": 18})))["shift_status"], 0);
    }
}

#[test]
fn the_single_table_form_still_takes_any_device_name() {
    let (port, _served, _dir) =
        start("[ua]\nlisten = \"127.0.0.1:0\"\n[ua.prro]\nfisid = \"4000000033\"\ndevice = \"PRRO1\"\n");
    let a = ok(&exec(port, Some("kasar"), "", json!({"task": 0}))).clone();
    assert_eq!(a["fisid"], "4000000033");
    assert_eq!(ok(&exec(port, None, "", json!({"task": 18})))["shift_status"], 1);
}

#[test]
fn a_fiscal_number_or_device_name_given_twice_stops_the_start() {
    let twice = |a: &str, b: &str| format!("[ua]\nlisten = \"127.0.0.1:0\"\n[[ua.prro]]\n{a}\n[[ua.prro]]\n{b}\n");
    let (served, _dir) =
        serve(&twice("fisid = \"4000000044\"\ndevice = \"A\"", "fisid = \"4000000044\"\ndevice = \"B\""));
    let err = served.err().expect("one fisid twice must not start");
    assert!(err.contains("ua.prro: the fiscal number (fisid) \"4000000044\" is given to two ПРРО"), "{err}");
    let (served, _dir) =
        serve(&twice("fisid = \"4000000055\"\ndevice = \"A\"", "fisid = \"4000000066\"\ndevice = \"A\""));
    let err = served.err().expect("one device name twice must not start");
    assert!(err.contains("ua.prro: the device name \"A\" is given to two ПРРО"), "{err}");
    let (served, _dir) = serve(&twice(
        "fisid = \"4000000055\"\ndevice = \"A\"\ntoken = \"secret-77\"",
        "fisid = \"4000000066\"\ndevice = \"B\"\ntoken = \"secret-77\"",
    ));
    let err = served.err().expect("one token on two registers must not start");
    assert!(err.contains("ua.prro: two ПРРО have the same token"), "{err}");
    assert!(!err.contains("secret-77"), "the token is not shown: {err}");
}

#[test]
fn the_readme_two_prro_example_serves_both() {
    let section = common::readme_section("Ukraine");
    let example = common::code_blocks(&section, "```toml").into_iter().find(|b| b.contains("[[ua.prro]]"));
    let example = example.expect("README's Ukraine section has a [[ua.prro]] example");
    let (port, _served, _dir) = start(&format!("[ua]\nlisten = \"127.0.0.1:0\"\n{example}"));
    assert_eq!(ok(&exec(port, Some("Каса 1"), "", json!({"task": 18})))["fisid"], "4000123456");
    let kasa2 = json!({"ver": 6, "device": "Каса 2", "token": "kasa2-token", "type": 1, "fiscal": {"task": 18}});
    assert_eq!(ok(&http(port, "POST", "/dm/execute", &kasa2.to_string()))["fisid"], "4000123457");
}

#[test]
fn a_register_with_its_own_token_takes_only_it_and_is_found_by_it() {
    let config = "[ua]\nlisten = \"127.0.0.1:0\"\ntoken = \"dm-token\"\n\
        [[ua.prro]]\nfisid = \"4000000077\"\ndevice = \"Каса 1\"\n\
        [[ua.prro]]\nfisid = \"4000000088\"\ndevice = \"Каса 2\"\ntoken = \"kasa2-token\"\n";
    let (port, _served, _dir) = start(config);
    let status = |device: Option<&str>, token: &str| {
        let mut env = json!({"ver": 6, "source": "POS1", "tag": "", "type": 1, "token": token, "fiscal": {"task": 18}});
        if let Some(d) = device {
            env["device"] = json!(d);
        }
        http(port, "POST", "/dm/execute", &env.to_string())
    };
    // Каса 1 has none of its own: the DM's token. Каса 2 takes only its own.
    assert_eq!(ok(&status(Some("Каса 1"), "dm-token"))["fisid"], "4000000077");
    assert_eq!(status(Some("Каса 2"), "dm-token")["res"], 8);
    assert_eq!(status(Some("Каса 1"), "kasa2-token")["res"], 8);
    assert_eq!(ok(&status(Some("Каса 2"), "kasa2-token"))["fisid"], "4000000088");
    // A wrong token learns no device names; a register's own token needs no device (the cloud path).
    let a = status(Some("Каса 9"), "guess");
    assert_eq!(a["res"], 8);
    assert!(!a["errortxt"].as_str().unwrap().contains("Каса 1"), "{a}");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = json!({"fiscal": {"task": 18}}).to_string();
    write!(
        s,
        "POST /api/v3/fiscal/execute HTTP/1.1\r\nHost: localhost:3939\r\nAuthorization: kasa2-token\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let a: Value = serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(ok(&a)["fisid"], "4000000088");
}
