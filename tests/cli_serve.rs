//! The `kassa` binary itself: documented options, a config file, graceful SIGTERM, and no PIN in the log.
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn kassa() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kassa"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn post(port: u16, method: &str, pin: &str, body: &str) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /{method} HTTP/1.1\r\nHost: x\r\nAuthorization: {pin}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn wait_for_ping(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && post(port, "Ping", "", "").contains("\"ok\"") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not answer Ping");
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
    let port = free_port();
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\nadmin_pin = \"file-pin-1\"\n")).unwrap();
    let admin_pin = "Zq81-env-secret";
    let mut child = kassa()
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&config)
        .env("KASSA_ADMIN_PIN", admin_pin)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_ping(port);
    // The environment wins over the file.
    assert!(post(port, "GetOperatorList", admin_pin, "{}").contains("\"response_code\":0"));
    assert!(post(port, "GetOperatorList", "file-pin-1", "{}").contains("\"response_code\":5"));
    assert!(post(port, "GetOperatorList", "Bearer Wr0ng-guess-77", "{}").contains("\"response_code\":5"));
    let body = r#"{"name":"C","access_pin":"New-cashier-pin-42","role":3}"#;
    assert!(post(port, "SaveOperator", admin_pin, body).contains("\"response_code\":0"));

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
    let mut log = String::new();
    child.stdout.take().unwrap().read_to_string(&mut log).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
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
