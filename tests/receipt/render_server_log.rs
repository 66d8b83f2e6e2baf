//! The real `kassa serve` (which logs to standard error) with a broken override template: the receipt still prints with the built-in
//! template, and the log carries the same diagnostic the command line gives: file, line, column and the
//! offending text.
use crate::common;

use common::Served;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

fn post(port: u16, method: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "POST /{method} HTTP/1.1\r\nHost: localhost\r\nAuthorization: 0000\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn the_server_falls_back_and_logs_the_templates_own_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).expect("mkdir");
    std::fs::write(templates.join("ticket.j2"), "@center: МОЙ ЧЕК\n\n@center blnk: {{ fiscal_id }}\n@cut\n")
        .expect("write");
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path());
    command.env("KASSA_ADMIN_PIN", "0000").env("RUST_LOG", "warn").stderr(Stdio::piped());
    let mut server = Served::spawn(command, &["api"]).expect("kassa serve starts");
    let port = server.port("api");
    let kkm = r#"{"local_name": "Test_6923", "ofd_id": 6923, "ofd_token": 59359406, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A",
        "use_software_vpn": false, "auto_withdraw_money": false, "bindings": [],
        "vat_certificate": {"series": "", "number": "", "is_printable": false}}"#;
    assert!(post(port, "SaveKKM", kkm).contains("\"response_code\":0"));
    let sale = r#"{"kkm_ofd_id": 6923, "operation": 2, "is_printable": false,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 450, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": 450}], "amounts": {"total": 450}}"#;
    let answer = post(port, "TradeOperation", sale);
    assert!(answer.contains("\"response_code\":0"), "{answer}");
    let rendered = post(
        port,
        "RenderDocument",
        r#"{"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 1, "format": "txt"}"#,
    );
    assert!(rendered.contains("\"response_code\":0"), "{rendered}");
    assert!(!rendered.contains("МОЙ ЧЕК") && !rendered.contains("blnk"), "the built-in template printed: {rendered}");
    assert!(rendered.contains("ИТОГО"), "{rendered}");

    // SIGTERM for a graceful stop, then read everything it logged.
    let child = &mut server.child;
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let mut log = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut log).expect("log");
    let _ = child.wait();
    assert!(log.contains("ticket.j2:3:9") && log.contains("blnk"), "the log names the template line:\n{log}");
}
