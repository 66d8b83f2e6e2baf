//! Per-device leases (issue 25, part 3): which node of a database serves a device now.
//!
//! A device's documents are numbered, committed and sent to its authority by one node at a time, the holder
//! of its lease: a row of `device_leases` with a bounded lifetime and a fence that grows each time the lease
//! changes hands. The database checks the lease in every write transaction of the device (a trigger on its
//! rows, `0002_leases.sql`), so a node that lost its lease cannot commit, whatever its memory says. A node
//! takes a lease when it serves a request or sends a queue ([`PgStore::hold`]); a lease nobody renews
//! lapses, and the next node to need the device takes it over.
//!
//! The node remembers until when it holds each lease, measured from before it asked, so its memory always
//! ends before the database's row does (as long as the two clocks run at about the same rate).
use super::serve::{PgStore, quoted};
use crate::store::sql::Db;
use crate::store::tenant::NODE_VIEW;
use crate::store::{StoreError, StoreResult, lock};
use rusqlite::params;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

/// Who serves a device.
#[derive(Debug, Clone, PartialEq)]
pub enum Holder {
    /// This node: it may write and send the device's documents while its lease lasts.
    Here {
        /// Another node held the lease since this node last did: what it remembers of the device is stale.
        taken_over: bool,
    },
    /// Another node, whose lease has not lapsed.
    Elsewhere(Lease),
}

/// Another node's lease of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub device: i64,
    /// The holder's name (host, process, start).
    pub node: String,
    /// The holder's front listeners (`{"api": "http://…", "by": …, "ua": …}`), for a request handed over.
    pub address: serde_json::Value,
}

impl Lease {
    /// The base URL of the holder's listener of `front` (`api`, `by`, `ua`).
    pub fn url(&self, front: &str) -> Option<&str> {
        self.address.get(front).and_then(|a| a.as_str())
    }
}

/// This node as the database knows it.
pub(crate) struct Node {
    /// Unique per process: the host, the process and a random part.
    pub name: String,
    /// The second half of the node's presence lock (`kassa_presence()`, this): held while the node runs.
    pub key: i32,
    /// How long a lease lasts unless renewed.
    pub lease: Duration,
    /// The node's front listeners, once they are bound: by front, the base URL.
    address: RwLock<serde_json::Map<String, serde_json::Value>>,
    /// The leases this node holds: the fence and until when, by device and its tenant (ids are a tenant's).
    held: Mutex<HashMap<i64, HashMap<String, Held>>>,
}

#[derive(Clone, Copy)]
struct Held {
    fence: i64,
    until: Instant,
}

impl Node {
    pub fn new(lease: Duration) -> Node {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".into());
        let key = (rand::random::<u32>() >> 1) as i32;
        let name = format!("{host}/{}/{key:08x}", std::process::id());
        Node { name, key, lease, address: RwLock::default(), held: Mutex::default() }
    }

    /// The batch that begins a write transaction naming this node to the leases, on the rows of `tenant`.
    pub fn begin(&self, tenant: &str) -> String {
        let address = serde_json::Value::Object(self.address.read().unwrap_or_else(|p| p.into_inner()).clone());
        let address = quoted(&address.to_string());
        format!(
            "BEGIN; SELECT set_config('kassa.node', '{}', true), set_config('kassa.node_key', '{}', true), \
             set_config('kassa.address', '{address}', true), set_config('kassa.lease', '{}', true), \
             set_config('kassa.tenant', '{}', true)",
            quoted(&self.name),
            self.key,
            self.lease.as_secs_f64(),
            quoted(tenant)
        )
    }

    /// Whether this node holds the lease of `tenant`'s `device` for at least `at_least` more, by its own memory.
    fn holds(&self, tenant: &str, device: i64, at_least: Duration) -> bool {
        let held = lock(&self.held);
        held.get(&device).and_then(|t| t.get(tenant)).is_some_and(|h| h.until > Instant::now() + at_least)
    }
}

impl PgStore {
    /// Takes the node's presence lock on a connection of its own, kept while the node runs: the other nodes
    /// see the node alive while the lock is held, and take its devices at once when it is gone.
    pub(super) fn keep_presence(&self) -> StoreResult<()> {
        let mut presence = lock(&self.presence);
        if presence.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(());
        }
        let conn = self.connect_hearing(Some(self.unserved.clone()))?;
        conn.batch(&format!(
            "SELECT pg_advisory_lock(kassa_presence(), {}); LISTEN {UNSERVED_CHANNEL}",
            self.node.key
        ))?;
        if presence.replace(conn).is_some() {
            tracing::warn!(node = %self.node.name, "the presence connection was lost and is made again: other nodes \
                may have taken this node's devices meanwhile");
        }
        Ok(())
    }

    /// Names the base URL of the node's listener of `front`, given to a node that hands a request over. The
    /// leases it took before its listeners were bound (queues adopted at start) get the address too.
    pub fn advertise(&self, front: &str, url: &str) {
        let mut address = self.node.address.write().unwrap_or_else(|p| p.into_inner());
        address.insert(front.to_owned(), url.into());
        drop(address);
        let name = self.node.name.clone();
        let updated = self.write(NODE_VIEW, |db| {
            db.exec(
                "UPDATE device_leases SET address = current_setting('kassa.address') WHERE node = ?1",
                params![name],
            )
        });
        if let Err(e) = updated {
            tracing::warn!(error = %e, "cannot give this node's leases its address");
        }
    }

    /// Whether this node holds the lease of `tenant`'s `device` for at least `at_least` more, without asking
    /// the database.
    pub fn holds(&self, tenant: &str, device: i64, at_least: Duration) -> bool {
        self.node.holds(tenant, device, at_least)
    }

    /// How many leases this node holds now, by its memory.
    pub fn leases_held(&self) -> usize {
        let now = Instant::now();
        lock(&self.node.held).values().flat_map(|t| t.values()).filter(|h| h.until > now).count()
    }

    /// Takes, keeps or renews the lease of `tenant`'s `device` for at least `at_least` (the node's lease time
    /// when longer), unless another node holds it.
    pub fn hold(&self, tenant: &str, device: i64, at_least: Duration) -> StoreResult<Holder> {
        if self.node.holds(tenant, device, at_least) {
            return Ok(Holder::Here { taken_over: false });
        }
        let asked = Instant::now();
        let (node, address, fence, left_ms) = self.write(tenant, |db| {
            db.row(
                "SELECT node, address, fence, (EXTRACT(EPOCH FROM expires_at - clock_timestamp()) * 1000)::bigint
                   FROM kassa_hold(?1, ?2::bigint * interval '1 millisecond')",
                params![device, at_least.as_millis() as i64],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
            )
        })?;
        let mut held = lock(&self.node.held);
        let left = Duration::from_millis(left_ms.max(0) as u64);
        if node != self.node.name {
            if let Some(tenants) = held.get_mut(&device) {
                tenants.remove(tenant);
            }
            let address = serde_json::from_str(&address).unwrap_or_default();
            return Ok(Holder::Elsewhere(Lease { device, node, address }));
        }
        let until = asked + left;
        let before = held.entry(device).or_default().insert(tenant.to_owned(), Held { fence, until });
        Ok(Holder::Here { taken_over: before.is_none_or(|b| b.fence != fence) })
    }

    /// Lets go of every lease this node holds (a clean stop), so other nodes take its devices at once; the
    /// node writes nothing after this.
    pub fn release_leases(&self) -> StoreResult<()> {
        let name = self.node.name.clone();
        let released = self.write(NODE_VIEW, |db| {
            // From now on no write begins: none takes a lease again after this one lets them go.
            self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
            let released = db.exec(
                "UPDATE device_leases SET expires_at = clock_timestamp() WHERE node = ?1 AND expires_at > clock_timestamp()",
                params![name],
            )?;
            // Heard by every other node at this commit: they send the queues of these devices at once.
            db.exec(&format!("NOTIFY {UNSERVED_CHANNEL}, '{}'", quoted(&name)), params![])?;
            Ok::<_, StoreError>(released)
        })?;
        lock(&self.node.held).clear();
        tracing::info!(node = %self.node.name, released, "leases released");
        Ok(())
    }

    /// Devices of `tenant` with documents waiting for their authority that no running node serves: nobody
    /// holds them, their lease lapsed, or their holder stopped running. A device this node serves is not one
    /// of them: its own sender and requests send its queue (a document of it may be on its way now).
    pub fn unserved_queues(&self, tenant: &str) -> StoreResult<Vec<i64>> {
        self.read(tenant, |db: Db| {
            db.rows(
                &format!("SELECT DISTINCT d.device_id {UNSERVED} AND d.tenant_id = ?1 ORDER BY d.device_id"),
                params![tenant],
                |r| r.get(0),
            )
        })
    }

    /// The tenants with queues no running node serves (see [`PgStore::unserved_queues`]).
    pub fn unserved_tenants(&self) -> StoreResult<Vec<String>> {
        self.read(NODE_VIEW, |db: Db| {
            db.rows(&format!("SELECT DISTINCT d.tenant_id {UNSERVED} ORDER BY 1"), params![], |r| r.get(0))
        })
    }
}

/// The channel a node that lets go of its devices notifies (`LISTEN` on every node's presence connection).
const UNSERVED_CHANNEL: &str = "kassa_unserved";

/// Waiting documents whose device no running node serves.
const UNSERVED: &str = "FROM ledger_documents d
      LEFT JOIN device_leases l ON l.device_id = d.device_id AND l.tenant_id = d.tenant_id
     WHERE d.fiscal_state = 0
       AND (l.device_id IS NULL OR l.expires_at <= clock_timestamp() OR NOT kassa_node_alive(l.node_key))";

/// The lease a refused write names, from the database's error (`KL001`, its detail a JSON object).
pub(crate) fn refused(e: &postgres::Error) -> Option<StoreError> {
    let db = e.as_db_error()?;
    if db.code().code() != "KL001" {
        return None;
    }
    let detail: serde_json::Value = serde_json::from_str(db.detail()?).ok()?;
    let lease = Lease {
        device: detail["device"].as_i64()?,
        node: detail["node"].as_str()?.to_owned(),
        address: detail["address"].clone(),
    };
    // This node wrote for a device it no longer serves (it was paused, or cut off, past its lease).
    tracing::warn!(device = lease.device, holder = %lease.node, "a write was refused: another node serves the device now");
    Some(StoreError::ServedElsewhere(Box::new(lease)))
}
