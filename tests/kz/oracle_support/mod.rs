//! The machinery of the oracle (issue 23): fixture data folders packed and unpacked, the `kassa serve` and
//! `kassa ofd-emulator` processes, the recorded calls and their byte-for-byte comparison, and the drain of
//! the autonomous queue after a restart. `tests/fixtures/oracle/README.md` says what each fixture holds.
mod answers;
mod folder;
pub mod fresh;
mod fronts;
mod process;
pub mod shop;

pub use answers::{Recorder, load, replay};
pub use folder::{Queue, accepted_key, config, pack, unpack};
pub use fronts::{Front, Fronts, by_message, ua_envelope};
pub use process::{Ofd, Server};

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The administrator's PIN of every fixture (`admin_pin` at its first start).
pub const ADMIN: &str = "7391";

/// What a field that changes from call to call is replaced with, in the recording and in the answer.
pub const VARIES: &str = "<varies>";

/// `tests/fixtures/oracle`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle")
}

/// `KASSA_RECORD_ORACLE=1`: build the fixtures again and record their answers before checking them.
pub fn recording() -> bool {
    std::env::var("KASSA_RECORD_ORACLE").is_ok_and(|v| v == "1")
}

/// A fixture: its folder's name and the listeners its configuration opens.
pub struct Shape {
    pub name: &'static str,
    /// Listeners besides `api`.
    pub fronts: &'static [&'static str],
}

/// Records the fixture's answers: its data folder started on a copy, with the queue's OFD down.
pub async fn record<F>(shape: &Shape, plan: F)
where
    F: AsyncFnOnce(&mut Recorder<'_>),
{
    let fixture = root().join(shape.name);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    unpack(&fixture, &data);
    let (online, down) = (Ofd::start(), Ofd::down());
    let server = Server::start(&data, &config(&fixture, dir.path(), &online, &down), shape.fronts);
    let fronts = server.fronts();
    let mut recorder = Recorder::new(&fronts);
    plan(&mut recorder).await;
    recorder.save(&fixture);
    server.stop();
}

/// The oracle of one fixture: (1) on a copy of its data folder, with the OFD of its autonomous queue down,
/// every recorded call gets its recorded answer; (2) after a restart with that OFD back, every queued
/// document reaches the OFD exactly once with its committed REQNUM, and nothing else is sent.
pub async fn check(shape: &Shape) {
    let fixture = root().join(shape.name);
    let entries = load(&fixture);
    let queue: Queue =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("queue.json")).expect("queue.json")).expect("JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    unpack(&fixture, &data);
    copy_into_postgres(&data);

    let (online, down) = (Ofd::start(), Ofd::down());
    let server = Server::start(&data, &config(&fixture, dir.path(), &online, &down), shape.fronts);
    let fronts = server.fronts();
    let mismatches = replay(&fronts, &fixture, &entries).await;
    server.stop();
    assert!(
        mismatches.is_empty(),
        "{} of {} answers of fixture {} differ from the recording (the answers got are in target/oracle-actual/{}):\n{}",
        mismatches.len(),
        entries.len(),
        shape.name,
        shape.name,
        mismatches.join("\n")
    );

    // The restart: one fresh OFD for every KKM, so whatever reaches it was sent after the restart.
    let ofd = Ofd::start();
    let server = Server::start(&data, &config(&fixture, dir.path(), &ofd, &ofd), shape.fronts);
    let fronts = server.fronts();
    let deadline = Instant::now() + Duration::from_secs(30);
    for kkm in queue.kkms.keys() {
        loop {
            let list = fronts.kz_ok("GetKKMList", ADMIN, json!({"ofd_id": kkm.parse::<i64>().expect("id")})).await;
            if list[0]["is_offline"] == false {
                break;
            }
            assert!(Instant::now() < deadline, "the queue of KKM {kkm} was not delivered after the restart: {list}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // A second send would come within a reconnect interval (200 ms): give it the time to show.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for kkm in &queue.all_kkms {
        let got: Vec<Value> = ofd.accepted(*kkm).iter().map(accepted_key).collect();
        let expected = queue.kkms.get(&kkm.to_string()).cloned().unwrap_or_default();
        assert_eq!(
            Value::Array(got),
            Value::Array(expected),
            "KKM {kkm}: the OFD must accept each queued document exactly once, with its committed REQNUM, \
             in order, and nothing else"
        );
    }
    // Delivering the queue changes nothing in its journal.
    for kkm in queue.kkms.keys() {
        let what = format!("GetTransactionList {kkm}: all");
        let recorded = entries.iter().find(|e| e.what == what).unwrap_or_else(|| panic!("no entry {what:?}"));
        let reply = fronts.send(Front::Kz, &recorded.path, &recorded.headers, &recorded.request).await;
        let text = String::from_utf8(reply.bytes).expect("UTF-8");
        assert_eq!(Some(&text), recorded.answer.as_ref(), "the journal of KKM {kkm} after its queue was delivered");
    }
    server.stop();
}

/// On a PostgreSQL run, the fixture's books upgraded and moved into the folder's database with `kassa store
/// copy` (and proven by it), so the recorded answers are checked against a server serving them from PostgreSQL.
fn copy_into_postgres(data: &Path) {
    let Some(url) = crate::common::test_store(data) else { return };
    // The fixtures are of an older schema: the store upgrades it as a start would (no sender runs here).
    drop(kassa::store::Store::open(&data.join("kassa.db")).expect("the fixture's kassa.db upgrades"));
    let out = crate::common::kassa()
        .args(["store", "copy", "--from"])
        .arg(data)
        .args(["--to", &url])
        .output()
        .expect("kassa store copy");
    assert!(out.status.success(), "kassa store copy: {}", String::from_utf8_lossy(&out.stderr));
}
