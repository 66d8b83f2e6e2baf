//! `kassa store migrate` and `kassa store copy`.
use super::connect::{Target, connect};
use super::copy::{self, Destination, Via};
use super::migrate::{self, Migrated};
use super::source::Source;
use crate::country::kz::pin;
use crate::server::{PIN_KEY_VAR, shared_pin_key};
use crate::store::{folder, tenant};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum StoreCommand {
    /// Create or upgrade Kassa's schema in a PostgreSQL database (running it again changes nothing).
    Migrate(MigrateArgs),
    /// Copy a shop's whole SQLite store into an empty PostgreSQL database, or with --tenant into a new tenant
    /// of one that serves other shops, in one transaction; prove the copy (counts, sums, every row, the
    /// journals' hash chains) and commit only when everything matched.
    Copy(CopyArgs),
}

#[derive(Args, Debug, Clone)]
pub struct MigrateArgs {
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (no TLS: loopback or a private network).
    #[arg(long, env = "KASSA_STORE_URL")]
    pub to: String,
}

#[derive(Args, Debug, Clone)]
pub struct CopyArgs {
    /// A Kassa data folder, or its kassa.db (a server may be running on it: the copy reads one snapshot).
    #[arg(long)]
    pub from: PathBuf,
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, an empty database (migrated here when needed).
    #[arg(long, env = "KASSA_STORE_URL")]
    pub to: String,
    /// Copy the shop into this new tenant (its POS apps then call http://<node>/t/TENANT/), beside the others
    /// the store serves, with its ids, journal and PINs as they are. Needs KASSA_PIN_KEY, the key every node is
    /// given: the shop's own pin.key (beside its kassa.db) is kept sealed under it.
    #[arg(long)]
    pub tenant: Option<String>,
    /// How rows travel: COPY (default) or multi-row INSERTs (kept to measure against; docs/scale-out.md).
    #[arg(long, value_enum, default_value = "copy", hide = true)]
    pub via: Via,
}

pub fn run(args: StoreArgs) -> Result<(), String> {
    match args.command {
        StoreCommand::Migrate(args) => run_migrate(args),
        StoreCommand::Copy(args) => run_copy(args),
    }
}

fn say_migrated(target: &Target, migrated: &Migrated) {
    match migrated {
        Migrated::Current(v) => {
            println!("{}: Kassa's schema is at version {v}, the latest: nothing to do", target.name)
        }
        Migrated::Applied { from: 0, to } => println!("{}: Kassa's schema created (version {to})", target.name),
        Migrated::Applied { from, to } => println!("{}: Kassa's schema upgraded from {from} to {to}", target.name),
    }
}

fn run_migrate(args: MigrateArgs) -> Result<(), String> {
    let target = Target::parse(&args.to)?;
    let mut client = connect(&target)?;
    let migrated = migrate::migrate(&mut client, &target.name)?;
    say_migrated(&target, &migrated);
    Ok(())
}

fn run_copy(args: CopyArgs) -> Result<(), String> {
    let target = Target::parse(&args.to)?;
    // The source first: a folder that is no Kassa store or of another schema changes nothing in the target.
    let source = Source::open(&args.from)?;
    let into = match &args.tenant {
        None => Destination::Store,
        Some(name) => tenant_destination(&source, name)?,
    };
    let mut client = connect(&target)?;
    let migrated = migrate::migrate(&mut client, &target.name)?;
    say_migrated(&target, &migrated);
    // A refusal that already says what became of the target stays as it is; any other error says it.
    let copied = copy::copy(&source, &mut client, &target, args.via, &into).map_err(|e| {
        if e.contains("othing was") {
            e
        } else {
            format!("{e}; the copy was rolled back: nothing was committed to {}", target.name)
        }
    })?;
    println!(
        "copied {} rows from {} in {:.1} s ({:?}), proved in {:.1} s:",
        copied.rows,
        source.path.display(),
        copied.copy_seconds,
        args.via,
        copied.proof_seconds
    );
    print!("{}", copied.proof);
    if copied.proof.holds() {
        println!("every check matched: the copy is committed to {}", target.name);
        if let Some(name) = &args.tenant {
            println!("tenant {name} added: its POS apps call http://<node>/t/{name}/<method>");
        }
        Ok(())
    } else {
        Err(format!(
            "the copy does not match its source (the lines marked DIFFER above): it was rolled back and {} holds \
             nothing of it. A journal whose stored chain differs may have been changed behind Kassa's back: run \
             kassa check on the source's folder",
            target.name
        ))
    }
}

/// A new tenant `name` for the shop of `source`: its `pin.key` (beside its kassa.db), checked against the
/// database and sealed under the nodes' key.
fn tenant_destination(source: &Source, name: &str) -> Result<Destination, String> {
    if !tenant::valid_name(name) || name == tenant::DEFAULT {
        return Err(format!(
            "{name:?} cannot name a new tenant: use 1 to 63 lower-case letters, digits and hyphens, not \"default\" \
             (without --tenant the copy fills an empty store's default tenant)"
        ));
    }
    let node_key = shared_pin_key()?.ok_or_else(|| {
        format!("{PIN_KEY_VAR} is not set: give the copy the key every node of the store is given; the shop's PIN key is kept sealed under it")
    })?;
    let path = source.path.parent().unwrap_or(std::path::Path::new(".")).join(folder::PIN_KEY);
    let bytes = std::fs::read(&path).map_err(|e| {
        format!("{}: {e}: the shop's PINs are hashed under it, so a copy into a tenant needs it", path.display())
    })?;
    let shop_key = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{} is damaged ({} bytes, not 32)", path.display(), bytes.len()))?;
    let stored: Option<String> = source
        .conn
        .query_row("SELECT value FROM folder_facts WHERE name = ?1", [pin::KEY_CHECK], |r| r.get(0))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
        .map_err(|e| source.error("folder_facts", e))?;
    if stored.is_some_and(|check| check != pin::Pins::new(shop_key, false).key_check()) {
        return Err(format!(
            "{} is not the key {}'s PINs were hashed with (a pin.key from another folder): nothing was copied",
            path.display(),
            source.path.display()
        ));
    }
    let pin_key_sealed = pin::seal_tenant_key(node_key, name, shop_key)?;
    Ok(Destination::Tenant { name: name.to_owned(), pin_key_sealed })
}
