//! `kassa backup`, `kassa restore` and `kassa check`: the data folder's care, outside a running server.
//!
//! - **backup** copies `kassa.db` with SQLite's online backup (one consistent snapshot, the commits still
//!   in the write-ahead log included) and `pin.key` into a new folder, while the server runs;
//! - **restore** puts such a copy back into a data folder whose server is stopped (it takes the folder's
//!   locks, so it refuses while a server holds them), moving the files it replaces aside, never deleting
//!   them, and writes a commit mark that matches the restored database;
//! - **check** runs every integrity check Kassa has and says what each one covered.
use crate::config::{Config, ServeArgs};
use crate::country::kz::pin::{self, Pins};
use crate::store::chain::{self, Journal};
use crate::store::folder::{self, DataFolder};
use crate::store::sql::Db;
use crate::store::{mark, migrations};
use clap::Args;
use rusqlite::{Connection, OpenFlags};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the data folder is: `--data-dir`, or the configuration's `data_dir`.
#[derive(Args, Debug, Clone)]
pub struct FolderArgs {
    /// Kassa's data folder [default: data_dir of the configuration, ./kassa-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Kassa's TOML configuration (for its data_dir).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl FolderArgs {
    fn config(&self) -> Result<Config, String> {
        let serve = ServeArgs { data_dir: self.data_dir.clone(), config: self.config.clone(), ..Default::default() };
        Config::resolve(&serve).map_err(|e| e.to_string())
    }
}

/// `kassa backup DEST`.
#[derive(Args, Debug, Clone)]
pub struct BackupArgs {
    /// A new (or empty) folder to write kassa.db and pin.key into.
    pub dest: PathBuf,
    #[command(flatten)]
    pub folder: FolderArgs,
}

/// `kassa restore SRC`.
#[derive(Args, Debug, Clone)]
pub struct RestoreArgs {
    /// A folder written by `kassa backup` (kassa.db and pin.key).
    pub src: PathBuf,
    #[command(flatten)]
    pub folder: FolderArgs,
}

/// `kassa check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub folder: FolderArgs,
}

/// Opens an SQLite file for reading only, never through a symbolic link.
fn open_read_only(path: &Path) -> Result<Connection, String> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NOFOLLOW)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// A regular file (not a link, not missing), or a clear refusal.
fn require_file(path: &Path, what: &str) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            Err(format!("{} is a symbolic link: Kassa does not follow links for {what}", path.display()))
        }
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(format!("{} is not a regular file ({what})", path.display())),
        Err(e) => Err(format!("{} ({what}): {e}", path.display())),
    }
}

/// The folder's `kassa.db`, or the refusal other tools give for a folder that is none of Kassa's (no tool but
/// `kassa serve` and `kassa restore` makes a data folder).
fn existing_database(data: &Path, what: &str) -> Result<PathBuf, String> {
    let db = data.join(folder::DATABASE);
    if std::fs::symlink_metadata(&db).is_err() {
        return Err(format!(
            "{} is not a Kassa data folder ({} is missing), so there is nothing to {what}. Name the server's \
             folder with --data-dir (or data_dir in --config)",
            data.display(),
            folder::DATABASE
        ));
    }
    require_file(&db, "the fiscal database")?;
    Ok(db)
}

/// Reads `pin.key` of a folder (32 bytes), never through a link.
fn read_key(dir: &Path) -> Result<[u8; 32], String> {
    let path = dir.join(folder::PIN_KEY);
    require_file(&path, "the PIN key")?;
    let mut bytes = Vec::new();
    folder::open_existing(&path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{} is damaged ({} bytes, not 32)", path.display(), bytes.len()))
}

/// Creates `dir` (0700) and refuses one that already holds a Kassa database or key.
fn fresh_folder(dir: &Path) -> Result<(), String> {
    for name in [folder::DATABASE, folder::PIN_KEY] {
        if std::fs::symlink_metadata(dir.join(name)).is_ok() {
            return Err(format!(
                "{} already holds {name}: a backup never overwrites another one; give a new folder (for example \
                 one named after the date)",
                dir.display()
            ));
        }
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Copies the database `from` into a new file `to` with the online backup API: one step, so one consistent
/// snapshot however the server writes meanwhile. The copy is a single file (rollback journal mode), synced.
fn copy_database(from: &Path, to: &Path) -> Result<(), String> {
    let source = open_read_only(from)?;
    let partial = to.with_extension("db.partial");
    let _ = std::fs::remove_file(&partial);
    folder::create_private_file(&partial).map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let mut target =
        Connection::open_with_flags(&partial, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NOFOLLOW)
            .map_err(|e| format!("cannot open {}: {e}", partial.display()))?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut target).map_err(|e| format!("backup: {e}"))?;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            use rusqlite::backup::StepResult;
            match backup.step(-1).map_err(|e| format!("backup of {}: {e}", from.display()))? {
                StepResult::Done => break,
                StepResult::More => {}
                // The server holds a lock for a moment (a checkpoint): try again.
                StepResult::Busy | StepResult::Locked if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                other => return Err(format!("backup of {}: the database stayed busy ({other:?})", from.display())),
            }
        }
    }
    // The copy stands alone: no write-ahead log beside it.
    target
        .query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .map_err(|e| format!("{}: {e}", partial.display()))?;
    drop(target);
    drop(source);
    sync_file(&partial)?;
    std::fs::rename(&partial, to)
        .map_err(|e| format!("cannot rename {} to {}: {e}", partial.display(), to.display()))?;
    sync_dir(to)
}

fn sync_file(path: &Path) -> Result<(), String> {
    folder::open_existing(path).and_then(|f| f.sync_all()).map_err(|e| format!("cannot sync {}: {e}", path.display()))
}

/// Syncs the folder holding `path`, so a rename in it survives a power cut.
fn sync_dir(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) => std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| format!("{}: {e}", dir.display())),
        None => Ok(()),
    }
}

/// Writes a private copy of a PIN key (0600, new file, synced).
fn write_key(dir: &Path, key: &[u8; 32]) -> Result<(), String> {
    let path = dir.join(folder::PIN_KEY);
    let mut file = folder::private_options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(key).and_then(|_| file.sync_all()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    sync_dir(&path)
}

/// What a database holds, for the messages.
struct Contents {
    kazakh: i64,
    ledger: i64,
    kkms: i64,
    operators: i64,
    commits: u64,
}

/// Rows of `table`; 0 when this schema has no such table (`documents` and `kkms` before 0015, `kz_kkms` after).
fn count(conn: &Connection, table: &str) -> i64 {
    count_where(conn, table, "1")
}

fn count_where(conn: &Connection, table: &str, clause: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table} WHERE {clause}"), [], |r| r.get(0)).unwrap_or(0)
}

/// Checks a copy (SQLite's quick check, its key) and counts what it holds.
fn inspect(db: &Path, key: &[u8; 32]) -> Result<Contents, String> {
    let conn = open_read_only(db)?;
    let lines: Vec<String> = conn
        .prepare("PRAGMA quick_check(20)")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("{}: {e}", db.display()))?;
    if lines != ["ok"] {
        return Err(format!("{} is damaged: {}", db.display(), lines.join("; ")));
    }
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if version > migrations::latest() {
        return Err(format!("{} was written by a newer Kassa (schema {version})", db.display()));
    }
    if let Some(stored) = key_fact(&conn)
        && stored != Pins::new(*key, false).key_check()
    {
        return Err(format!("{}: its pin.key is not the one its PINs were hashed with", db.display()));
    }
    let commits = crate::store::committed(&conn).map_err(|e| e.to_string())?;
    Ok(Contents {
        kazakh: count(&conn, "documents")
            + count_where(&conn, "ledger_documents d JOIN ledger_devices v ON v.id = d.device_id", "v.country = 'kz'"),
        ledger: count_where(
            &conn,
            "ledger_documents d JOIN ledger_devices v ON v.id = d.device_id",
            "v.country <> 'kz'",
        ),
        kkms: count(&conn, "kkms") + count(&conn, "kz_kkms"),
        operators: count(&conn, "operators"),
        commits,
    })
}

/// The recorded check of the PIN key, if the database has one.
fn key_fact(conn: &Connection) -> Option<String> {
    conn.query_row("SELECT value FROM folder_facts WHERE name = ?1", [pin::KEY_CHECK], |r| r.get(0)).ok()
}

impl std::fmt::Display for Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} Kazakh documents, {} documents of the other countries, {} KKMs, {} operators, {} commits",
            self.kazakh, self.ledger, self.kkms, self.operators, self.commits
        )
    }
}

/// `kassa backup DEST`: a consistent copy of `kassa.db` and `pin.key`, safe while the server runs.
pub fn backup(args: BackupArgs) -> Result<(), String> {
    let data = sqlite_folder(&args.folder, "kassa backup")?;
    folder::refuse_links(&data)?;
    let db = existing_database(&data, "back up")?;
    let key = read_key(&data)?;
    fresh_folder(&args.dest)?;
    let copy = args.dest.join(folder::DATABASE);
    copy_database(&db, &copy)?;
    write_key(&args.dest, &key)?;
    let contents = inspect(&copy, &key)?;
    println!("backed up {} and its pin.key to {}: {contents}", db.display(), args.dest.display());
    println!("restore with: kassa restore {} --data-dir {}", args.dest.display(), data.display());
    Ok(())
}

/// `kassa restore SRC`: puts a backup back into a data folder whose server is stopped.
pub fn restore(args: RestoreArgs) -> Result<(), String> {
    let data = sqlite_folder(&args.folder, "kassa restore")?;
    let src_db = args.src.join(folder::DATABASE);
    require_file(&src_db, "the backup's database")?;
    let key = read_key(&args.src)?;
    let contents = inspect(&src_db, &key)?;
    // The folder's locks: a running server (or another restore) holds them, and this refuses.
    let held = DataFolder::lock(&data)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut moved = Vec::new();
    for name in ["kassa.db", "kassa.db-wal", "kassa.db-shm", "kassa.db-journal", folder::PIN_KEY, folder::MARK] {
        let path = data.join(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            let aside = data.join(format!("{name}.before-restore-{stamp}"));
            std::fs::rename(&path, &aside)
                .map_err(|e| format!("cannot move {} aside to {}: {e}", path.display(), aside.display()))?;
            moved.push(aside.display().to_string());
        }
    }
    let db = data.join(folder::DATABASE);
    copy_database(&src_db, &db)?;
    write_key(&data, &key)?;
    // The mark of the restored database: what it holds is what this folder now acknowledges.
    let (mark, _, _) = crate::store::mark::CommitMark::open(&db).map_err(|e| e.to_string())?;
    mark.record_synced(contents.commits).map_err(|e| e.to_string())?;
    drop(held);
    println!("restored {} into {}: {contents}", args.src.display(), data.display());
    if !moved.is_empty() {
        println!("the files it replaced were kept: {}", moved.join(", "));
    }
    println!("start the server as usual; compare the journal with the OFD's cabinet before selling again");
    Ok(())
}

/// The lines of `kassa check` about one journal's chains and seals.
fn say_journal(
    say: &mut impl FnMut(bool, String),
    journal: Journal,
    found: crate::store::StoreResult<(chain::ChainReport, &'static str)>,
) -> Result<(), String> {
    let (report, table) = found.map_err(|e| format!("{}: {e}", journal.table()))?;
    let what = match journal {
        Journal::Kazakh if table != journal.table() => "Kazakh documents as they were before the ledger (kept)",
        Journal::Kazakh => "Kazakh documents",
        Journal::Ledger => "documents of the ledger (every country)",
    };
    if report.problems.is_empty() {
        say(
            true,
            format!(
                "{}: {} {what}, each chained to the one before and sealed; none changed, removed or inserted \
                 behind Kassa's back",
                table, report.documents
            ),
        );
    } else {
        for p in &report.problems {
            say(false, p.clone());
        }
        if report.more > 0 {
            say(false, format!("{}: {} more", table, report.more));
        }
    }
    Ok(())
}

/// `kassa check` of a folder whose store is PostgreSQL: the chains and seals of both journals, read in one
/// snapshot, and the PIN key. SQLite's page and commit-mark checks have no counterpart here: PostgreSQL
/// checks its pages itself (data checksums, `amcheck`) and enforces every foreign key.
fn check_postgres(data: &Path, url: &str) -> Result<(), String> {
    let store = crate::store::Store::open_postgres_read_only(url).map_err(|e| e.to_string())?;
    let mut findings = Vec::new();
    let mut say = |ok: bool, text: String| findings.push(Finding { ok, text });
    say(true, format!("the store is PostgreSQL: {}", crate::store::pg::Target::parse(url)?.name));
    // Each tenant's journals are chained on their own (a transaction sees its tenant's documents only).
    let tenants = store.tenants().map_err(|e| e.to_string())?;
    for tenant in &tenants {
        if tenants.len() > 1 {
            say(true, format!("tenant {tenant}:"));
        }
        let reports = store
            .tenant(tenant)
            .read(|tx| Ok::<_, crate::store::StoreError>(Journal::ALL.map(|journal| tx.verify_journal(journal))))
            .map_err(|e| e.to_string())?;
        for (journal, found) in Journal::ALL.into_iter().zip(reports) {
            say_journal(&mut say, journal, found)?;
        }
    }
    let stored_key = store.read(|tx| tx.folder_fact(pin::KEY_CHECK)).map_err(|e| e.to_string())?;
    say_pin_key(&mut say, data, stored_key);
    report(&data.display().to_string(), &findings)
}

/// The line of `kassa check` about the PIN key (`KASSA_PIN_KEY` when set, as the server takes it, else the
/// folder's `pin.key`) against the check the store recorded.
fn say_pin_key(say: &mut impl FnMut(bool, String), data: &Path, stored: Option<String>) {
    let (name, key) = match crate::server::shared_pin_key() {
        Ok(Some(key)) => (crate::server::PIN_KEY_VAR, Ok(key)),
        Ok(None) => (folder::PIN_KEY, read_key(data)),
        Err(e) => (crate::server::PIN_KEY_VAR, Err(e)),
    };
    match (key, stored) {
        (Ok(key), Some(stored)) if stored == Pins::new(key, false).key_check() => {
            say(true, format!("{name} is the key the stored PINs were hashed with"))
        }
        (Ok(_), Some(_)) => say(false, format!("{name} is NOT the key the stored PINs were hashed with")),
        (Ok(_), None) => say(true, format!("{name}: not checkable yet (recorded at the first start or right PIN)")),
        (Err(e), _) => say(false, e),
    }
}

/// Prints the findings of `kassa check`; fails when one is a problem.
fn report(what: &str, findings: &[Finding]) -> Result<(), String> {
    println!("kassa check {what}:");
    for f in findings {
        println!("  {}  {}", if f.ok { "ok  " } else { "FAIL" }, f.text);
    }
    let failed = findings.iter().filter(|f| !f.ok).count();
    if failed == 0 {
        println!("every check passed");
        Ok(())
    } else {
        Err(format!("kassa check found {failed} problem(s) in {what}"))
    }
}

/// The data folder of a tool that works on `kassa.db` only; refused, saying what to use instead, when the
/// configuration serves from PostgreSQL.
fn sqlite_folder(folder: &FolderArgs, tool: &str) -> Result<PathBuf, String> {
    let config = folder.config()?;
    match &config.store.url {
        Some(url) => Err(format!(
            "{tool} copies kassa.db, and this server's store is PostgreSQL ({}): back it up with PostgreSQL's own \
             tools (pg_dump, or base backups with WAL archiving), and keep the PIN key (pin.key or KASSA_PIN_KEY) \
             with it",
            crate::store::pg::Target::parse(url).map(|t| t.name).unwrap_or_else(|_| "store.url".into())
        )),
        None => Ok(config.data_dir),
    }
}

/// One line of `kassa check`.
struct Finding {
    ok: bool,
    text: String,
}

/// `kassa check`: every integrity check, each saying what it covered; fails when one finds a problem.
pub fn check(args: CheckArgs) -> Result<(), String> {
    let config = args.folder.config()?;
    let data = config.data_dir;
    if let Some(url) = &config.store.url {
        return check_postgres(&data, url);
    }
    let db = existing_database(&data, "check")?;
    let mut findings = Vec::new();
    let mut say = |ok: bool, text: String| findings.push(Finding { ok, text });
    match folder::refuse_links(&data) {
        Ok(()) => say(true, format!("no symbolic link among Kassa's files ({})", folder::OWN_NAMES.join(", "))),
        Err(e) => say(false, e),
    }
    let conn = open_read_only(&db)?;
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check(50)")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("{}: {e}", db.display()))?;
    if integrity == ["ok"] {
        say(true, "kassa.db: SQLite's integrity_check (every page, record and index, indexes against tables)".into());
    } else {
        say(false, format!("kassa.db: integrity_check: {}", integrity.join("; ")));
    }
    let dangling: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
        .map_err(|e| format!("{}: {e}", db.display()))?;
    say(dangling == 0, format!("foreign keys: {dangling} row(s) point at nothing (PRAGMA foreign_key_check)"));
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if version >= 10 {
        for journal in Journal::ALL {
            let found = chain::verify(Db::Sqlite(&conn), journal)
                .and_then(|report| Ok((report, journal.stored_table(Db::Sqlite(&conn))?)));
            say_journal(&mut say, journal, found)?;
        }
    } else {
        say(true, format!("schema {version}: the journals get their chain at the next start (migration 0010)"));
    }
    let commits = crate::store::committed(&conn).map_err(|e| e.to_string())?;
    match mark::read(&db) {
        Ok(Some(acknowledged)) if acknowledged > commits => say(
            false,
            format!(
                "commit mark: kassa.db holds {commits} commits but {acknowledged} were acknowledged (kassa.mark): \
                 committed writes are missing (a lost kassa.db-wal?)"
            ),
        ),
        Ok(Some(acknowledged)) => {
            say(true, format!("commit mark: kassa.db holds {commits} commits, kassa.mark acknowledged {acknowledged}"))
        }
        Ok(None) => say(true, format!("commit mark: kassa.db holds {commits} commits; no kassa.mark yet")),
        Err(e) => say(false, e.to_string()),
    }
    say_pin_key(&mut say, &data, key_fact(&conn));
    report(&data.display().to_string(), &findings)
}
