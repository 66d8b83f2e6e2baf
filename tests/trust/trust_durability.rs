//! Acknowledged sales survive what careless and hostile hands do to the data folder, through the real
//! binary: a backup taken while the server sells (`kassa backup`) restores into a new folder with every
//! sale (`kassa restore`); a write-ahead log deleted under a running server loses nothing, and one lost
//! while it was down stops the next start with the way out; a journal row changed behind Kassa's back is
//! named by `kassa check`.
use crate::common;

use common::Served;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ADMIN: &str = "0000";

/// `kassa serve` over `data` with the Ukrainian front on too; standard error into `<data>.log`.
fn serve(data: &Path) -> Served {
    let config = data.with_extension("toml");
    std::fs::write(&config, "[ua]\nlisten = \"127.0.0.1:0\"\n[ua.prro]\nfisid = \"4000123456\"\n").unwrap();
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data).arg("--config").arg(&config);
    command.stderr(std::fs::OpenOptions::new().create(true).append(true).open(log_of(data)).unwrap());
    Served::spawn(command, &["api", "ua"]).unwrap_or_else(|e| {
        panic!("kassa did not start: {e}\n{}", std::fs::read_to_string(log_of(data)).unwrap_or_default())
    })
}

fn log_of(data: &Path) -> PathBuf {
    data.with_extension("log")
}

fn post(port: u16, path: &str, pin: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {pin}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    serde_json::from_str(out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")).unwrap()
}

fn ok(port: u16, method: &str, body: Value) -> Value {
    let a = post(port, &format!("/{method}"), ADMIN, &body);
    assert_eq!(a["response_code"], 0, "{method}: {a}");
    a["response_data"].clone()
}

fn sale(price: i64) -> Value {
    json!({"kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": price,
            "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": price}], "amounts": {"total": price}})
}

/// A KKM, a cashier and `n` sales; the sales' fiscal signs.
fn shop(port: u16, n: usize) -> Vec<String> {
    ok(port, "SaveKKM", json!({"ofd_id": 6923, "ofd_token": 59359406, "local_name": "Касса 1"}));
    ok(port, "SaveOperator", json!({"name": "Айгерім", "access_pin": "5555", "role": 3, "bindings": [1]}));
    sell(port, n, 100)
}

fn sell(port: u16, n: usize, from_price: i64) -> Vec<String> {
    (0..n)
        .map(|i| ok(port, "TradeOperation", sale(from_price + i as i64))["fiscal_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The fiscal signs of the journal of KKM 6923.
fn journal(port: u16) -> Vec<String> {
    let list = ok(port, "GetTransactionList", json!({"kkm_ofd_id": 6923, "command_type_list": [1]}));
    list.as_array().unwrap().iter().map(|d| d["body"]["fiscal_id"].as_str().unwrap_or("").to_owned()).collect()
}

/// Runs a maintenance command of the binary (60 s at most); returns (success, stdout + stderr).
fn kassa(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let mut child = common::kassa()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kassa {args:?} ran longer than 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// A start that must be refused (bounded: a server that starts anyway fails the test); its standard error.
fn refused(data: &Path) -> String {
    let _ = std::fs::remove_file(log_of(data));
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data);
    command.stderr(std::fs::File::create(log_of(data)).unwrap());
    if let Ok(started) = Served::spawn(command, &["api"]) {
        drop(started);
        panic!("the start was not refused: {}", std::fs::read_to_string(log_of(data)).unwrap_or_default());
    }
    std::fs::read_to_string(log_of(data)).unwrap()
}

fn kill(mut served: Served) {
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}

#[test]
fn a_backup_taken_while_selling_restores_every_acknowledged_sale_into_a_new_folder() {
    if common::sqlite_only("kassa backup and restore copy kassa.db") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let port = server.port("api");
    let sold = shop(port, 50);
    // More sales go on while the backup runs.
    let selling = std::thread::spawn(move || sell(port, 20, 500));
    let backup = dir.path().join("backup-1");
    let (done, said) = kassa(&[os("backup"), backup.as_os_str(), os("--data-dir"), data.as_os_str()]);
    assert!(done, "{said}");
    assert!(said.contains("backed up") && said.contains("KKMs"), "{said}");
    selling.join().unwrap();
    // A backup never overwrites another one.
    let (again, said) = kassa(&[os("backup"), backup.as_os_str(), os("--data-dir"), data.as_os_str()]);
    assert!(!again && said.contains("already holds"), "{said}");
    // A folder whose server runs is never restored into.
    let (over, said) = kassa(&[os("restore"), backup.as_os_str(), os("--data-dir"), data.as_os_str()]);
    assert!(!over && said.contains("in use"), "{said}");
    assert_eq!(journal(port).len(), 70, "the running server was left alone");

    let restored = dir.path().join("restored");
    let (done, said) = kassa(&[os("restore"), backup.as_os_str(), os("--data-dir"), restored.as_os_str()]);
    assert!(done, "{said}");
    let copy = serve(&restored);
    let copy_port = copy.port("api");
    let kkms = ok(copy_port, "GetKKMList", json!({}));
    assert_eq!(kkms[0]["ofd_id"], 6923, "{kkms}");
    let operators = ok(copy_port, "GetOperatorList", json!({}));
    let names: Vec<&str> = operators.as_array().unwrap().iter().filter_map(|o| o["name"].as_str()).collect();
    assert!(names.contains(&"Айгерім"), "{names:?}");
    let kept = journal(copy_port);
    for fiscal_id in &sold {
        assert!(kept.contains(fiscal_id), "sale {fiscal_id} is in the restored journal");
    }
    // The restored folder sells, with its PINs (pin.key came with it).
    let cashier = post(copy_port, "/TradeOperation", "5555", &sale(42));
    assert_eq!(cashier["response_code"], 0, "{cashier}");
    kill(copy);
    kill(server);
}

#[test]
fn a_log_deleted_under_a_running_server_is_saved_at_once() {
    if common::sqlite_only("SQLite's write-ahead log") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let port = server.port("api");
    let sold = shop(port, 60);
    std::fs::remove_file(data.join("kassa.db-wal")).unwrap();
    // The server notices within seconds, idle as it is, and copies the log into kassa.db.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !std::fs::read_to_string(log_of(&data)).unwrap().contains("WRITE-AHEAD LOG WAS DELETED") {
        assert!(Instant::now() < deadline, "not noticed: {}", std::fs::read_to_string(log_of(&data)).unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
    let later = sell(port, 1, 900);
    // A crash right after: nothing acknowledged is lost, before or after the log was deleted.
    kill(server);
    let again = serve(&data);
    let kept = journal(again.port("api"));
    for fiscal_id in sold.iter().chain(&later) {
        assert!(kept.contains(fiscal_id), "sale {fiscal_id} survived");
    }
    kill(again);
}

#[test]
fn a_log_lost_while_the_server_was_down_stops_the_start_with_the_way_out() {
    if common::sqlite_only("SQLite's write-ahead log and kassa.mark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let port = server.port("api");
    let first = shop(port, 30);
    let backup = dir.path().join("backup");
    let (done, said) = kassa(&[os("backup"), backup.as_os_str(), os("--data-dir"), data.as_os_str()]);
    assert!(done, "{said}");
    sell(port, 30, 700);
    // A crash leaves the last sales in the log only; then the log is lost.
    kill(server);
    std::fs::remove_file(data.join("kassa.db-wal")).unwrap();
    let alone = rusqlite::Connection::open_with_flags(
        format!("file:{}?immutable=1", data.join("kassa.db").display()),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let in_file: i64 = alone.query_row("SELECT count(*) FROM documents", [], |r| r.get(0)).unwrap_or(0);
    drop(alone);
    assert!(in_file < 60, "the premise: the file alone lacks sales that were only in the log ({in_file})");
    let err = refused(&data);
    assert!(err.contains("missing committed writes") && err.contains("kassa.db-wal"), "{err}");
    assert!(err.contains("kassa restore") && err.contains("kassa.mark"), "{err}");
    // Refused again and again, never a fresh install or a shorter journal.
    assert!(refused(&data).contains("missing committed writes"));
    // The way out it names: the last backup.
    let (done, said) = kassa(&[os("restore"), backup.as_os_str(), os("--data-dir"), data.as_os_str()]);
    assert!(done, "{said}");
    assert!(said.contains("before-restore"), "the replaced files are kept: {said}");
    let restored = serve(&data);
    assert_eq!(journal(restored.port("api")), first);
    kill(restored);
}

#[test]
fn kassa_check_names_a_journal_row_changed_behind_kassas_back() {
    if common::sqlite_only("kassa check reads kassa.db") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    shop(server.port("api"), 5);
    let ua = server.port("ua");
    let dm = |fiscal: Value| {
        post(
            ua,
            "/dm/execute",
            "",
            &json!({"ver": 6, "source": "POS1", "device": "Каса 1", "tag": "", "type": 1, "fiscal": fiscal}),
        )
    };
    assert_eq!(dm(json!({"task": 0, "cashier": "Петренко І."}))["res"], 0);
    for sum in [100, 200, 300] {
        assert_eq!(dm(json!({"task": 3, "cash": {"type": 0, "sum": sum}}))["res"], 0);
    }
    // While the server runs, and after it stopped: every check passes and says what it covered.
    let check = || kassa(&[os("check"), os("--data-dir"), data.as_os_str()]);
    let (clean, said) = check();
    assert!(clean, "{said}");
    // Kazakh documents are on the ledger since migration 0015: 5 of them, then the 4 Ukrainian ones.
    for covered in ["integrity_check", "ledger_documents: 9 documents", "commit mark", "pin.key"] {
        assert!(said.contains(covered), "{covered:?} in {said}");
    }
    kill(server);
    let db = data.join("kassa.db");
    let edit = |sql: &str| rusqlite::Connection::open(&db).unwrap().execute_batch(sql).unwrap();
    // A changed fiscal sign (a field Kassa may change later): that document's seal.
    edit("UPDATE ledger_fiscal SET ticket = '000000' WHERE document_id = 3");
    let (clean, said) = check();
    assert!(!clean && said.contains("ledger_documents id 3") && said.contains("seal"), "{said}");
    // A changed sum in a Ukrainian document (fixed at creation): the chain breaks there.
    edit("UPDATE ledger_documents SET body = replace(body, '200', '2000') WHERE id = 8");
    let (_, said) = check();
    assert!(said.contains("ledger_documents id 8") && said.contains("chain breaks"), "{said}");
    // A removed document (its trigger dropped first): the chain breaks at the next one.
    edit(
        "DROP TRIGGER ledger_documents_kept; PRAGMA foreign_keys = OFF; \
         DELETE FROM ledger_documents WHERE id = 4",
    );
    let (_, said) = check();
    assert!(said.contains("ledger_documents id 5") && said.contains("chain breaks"), "{said}");
    assert!(said.contains("kassa check found"), "{said}");
}

#[test]
fn readmes_backup_advice_runs_as_written() {
    if common::sqlite_only("kassa backup copies kassa.db") {
        return;
    }
    let section = common::readme_section("Running a shop safely");
    let block = common::code_blocks(&section, "```sh").into_iter().find(|b| b.contains("kassa backup")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let sold = shop(server.port("api"), 5);
    let run = |line: &str| {
        let line = line.split('#').next().unwrap().trim();
        let line = line
            .replacen("kassa ", &format!("{} ", env!("CARGO_BIN_EXE_kassa")), 1)
            .replace("/var/lib/kassa", &data.display().to_string())
            .replace("/backups", &dir.path().display().to_string());
        common::sh(&line)
    };
    let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines[0].starts_with("kassa backup") && lines[1].starts_with("kassa restore"), "{block}");
    run(lines[0]);
    kill(server);
    let said = run(lines[1]);
    assert!(said.contains("restored"), "{said}");
    let again = serve(&data);
    assert_eq!(journal(again.port("api")), sold);
    kill(again);
}
