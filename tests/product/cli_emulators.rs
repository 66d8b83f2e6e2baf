//! The emulators README promises, run as the binary: `kassa ofd-emulator --admin` opens its fault-injection
//! port, and `kassa printer-emulator` runs without a terminal, taking its commands on `--admin`.
use crate::common;
use crate::ofd_support;

use common::kassa;
use kassa::country::kz::ofd::client::Credentials;
use kassa::country::kz::ofd::proto::OperationTypeEnum;
use kassa::country::kz::ofd::result::ResultClass;
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

#[test]
fn printer_emulator_stays_up_without_stdin_or_admin_and_saves_a_cutterless_receipt_with_its_raster_text() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut child = kassa()
        .args(["printer-emulator", "--tcp", "127.0.0.1:0", "--profile", "generic-58", "--out"])
        .arg(out.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut running = Running(child);
    let tcp = stdout.next().expect("a line").expect("utf-8").strip_prefix("tcp ").expect("tcp line").to_owned();
    // As under a service manager: stdin closed from the start and no --admin port; it must stay up.
    std::thread::sleep(Duration::from_millis(500));
    assert!(running.0.try_wait().expect("wait").is_none(), "still running with stdin closed and no --admin");

    // The Kazakh ticket for a 58 mm CP866 printer without a cutter or downloaded glyphs: Kazakh lines go as
    // raster, and the receipt ends with a feed past the tear bar, not a cut.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/fixtures/ticket_20_items_kk.json")).expect("fixture"),
    )
    .expect("JSON");
    let opts = kassa::render::RenderOptions {
        profile: kassa::render::PrinterProfile {
            user_defined_chars: false,
            cutter: false,
            ..kassa::render::PrinterProfile::generic_58mm()
        },
        lang: "kk".into(),
        ..Default::default()
    };
    let bytes = kassa::render::Renderer::new(Default::default())
        .render(kassa::render::TemplateKey::TICKET, &doc, &opts, kassa::render::Format::EscPos)
        .expect("render")
        .bytes;
    assert!(!bytes.windows(2).any(|w| w == [0x1D, b'V']), "no cut: the printer has no cutter");
    assert!(bytes.windows(2).any(|w| w == [0x1D, b'v']), "Kazakh lines as raster");
    let mut printer = TcpStream::connect(&tcp).expect("printer port");
    printer.write_all(&bytes).expect("print");
    drop(printer); // the host closes the link, as the spooler does when its queue is empty

    let text = out.path().join("0001.txt");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(text.exists() && out.path().join("0001.escpos").exists()) {
        assert!(Instant::now() < deadline, "the cutter-less receipt was never saved as a job");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let saved = std::fs::read_to_string(&text).expect("text");
    for raster_line in ["Қымыз 0,5 л", "Ірімшік үйдің", "Шұбат 1 л"] {
        assert!(saved.contains(raster_line), "{raster_line:?} (sent as raster) is in the .txt:\n{saved}");
    }
    assert_eq!(std::fs::read(out.path().join("0001.escpos")).expect("bytes"), bytes, "the whole receipt is one job");
}
