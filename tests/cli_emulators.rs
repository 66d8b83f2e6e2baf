//! The emulators README promises, run as the binary: `kassa ofd-emulator --admin` opens its fault-injection
//! port, and `kassa printer-emulator` runs without a terminal, taking its commands on `--admin`.
mod common;
mod ofd_support;

use common::kassa;
use kassa::ofd::client::Credentials;
use kassa::ofd::proto::OperationTypeEnum;
use kassa::ofd::result::ResultClass;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends one admin line and reads the one-line answer.
fn ask(conn: &mut (TcpStream, BufReader<TcpStream>), line: &str) -> String {
    writeln!(conn.0, "{line}").expect("send");
    let mut answer = String::new();
    conn.1.read_line(&mut answer).expect("answer");
    answer.trim_end().to_owned()
}

fn connect(addr: &str) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(addr).expect("connect admin");
    let reader = BufReader::new(stream.try_clone().expect("clone"));
    (stream, reader)
}

#[tokio::test]
async fn ofd_emulator_admin_port_injects_faults() {
    // Both on port 0: the emulator prints `listening ofd <address>` and `listening admin <address>`.
    let mut command = kassa();
    command.args(["ofd-emulator", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    command.stdin(Stdio::null()).stderr(Stdio::null());
    let running = common::Served::spawn(command, &["ofd", "admin"]).expect("the OFD emulator starts");
    let (ofd, admin) = (running.addr("ofd").to_string(), running.addr("admin").to_string());
    let mut conn = connect(&admin);
    assert_eq!(ask(&mut conn, "fault drop-after 1"), "ok");
    assert_eq!(ask(&mut conn, "rotation off"), "ok");
    assert!(ask(&mut conn, "fault explode").starts_with("error: unknown command"));

    let client = ofd_support::client(ofd.parse().expect("addr"), Duration::from_secs(5));
    let creds = Credentials { id: 77, token: 1234, reqnum: 1 };
    let reply = client
        .exchange(creds, &ofd_support::ticket(OperationTypeEnum::OperationSell, 5_000, 5_000))
        .await
        .expect("ticket");
    assert_eq!((reply.class, reply.attempts), (ResultClass::Ok, 2), "the dropped answer was resent once");
    let accepted: serde_json::Value = serde_json::from_str(&ask(&mut conn, "accepted 77")).expect("JSON");
    assert_eq!(accepted.as_array().map(Vec::len), Some(1), "accepted exactly once");
}

#[test]
fn printer_emulator_runs_without_a_terminal_and_takes_admin_commands() {
    let mut child = kassa()
        .args(["printer-emulator", "--tcp", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut running = Running(child);
    let mut next = || stdout.next().expect("a line").expect("utf-8");
    let tcp = next().strip_prefix("tcp ").expect("tcp line").to_owned();
    let admin = next().strip_prefix("admin ").expect("admin line").to_owned();

    // stdin is closed from the start; the emulator keeps running.
    std::thread::sleep(Duration::from_millis(300));
    assert!(running.0.try_wait().expect("wait").is_none(), "still running with stdin closed");

    let mut conn = connect(&admin);
    assert!(ask(&mut conn, "paper-out").contains("paper_out: true"));
    let mut printer = TcpStream::connect(&tcp).expect("printer port");
    printer.write_all(b"\x1b@HELLO\n\x1dV\x00").expect("print");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = ask(&mut conn, "stats");
        assert!(stats.starts_with("jobs "), "{stats}");
        if stats.contains("cuts 1") {
            break;
        }
        assert!(Instant::now() < deadline, "the job never arrived: {stats}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ask(&mut conn, "frobnicate").starts_with("unknown command"));
    assert_eq!(ask(&mut conn, "quit"), "bye");
    let status = running.0.wait().expect("exit");
    assert!(status.success());
}

#[test]
fn help_lists_the_printer_emulator_commands() {
    let out = kassa().args(["printer-emulator", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["paper-out", "cover-open", "offline", "drop <bytes>", "stats", "quit", "--admin"] {
        assert!(help.contains(command), "{command} in --help:\n{help}");
    }
}
