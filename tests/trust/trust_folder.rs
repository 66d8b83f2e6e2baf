//! The data folder as a careless or hostile user meets it, through the real binary: a second server on the
//! same folder, an empty, missing, damaged or read-only database, a damaged print queue, and permissions.
use crate::common;

use common::{Served, kassa};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ADMIN: &str = "0000";

fn post(port: u16, method: &str, pin: &str, body: &str) -> String {
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

/// Where a server over the data folder `dir` writes its standard error.
fn log_of(dir: &Path) -> PathBuf {
    dir.with_extension("stderr.log")
}

/// `kassa serve` over `dir` on a port of its choosing, once it listens; panics with its log if it stops first.
fn serve(dir: &Path) -> Served {
    let mut command = kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir);
    command.stderr(std::fs::File::create(log_of(dir)).unwrap());
    Served::spawn(command, &["api"]).unwrap_or_else(|e| {
        panic!("server did not start: {e}\n{}", std::fs::read_to_string(log_of(dir)).unwrap_or_default())
    })
}

/// Runs a start that must fail; returns its stderr.
fn refused_start(dir: &Path) -> String {
    let out = kassa().args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir).output().unwrap();
    assert!(!out.status.success(), "the start must be refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// SIGTERM, and the exit awaited (20 s at most).
fn stop(mut server: Served) {
    let _ = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if server.child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const SAVE_KKM: &str = r#"{"ofd_id": 6923, "ofd_token": 59359406, "local_name": "K"}"#;
const SALE: &str = r#"{"kkm_ofd_id": 6923, "operation": 2,
    "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 100, "measure_unit_code": "796"}}],
    "payments": [{"type": 0, "sum": 100}], "amounts": {"total": 100}}"#;

/// A data folder with a KKM and a few sales in it, its server stopped.
fn used_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let child = serve(&dir.path().join("data"));
    let port = child.port("api");
    assert!(post(port, "SaveKKM", ADMIN, SAVE_KKM).contains("\"response_code\":0"));
    for _ in 0..30 {
        assert!(post(port, "TradeOperation", ADMIN, SALE).contains("\"response_code\":0"));
    }
    stop(child);
    dir
}

#[test]
fn a_second_server_on_the_same_folder_is_refused_and_a_crashed_one_blocks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut first = serve(&data);
    let port = first.port("api");

    let err = refused_start(&data);
    assert!(err.contains(&data.display().to_string()), "names the folder: {err}");
    assert!(err.contains(&format!("process {}", first.child.id())), "names the other process: {err}");
    assert!(err.contains("one server per data folder"), "{err}");

    let mut info = kassa();
    info.args(["ofd", "info", "--kkm", "6923", "--data-dir"]).arg(&data);
    if let Some(url) = common::test_store(&data) {
        info.env("KASSA_STORE_URL", url);
    }
    let out = info.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("process {}", first.child.id())), "{err}");
    assert!(post(port, "Ping", "", "").contains("\"ok\""), "the first server goes on");

    // A crash (SIGKILL) leaves no lock behind.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let again = serve(&data);
    stop(again);
}

/// A clean stop (SIGTERM) lets the next start skip the full integrity check, and the log says so; after a
/// crash (SIGKILL), or with kassa.db changed while the server was stopped, the start checks every page and the
/// log says why.
#[test]
fn a_clean_restart_skips_the_full_check_and_a_killed_or_changed_one_runs_it() {
    if common::sqlite_only("SQLite's integrity check of kassa.db") {
        return;
    }
    let dir = used_folder();
    let data = dir.path().join("data");

    let mut server = serve(&data);
    let log = std::fs::read_to_string(log_of(&data)).unwrap();
    assert!(log.contains("integrity check skipped: the last stop was clean"), "{log}");
    assert!(!log.contains("full integrity check"), "{log}");
    assert!(post(server.port("api"), "TradeOperation", ADMIN, SALE).contains("\"response_code\":0"));
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let server = serve(&data);
    let log = std::fs::read_to_string(log_of(&data)).unwrap();
    assert!(log.contains("full integrity check of kassa.db") && log.contains("the last stop was not clean"), "{log}");
    assert!(log.contains("integrity check passed"), "{log}");
    stop(server);
    let stopped = std::fs::read_to_string(log_of(&data)).unwrap();

    let server = serve(&data);
    let log = std::fs::read_to_string(log_of(&data)).unwrap();
    assert!(log.contains("integrity check skipped"), "the stop's log:\n{stopped}\nthe start's log:\n{log}");
    stop(server);
    let conn = rusqlite::Connection::open(data.join("kassa.db")).unwrap();
    conn.execute_batch("VACUUM;").unwrap();
    drop(conn);
    let server = serve(&data);
    let log = std::fs::read_to_string(log_of(&data)).unwrap();
    assert!(log.contains("full integrity check") && log.contains("changed while Kassa was stopped"), "{log}");
    stop(server);
}

#[test]
fn an_empty_database_is_not_a_fresh_install() {
    let dir = used_folder();
    let data = dir.path().join("data");
    std::fs::File::create(data.join("kassa.db")).unwrap();
    for side in ["kassa.db-wal", "kassa.db-shm"] {
        let _ = std::fs::remove_file(data.join(side));
    }
    let err = refused_start(&data);
    assert!(err.contains("is empty (0 bytes)") && err.contains("backup"), "{err}");

    // Alone in a new folder, an empty file is refused as well.
    let lone = tempfile::tempdir().unwrap();
    std::fs::File::create(lone.path().join("kassa.db")).unwrap();
    assert!(refused_start(lone.path()).contains("is empty"));
}

#[test]
fn a_missing_database_beside_other_kassa_files_stops_the_start() {
    if common::sqlite_only("kassa.db missing from its folder") {
        return;
    }
    let dir = used_folder();
    let data = dir.path().join("data");
    std::fs::rename(data.join("kassa.db"), dir.path().join("moved.db")).unwrap();
    let err = refused_start(&data);
    assert!(err.contains("kassa.db is missing") && err.contains("spool.db"), "{err}");
}

#[test]
fn a_damaged_page_in_the_middle_of_the_database_stops_the_start_with_a_way_out() {
    if common::sqlite_only("a damaged page of kassa.db") {
        return;
    }
    let dir = used_folder();
    let data = dir.path().join("data");
    let db = data.join("kassa.db");
    let pages: i64 = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;").unwrap();
        conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap()
    };
    assert!(pages >= 8, "enough pages to damage one in the middle: {pages}");
    let page_size = 4096;
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.seek(SeekFrom::Start(pages as u64 / 2 * page_size)).unwrap();
    let garbage: Vec<u8> = (0..page_size).map(|i| (i * 7 + 13) as u8).collect();
    f.write_all(&garbage).unwrap();
    drop(f);
    let err = refused_start(&data);
    assert!(err.contains("is damaged") && err.contains(".recover") && err.contains("backup"), "{err}");
}

#[test]
fn a_read_only_database_stops_the_start() {
    if common::sqlite_only("a read-only kassa.db") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = used_folder();
    let db = dir.path().join("data/kassa.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let err = refused_start(&dir.path().join("data"));
    assert!(err.contains("read-only"), "{err}");
}

#[test]
fn a_damaged_print_queue_is_set_aside_and_selling_goes_on() {
    let dir = used_folder();
    let data = dir.path().join("data");
    let junk: Vec<u8> = b"SQLite format 3\0".iter().copied().chain((0..8192).map(|i| (i % 251) as u8)).collect();
    std::fs::write(data.join("spool.db"), junk).unwrap();
    for side in ["spool.db-wal", "spool.db-shm"] {
        let _ = std::fs::remove_file(data.join(side));
    }
    let child = serve(&data);
    let port = child.port("api");
    assert!(post(port, "TradeOperation", ADMIN, SALE).contains("\"response_code\":0"), "fiscal work goes on");
    let aside: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("spool.db.damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "the damaged queue is kept aside: {aside:?}");
    stop(child);
    let err = std::fs::read_to_string(log_of(&data)).unwrap();
    assert!(err.contains("print queue") && err.contains(&aside[0]), "said loudly: {err}");
}

#[test]
fn the_folder_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = used_folder();
    let data = dir.path().join("data");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let files: &[&str] =
        if common::on_postgres() { &["spool.db", "kassa.lock"] } else { &["kassa.db", "spool.db", "kassa.lock"] };
    for file in files {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
}

/// Starts `kassa serve` over `dir` (plus `extra` arguments) that must be refused; returns its standard
/// error. Bounded: a server that starts anyway is killed and the test fails.
fn must_refuse(dir: &Path, extra: &[&str]) -> String {
    let log = dir.with_extension("refused.log");
    let mut command = kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir).args(extra);
    command.stderr(std::fs::File::create(&log).unwrap());
    match Served::spawn(command, &["api"]) {
        Ok(started) => {
            drop(started);
            panic!("the server started: {}", std::fs::read_to_string(&log).unwrap_or_default())
        }
        Err(_) => std::fs::read_to_string(&log).unwrap(),
    }
}

#[test]
fn a_removed_lock_file_lets_no_second_server_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = serve(&data);
    let port = first.port("api");
    assert!(post(port, "SaveKKM", ADMIN, SAVE_KKM).contains("\"response_code\":0"));
    // A cleanup script removes the lock file: the database itself is locked too.
    std::fs::remove_file(data.join("kassa.lock")).unwrap();
    let err = must_refuse(&data, &[]);
    // On SQLite the database file is locked too; on PostgreSQL (no kassa.db) the folder itself.
    let held = if common::on_postgres() { data.display().to_string() } else { "kassa.db".into() };
    assert!(err.contains("in use") && err.contains("locked by another kassa serve") && err.contains(&held), "{err}");
    assert!(post(port, "TradeOperation", ADMIN, SALE).contains("\"response_code\":0"), "the first server goes on");
    stop(first);
    let again = serve(&data);
    stop(again);
}

#[test]
fn symbolic_links_in_the_data_folder_are_never_followed() {
    use std::os::unix::fs::PermissionsExt;
    let names = [
        "kassa.lock",
        "kassa.db",
        "kassa.db-wal",
        "kassa.db-shm",
        "kassa.db-journal",
        "kassa.mark",
        "pin.key",
        "spool.db",
        "spool.db-wal",
        "spool.db-shm",
        "printed",
    ];
    let used = used_folder();
    let used = used.path().join("data");
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("precious.txt");
    for name in names {
        // In a new folder and in a folder in use, each name planted as a link to a file elsewhere.
        let fresh = tempfile::tempdir().unwrap();
        for folder in [fresh.path().to_path_buf(), used.clone()] {
            std::fs::write(&target, "precious\n").unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
            let link = folder.join(name);
            let kept = folder.join(format!("{name}.kept"));
            let had = std::fs::symlink_metadata(&link).is_ok();
            if had {
                std::fs::rename(&link, &kept).unwrap();
            }
            std::os::unix::fs::symlink(&target, &link).unwrap();
            let err = must_refuse(&folder, &[]);
            assert!(err.contains(name) && err.contains("symbolic link"), "{name} in {}: {err}", folder.display());
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n", "{name}: the target is untouched");
            let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "{name}: the target's mode is untouched");
            std::fs::remove_file(&link).unwrap();
            if had {
                std::fs::rename(&kept, &link).unwrap();
            }
        }
    }
    // Without the links the folder in use starts as before.
    let again = serve(&used);
    assert!(post(again.port("api"), "TradeOperation", ADMIN, SALE).contains("\"response_code\":0"));
    stop(again);
}

#[test]
fn a_pin_key_from_another_folder_is_refused_at_start() {
    let mine = used_folder();
    let theirs = used_folder();
    let data = mine.path().join("data");
    let own = std::fs::read(data.join("pin.key")).unwrap();
    std::fs::copy(theirs.path().join("data/pin.key"), data.join("pin.key")).unwrap();
    let err = must_refuse(&data, &[]);
    assert!(err.contains("pin.key") && err.contains("does not belong"), "{err}");
    // Its own key back: the administrator's PIN works again.
    std::fs::write(data.join("pin.key"), own).unwrap();
    let again = serve(&data);
    assert!(post(again.port("api"), "TradeOperation", ADMIN, SALE).contains("\"response_code\":0"));
    stop(again);
}

#[test]
fn print_queue_printed_receipts_and_saved_templates_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let child = serve(&data);
    let port = child.port("api");
    assert!(post(port, "SaveKKM", ADMIN, SAVE_KKM).contains("\"response_code\":0"));
    let printed_sale = SALE.replacen("\"operation\": 2,", "\"operation\": 2, \"is_printable\": true,", 1);
    assert!(post(port, "TradeOperation", ADMIN, &printed_sale).contains("\"response_code\":0"));
    for version in ["1", "2"] {
        let body = format!(r#"{{"kind": "ticket", "source": "@center: ВЕРСИЯ {version}\n@cut\n"}}"#);
        assert!(post(port, "PlaygroundSave", ADMIN, &body).contains("\"response_code\":0"));
    }
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let deadline = Instant::now() + Duration::from_secs(20);
    let receipt = loop {
        let found = std::fs::read_dir(data.join("printed")).ok().and_then(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path())
                .find(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
        });
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "nothing printed");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut files = vec![data.join("spool.db"), data.join("spool.db-wal"), receipt, data.join("templates/ticket.j2")];
    if !common::on_postgres() {
        // SQLite's commit mark (a PostgreSQL store keeps none).
        files.push(data.join("kassa.mark"));
    }
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let history = std::fs::read_dir(data.join("templates/.history")).unwrap().next().unwrap().unwrap().path();
    assert_eq!(mode(&history), 0o600, "{}", history.display());
    for folder in ["printed", "templates", "templates/.history"] {
        assert_eq!(mode(&data.join(folder)), 0o700, "{folder}");
    }
    stop(child);
}
