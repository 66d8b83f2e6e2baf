//! The `kassa` binary itself: documented options, a config file, graceful SIGTERM, and no PIN in the log.
use crate::common;

use common::{Served, kassa};
use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

fn post(port: u16, method: &str, pin: &str, body: &str) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /{method} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {pin}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn help_documents_every_serve_option() {
    let out = kassa().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--listen", "--data-dir", "--config", "127.0.0.1:8080", "./kassa-data"] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
    let out = kassa().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("serve"));
}

#[test]
fn serves_from_a_config_file_stops_on_sigterm_and_never_logs_pins() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    // The file's own listen address, port 0: the server prints the port it got.
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nadmin_pin = \"file-pin-1\"\n").unwrap();
    let admin_pin = "Zq81-env-secret";
    let log_path = dir.path().join("stderr.log");
    let mut command = kassa();
    command.args(["serve", "--data-dir"]).arg(dir.path().join("data")).arg("--config").arg(&config);
    command.env("KASSA_ADMIN_PIN", admin_pin).env("RUST_LOG", "trace");
    command.stderr(std::fs::File::create(&log_path).unwrap());
    // It says where each listener is: the API and the built-in OFD emulator, both on ports it picked.
    let mut server = Served::spawn(command, &["api", "ofd-emulator"]).expect("kassa serve starts");
    assert_ne!(server.port("ofd-emulator"), server.port("api"));
    let port = server.port("api");
    // The environment wins over the file.
    assert!(post(port, "GetOperatorList", admin_pin, "{}").contains("\"response_code\":0"));
    assert!(post(port, "GetOperatorList", "file-pin-1", "{}").contains("\"response_code\":5"));
    assert!(post(port, "GetOperatorList", "Bearer Wr0ng-guess-77", "{}").contains("\"response_code\":5"));
    let body = r#"{"name":"C","access_pin":"New-cashier-pin-42","role":3}"#;
    assert!(post(port, "SaveOperator", admin_pin, body).contains("\"response_code\":0"));

    let child = &mut server.child;
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful exit, got {exit}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("kassa serving"), "the log is there: {log}");
    for secret in [admin_pin, "file-pin-1", "Wr0ng-guess-77", "New-cashier-pin-42"] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
}

#[test]
fn a_broken_config_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "lisen = 1\n").unwrap();
    let out = kassa().args(["serve", "--config"]).arg(&config).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("lisen"), "{err}");
}
