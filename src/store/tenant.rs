//! Tenants (issue 25, part 4): the shops whose books one PostgreSQL store holds side by side. Each row of a
//! shop's books carries its tenant, and the database shows a transaction the rows of the tenant it names
//! only (row-level security, `pg/schema/0003_tenants.sql`). A [`Store`] handle reads and writes one tenant's
//! books: the server's own is the default tenant's, [`Store::tenant`] gives another's. SQLite holds one shop.
use super::pg::serve::PgStore;
use super::{Engine, Store, StoreError, StoreResult};
use rusqlite::params;
use std::sync::atomic::Ordering;

/// The tenant of a store served before tenants existed, and of every request that names none.
pub const DEFAULT: &str = "default";

/// The node's own view of every tenant's rows, to find the queues no node sends; it writes no tenant's rows.
pub const NODE_VIEW: &str = "*";

/// Whether `name` may name a tenant: 1 to 63 lower-case letters, digits and hyphens, starting with a letter or
/// digit (it goes into URL paths and host names).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Store {
    /// A handle on the same database that reads and writes the books of tenant `name`.
    pub fn tenant(&self, name: &str) -> Store {
        Store {
            engine: self.engine.clone(),
            counter_writes: self.counter_writes.clone(),
            tenant: name.into(),
            writer: self.writer.clone(),
        }
    }

    /// The tenant whose books this handle reads and writes.
    pub fn tenant_name(&self) -> &str {
        &self.tenant
    }

    /// Whether the store keeps tenants apart: a PostgreSQL store whose role obeys row security.
    pub fn isolates_tenants(&self) -> bool {
        match &*self.engine {
            Engine::Sqlite(_) => false,
            Engine::Postgres(store) => store.isolates_tenants.load(Ordering::Relaxed),
        }
    }

    /// Registers tenant `name`; false when it was registered already.
    pub fn add_tenant(&self, name: &str) -> StoreResult<bool> {
        if !valid_name(name) {
            return Err(StoreError::Open(format!(
                "{name:?} cannot name a tenant: use 1 to 63 lower-case letters, digits and hyphens"
            )));
        }
        self.needs_tenants()?;
        let added = self.write(|tx| tx.exec("INSERT OR IGNORE INTO tenants (name) VALUES (?1)", params![name]))?;
        Ok(added == 1)
    }

    /// Whether tenant `name` is registered (the default tenant always is).
    pub fn has_tenant(&self, name: &str) -> StoreResult<bool> {
        if name == DEFAULT {
            return Ok(true);
        }
        if !self.isolates_tenants() || !valid_name(name) {
            return Ok(false);
        }
        self.read(|tx| tx.opt_row("SELECT 1 FROM tenants WHERE name = ?1", params![name], |r| r.get::<_, i64>(0)))
            .map(|found| found.is_some())
    }

    /// Tenant `name`'s own PIN key, sealed under the nodes' key (`pin::seal_tenant_key`): kept for a shop
    /// moved in by `kassa store copy --tenant`, whose PINs were hashed under its `pin.key`. None for a tenant
    /// registered here (its key is derived from the nodes') and for one not registered.
    pub fn tenant_pin_key_sealed(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        if name == DEFAULT || !self.isolates_tenants() {
            return Ok(None);
        }
        let sealed = self.read(|tx| {
            tx.opt_row("SELECT pin_key_sealed FROM tenants WHERE name = ?1", params![name], |r| {
                r.get::<_, Option<Vec<u8>>>(0)
            })
        })?;
        Ok(sealed.flatten())
    }

    /// Every registered tenant, by name (PostgreSQL; the default one on SQLite).
    pub fn tenants(&self) -> StoreResult<Vec<String>> {
        match &*self.engine {
            Engine::Sqlite(_) => Ok(vec![DEFAULT.into()]),
            Engine::Postgres(_) => {
                self.read(|tx| tx.rows("SELECT name FROM tenants ORDER BY name", params![], |r| r.get(0)))
            }
        }
    }

    /// The tenants with waiting documents no running node sends (PostgreSQL; none on SQLite).
    pub fn unserved_tenants(&self) -> StoreResult<Vec<String>> {
        match &*self.engine {
            Engine::Sqlite(_) => Ok(Vec::new()),
            Engine::Postgres(store) => store.unserved_tenants(),
        }
    }

    /// Refuses tenants where the database would not keep them apart.
    fn needs_tenants(&self) -> StoreResult<()> {
        match &*self.engine {
            Engine::Sqlite(_) => Err(StoreError::Open(
                "tenants live in a PostgreSQL store: a SQLite store holds one shop's books".into(),
            )),
            Engine::Postgres(_) if !self.isolates_tenants() => Err(StoreError::Open(
                "this node's PostgreSQL role bypasses row security (a superuser, or BYPASSRLS), so the database \
                 would not keep tenants apart: serve from a role without it (docs/scale-out.md, Tenants)"
                    .into(),
            )),
            Engine::Postgres(_) => Ok(()),
        }
    }
}

impl PgStore {
    /// Finds whether the node's role obeys row security, which keeps tenants apart; says so when it does not.
    pub(super) fn check_row_security(&self) -> StoreResult<()> {
        let bypasses = self.read(DEFAULT, |db| {
            db.row("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user", params![], |r| {
                r.get::<_, bool>(0)
            })
        })?;
        self.isolates_tenants.store(!bypasses, Ordering::Relaxed);
        if bypasses {
            tracing::info!("this node's PostgreSQL role bypasses row security: it serves the default tenant only");
        }
        Ok(())
    }
}
