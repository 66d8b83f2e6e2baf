//! Fixture folders: the data folder packed and unpacked, its configuration with the OFD endpoints of a run,
//! and `queue.json`, what its autonomous queue must deliver.
use super::process::Ofd;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What `queue.json` says: per KKM (`ofd_id`), the documents waiting for the OFD in the fixture, in order,
/// as the emulator's `accepted` lists them (X reports, which the emulator does not list, apart).
#[derive(Serialize, Deserialize, Debug, Default)]
pub struct Queue {
    /// The KKMs whose queue must empty after the restart, and what the OFD must accept from each, in order.
    pub kkms: BTreeMap<String, Vec<Value>>,
    /// Every KKM of the fixture: none may send anything but its queue.
    pub all_kkms: Vec<i64>,
    /// Queued X reports per KKM: delivered in their place (the queue empties past them), but the emulator
    /// counts no X report, so `accepted` never lists one. Kept for the reader.
    #[serde(default)]
    pub unlisted_reports: BTreeMap<String, usize>,
}

/// The fields of an emulator's `accepted` entry the oracle compares: command, REQNUM, sum in tiyn and
/// autonomous number (the token rotates and the emulator numbers shifts its own way).
pub fn accepted_key(doc: &Value) -> Value {
    json!({
        "command": doc["command"],
        "reqnum": doc["reqnum"],
        "sum_tiyn": doc["sum_tiyn"],
        "offline_ticket_number": doc["offline_ticket_number"],
    })
}

/// Copies a fixture's data folder into `data` (created), with `kassa.db` unpacked.
pub fn unpack(fixture: &Path, data: &Path) {
    let source = fixture.join("data");
    copy_tree(&source, data, &|name| name != "kassa.db.gz");
    let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(source.join("kassa.db.gz")).expect("kassa.db.gz"));
    let mut db = Vec::new();
    gz.read_to_end(&mut db).expect("gunzip kassa.db");
    std::fs::write(data.join("kassa.db"), db).expect("write kassa.db");
}

/// Packs a stopped data folder into the fixture: `kassa.db` gzipped (it must have been checkpointed: no
/// `kassa.db-wal`), `pin.key`, `kassa.mark` and the template overrides. The print queue and printed files
/// are left out.
pub fn pack(data: &Path, fixture: &Path) {
    assert!(!data.join("kassa.db-wal").exists(), "kassa.db-wal left after a clean stop");
    let target = fixture.join("data");
    if target.exists() {
        std::fs::remove_dir_all(&target).expect("remove the old data folder");
    }
    std::fs::create_dir_all(&target).expect("data folder");
    let db = std::fs::read(data.join("kassa.db")).expect("kassa.db");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&db).expect("gzip");
    std::fs::write(target.join("kassa.db.gz"), gz.finish().expect("gzip")).expect("write kassa.db.gz");
    for file in ["pin.key", "kassa.mark"] {
        std::fs::copy(data.join(file), target.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    if data.join("templates").exists() {
        copy_tree(&data.join("templates"), &target.join("templates"), &|_| true);
    }
}

fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep(&name) {
            continue;
        }
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &to.join(&name), keep);
        } else {
            std::fs::copy(entry.path(), to.join(&name)).expect("copy");
        }
    }
}

/// The fixture's `kassa.toml` with the OFD endpoints filled in: `online` for the OFD every KKM but the
/// queue's uses, `queue` for the queue's.
pub fn config(fixture: &Path, dir: &Path, online: &Ofd, queue: &Ofd) -> PathBuf {
    let text = std::fs::read_to_string(fixture.join("kassa.toml")).expect("kassa.toml");
    let text = text.replace("@OFD_ONLINE@", &online.endpoint()).replace("@OFD_QUEUE@", &queue.endpoint());
    let path = dir.join("kassa.toml");
    std::fs::write(&path, text).expect("write kassa.toml");
    path
}
