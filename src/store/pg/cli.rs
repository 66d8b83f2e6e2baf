//! `kassa store migrate` and `kassa store copy`.
use super::connect::{Target, connect};
use super::copy::{self, Via};
use super::migrate::{self, Migrated};
use super::source::Source;
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
    /// Copy a shop's whole SQLite store into an empty PostgreSQL database in one transaction, prove the copy
    /// (counts, sums, every row, the journals' hash chains) and commit only when everything matched.
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
    let mut client = connect(&target)?;
    let migrated = migrate::migrate(&mut client, &target.name)?;
    say_migrated(&target, &migrated);
    // A refusal that already says what became of the target stays as it is; any other error says it.
    let copied = copy::copy(&source, &mut client, &target, args.via).map_err(|e| {
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
