//! PIN guessing as a local attacker does it, through the real binary: concurrent bursts that must not get
//! more PINs checked than the throttle allows, and a burst from the till's own address that must not lock
//! out the cashier at a terminal Kassa knows, before and after a restart. The Kazakh PIN and the
//! Belarusian СКО's PIN alike; and demo PINs in use are warned about at start.
use crate::trust_support;

use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use trust_support::{Kassa, SKO_PIN, by_message, frame, http, kz};

const ADMIN: &str = "0000";
const CASHIER_PIN: &str = "4821";
/// The POS app at the till: what it sends on every request, unchanged.
const TILL: &str = "KassaPOS/3.2 (till 1)";
const ATTACKER: &str = "curl/8.5.0";

/// `GetOperatorList` from `from` (an address in 127.0.0.0/8) with `agent` as User-Agent: the code and the
/// error's text.
fn login_from(port: u16, from: Ipv4Addr, agent: &str, pin: &str) -> (u64, String) {
    try_login_from(port, from, agent, pin).unwrap_or_else(|e| panic!("{agent} {pin}: {e}"))
}

/// [`login_from`]; a connection the server closed without an answer (it sheds connections waiting at its
/// cap) is an error.
fn try_login_from(port: u16, from: Ipv4Addr, agent: &str, pin: &str) -> Result<(u64, String), String> {
    use std::io::{Read, Write};
    let mut c = connect_from(from, port);
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = "{}";
    write!(
        c,
        "POST /GetOperatorList HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {agent}\r\nAuthorization: {pin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    c.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let answer = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    let v: Value = serde_json::from_str(&answer).map_err(|e| format!("{e}: {out}"))?;
    Ok((v["response_code"].as_u64().unwrap_or(u64::MAX), v.get("message").map(|m| m.to_string()).unwrap_or_default()))
}

/// A TCP connection to 127.0.0.1:`port` from the local address `from` (std cannot bind a client socket
/// before connecting; tokio's `TcpSocket` can).
fn connect_from(from: Ipv4Addr, port: u16) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
        socket.connect(SocketAddr::from(([127, 0, 0, 1], port))).await.unwrap().into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
}

const LOCAL: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn is_checked(text: &str) -> bool {
    text.ends_with("неверный PIN\"")
}

/// Fires `n` requests at once, each on its own thread and connection; their answers.
fn burst<T: Send + 'static>(n: usize, each: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let _turn = trust_support::many_sockets();
    let gate = Arc::new(Barrier::new(n));
    let each = Arc::new(each);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (gate, each) = (gate.clone(), each.clone());
            std::thread::spawn(move || {
                gate.wait();
                each(i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn add_cashier(k: &Kassa) {
    let v = kz(k.api(), "SaveOperator", ADMIN, &[], &json!({"name": "Айгерім", "access_pin": CASHIER_PIN, "role": 3}));
    assert_eq!(v["response_code"], 0, "{v}");
}

#[test]
fn two_hundred_concurrent_wrong_pins_get_no_more_checks_than_the_throttle_allows() {
    let k = Kassa::start("");
    let port = k.api();
    let answers = burst(200, move |i| login_from(port, LOCAL, ATTACKER, &format!("{:04}", 1000 + i)));
    let checked = answers.iter().filter(|(_, t)| is_checked(t)).count();
    assert!(answers.iter().all(|(code, _)| *code == 5), "{answers:?}");
    println!("200 concurrent guesses from one address: {checked} checked");
    assert!(checked <= 5, "{checked} PINs were checked; the throttle allows 5 (auth.max_failures)");
}

#[test]
fn an_insider_with_warmed_addresses_gets_no_more_checks_than_the_server_budget() {
    let k = Kassa::start("");
    add_cashier(&k);
    let port = k.api();
    // The insider knows one cashier's PIN and logs in with it from 64 addresses first.
    for n in 0..64u8 {
        assert_eq!(login_from(port, Ipv4Addr::new(127, 0, 9, n + 1), ATTACKER, CASHIER_PIN).0, 0);
    }
    // Then 512 guesses at once, 8 from each warmed address.
    let answers = burst(512, move |i| {
        try_login_from(port, Ipv4Addr::new(127, 0, 9, (i % 64) as u8 + 1), ATTACKER, &format!("{:04}", 5000 + i))
    });
    // At its connection cap (512) the server sheds connections still waiting for their check.
    let answers: Vec<(u64, String)> = answers.into_iter().flatten().collect();
    let checked = answers.iter().filter(|(_, t)| is_checked(t)).count();
    println!("512 concurrent guesses from 64 warmed addresses: {} answered, {checked} checked", answers.len());
    assert!(answers.iter().all(|(code, _)| *code == 5), "no guess got in");
    assert!(checked <= 10, "{checked} PINs were checked; the server-wide budget is 10 a minute");
}

#[test]
fn the_cashier_at_a_known_terminal_gets_in_while_a_process_on_the_same_address_guesses_and_after_a_restart() {
    let mut k = Kassa::start("");
    add_cashier(&k);
    // The till logs in once: from now on Kassa knows this terminal and this cashier.
    assert_eq!(login_from(k.api(), LOCAL, TILL, CASHIER_PIN).0, 0);
    for round in ["before a restart", "after a restart"] {
        let port = k.api();
        // A process on the same machine guesses: 40 wrong PINs from 127.0.0.1 as fast as it can, each under
        // another app name, so no lockout of one client stops it.
        let answers =
            burst(40, move |i| login_from(port, LOCAL, &format!("{ATTACKER} ({i})"), &format!("{:04}", 7000 + i)));
        let checked = answers.iter().filter(|(_, t)| is_checked(t)).count();
        assert!(checked <= 10, "{round}: {checked} guesses checked");
        // It stays slowed: the next guesses are refused without a check, the right PIN too.
        for (n, pin) in ["7777", CASHIER_PIN, ADMIN].into_iter().enumerate() {
            let (code, text) = login_from(port, LOCAL, &format!("{ATTACKER} ({})", 100 + n), pin);
            assert_eq!(code, 5, "{round}: the guesser got in with {pin}");
            assert!(!is_checked(&text), "{round}: a PIN was checked during the pause: {text}");
        }
        // The cashier at the till types the right PIN: in.
        let (code, text) = login_from(port, LOCAL, TILL, CASHIER_PIN);
        assert_eq!(code, 0, "{round}: the cashier was locked out: {text}");
        // A terminal Kassa has not seen before waits for the pause, like the guesser.
        let (code, _) = login_from(port, LOCAL, "KassaPOS/3.2 (till 2)", CASHIER_PIN);
        assert_eq!(code, 5, "{round}: an unknown terminal got in during the pause");
        if round == "before a restart" {
            k.restart();
        }
    }
    // Pretending to be the known terminal does not buy guesses: only the PIN it was known with is
    // checked (the administrator's right PIN is refused like a wrong one).
    let port = k.api();
    for pin in ["1111", ADMIN] {
        let (code, text) = login_from(port, LOCAL, TILL, pin);
        assert_eq!(code, 5, "{pin}: {text}");
        assert!(!is_checked(&text), "pretending to be the till got {pin} checked: {text}");
    }
}

fn by_send(port: u16, agent: &str, msg: &Value) -> Value {
    http(port, "POST", "/", &[("User-Agent", agent), ("Content-Type", "application/json")], msg.to_string().as_bytes())
        .json()
}

fn authorize(pin: &str) -> Value {
    by_message("ik.service.token.authority", "authorize", json!({"pin": pin}))
}

fn code(answer: &Value) -> String {
    answer["data"]["code"].as_str().unwrap_or("").to_owned()
}

#[test]
fn two_hundred_concurrent_wrong_sko_pins_get_no_more_checks_than_the_throttle_allows() {
    let k = Kassa::start("");
    let port = k.by_http();
    let answers = burst(200, move |i| by_send(port, ATTACKER, &authorize(&format!("{:08}", 10_000_000 + i))));
    let checked = answers.iter().filter(|a| code(a) == "KASSA_BAD_PIN").count();
    assert!(answers.iter().all(|a| a["type"] == "error"), "{answers:?}");
    println!("200 concurrent СКО PIN guesses: {checked} checked");
    assert!(checked <= 5, "{checked} СКО PINs were checked; the throttle allows 5");
}

#[test]
fn the_cashier_authorises_the_sko_while_a_local_process_logs_it_out_and_guesses_and_after_a_restart() {
    let mut k = Kassa::start("");
    // The till authorises the СКО once over HTTP: Kassa knows this terminal from now on.
    assert_eq!(by_send(k.by_http(), TILL, &authorize(SKO_PIN))["type"], "send");
    for round in ["before a restart", "after a restart"] {
        // A local process logs the СКО out and guesses its PIN over framed TCP, and over HTTP.
        let mut tcp = TcpStream::connect(("127.0.0.1", k.by_tcp())).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        assert_eq!(frame(&mut tcp, &by_message("ik.service.token.authority", "logout", json!({})))["type"], "send");
        let mut checked = 0;
        for i in 0..20 {
            let answer = frame(&mut tcp, &authorize(&format!("{:08}", 30_000_000 + i)));
            checked += usize::from(code(&answer) == "KASSA_BAD_PIN");
        }
        let port = k.by_http();
        let answers = burst(20, move |i| by_send(port, ATTACKER, &authorize(&format!("{:08}", 40_000_000 + i))));
        checked += answers.iter().filter(|a| code(a) == "KASSA_BAD_PIN").count();
        assert!(checked <= 10, "{round}: {checked} guesses checked");
        // The guesser stays slowed, even with the right PIN.
        assert_eq!(code(&frame(&mut tcp, &authorize(SKO_PIN))), "KASSA_PIN_PAUSED", "{round}");
        // The cashier's till authorises the СКО again and opens a shift.
        let answer = by_send(k.by_http(), TILL, &authorize(SKO_PIN));
        assert_eq!(answer["type"], "send", "{round}: the cashier was locked out: {answer}");
        if round == "before a restart" {
            k.restart();
        }
    }
}

#[test]
fn demo_pins_in_use_are_warned_about_at_start() {
    // Out of the box: the administrator's 0000 and the СКО's 12345678.
    let k = Kassa::start("[by.sko]\nconnected = true");
    let log = k.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("demo PIN")).collect();
    assert!(lines.iter().any(|l| l.contains("0000") || l.contains("administrator")), "{log}");
    assert!(lines.iter().any(|l| l.contains("СКО")), "{log}");
    // One plain line each on stderr beside the log's warning.
    assert!(lines.iter().any(|l| l.starts_with("kassa: ")), "{log}");
    assert!(lines.iter().any(|l| l.contains("WARN")), "{log}");

    // With both changed, nothing is said.
    let k = Kassa::start("admin_pin = \"Strong-93a\"\n[by.sko]\npin = \"55119900\"");
    assert!(!k.log().contains("demo PIN"), "{}", k.log());
    // Changing the administrator's PIN later through the API is noticed at the next start.
    let mut k = Kassa::start("[by.sko]\npin = \"55119900\"");
    let v = kz(k.api(), "GetOperatorList", ADMIN, &[], &json!({}));
    let id = v["response_data"][0]["ID"].clone();
    assert!(id.is_number(), "{v}");
    let v = kz(
        k.api(),
        "SaveOperator",
        ADMIN,
        &[],
        &json!({"id": id, "name": "Administrator", "access_pin": "Another-771", "role": 1}),
    );
    assert_eq!(v["response_code"], 0, "{v}");
    let before = k.log().len();
    k.restart();
    assert!(!k.log()[before..].contains("demo PIN"), "{}", &k.log()[before..]);
}
