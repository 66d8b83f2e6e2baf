//! `kassa tenant add` and `kassa tenant list`: a provider registers the shops one PostgreSQL store serves
//! (issue 25, part 4; `country::kz::front::tenants` serves them under `/t/<tenant>/`).
use crate::config::{Config, ServeArgs};
use crate::country::kz::{Core, link, pin};
use crate::ledger::clock::SystemClock;
use crate::server::{PIN_KEY_VAR, shared_pin_key};
use crate::store::Store;
use clap::{Args, Subcommand};
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub struct TenantArgs {
    #[command(subcommand)]
    pub command: TenantCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum TenantCommand {
    /// Register a tenant (a shop) and make its first administrator, whose PIN is read from KASSA_ADMIN_PIN;
    /// its POS apps then call http://<node>/t/<NAME>/<method>. Registering it again changes nothing.
    Add(AddArgs),
    /// The tenants of the store, one name per line.
    List(ListArgs),
}

#[derive(Args, Debug, Clone)]
pub struct AddArgs {
    /// 1 to 63 lower-case letters, digits and hyphens: it becomes the path prefix /t/NAME/.
    pub name: String,
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, as the nodes are given it.
    #[arg(long, env = "KASSA_STORE_URL")]
    pub store: String,
}

#[derive(Args, Debug, Clone)]
pub struct ListArgs {
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, as the nodes are given it.
    #[arg(long, env = "KASSA_STORE_URL")]
    pub store: String,
}

pub fn run(args: TenantArgs) -> Result<(), String> {
    match args.command {
        TenantCommand::Add(args) => add(args),
        TenantCommand::List(args) => list(args),
    }
}

fn open(url: &str) -> Result<Store, String> {
    Store::open_postgres(url, std::time::Duration::from_secs(15)).map_err(|e| format!("cannot open the store: {e}"))
}

fn add(args: AddArgs) -> Result<(), String> {
    let node_key = shared_pin_key()?.ok_or_else(|| {
        format!("{PIN_KEY_VAR} is not set: give this command the key every node of the store is given")
    })?;
    if std::env::var_os("KASSA_ADMIN_PIN").is_none() {
        return Err("KASSA_ADMIN_PIN is not set: give the tenant's first administrator PIN in it (never on the \
                    command line, where other users of the machine see it)"
            .into());
    }
    let serve = ServeArgs { store: Some(args.store.clone()), ..Default::default() };
    let config = Config::resolve(&serve).map_err(|e| e.to_string())?;
    let store = open(&args.store)?;
    let added = store.add_tenant(&args.name).map_err(|e| e.to_string())?;
    let books = Arc::new(store.tenant(&args.name));
    let core = Core::tenant_core(
        books,
        config.kz_core(),
        Arc::new(SystemClock),
        link::Endpoints::default(),
        pin::tenant_key(node_key, &args.name),
    );
    core.ensure_first_administrator().map_err(|e| format!("cannot make the tenant's administrator: {e}"))?;
    let _ = store.release_leases();
    match added {
        true => println!("tenant {} added: its POS apps call http://<node>/t/{}/<method>", args.name, args.name),
        false => println!("tenant {} was registered already: nothing changed", args.name),
    }
    Ok(())
}

fn list(args: ListArgs) -> Result<(), String> {
    let store = open(&args.store)?;
    let names = store.tenants().map_err(|e| e.to_string())?;
    let _ = store.release_leases();
    names.iter().for_each(|name| println!("{name}"));
    Ok(())
}
