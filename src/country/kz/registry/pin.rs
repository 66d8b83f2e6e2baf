//! PINs at rest. A request carries only a PIN (no user name), so the PIN itself must find its operator:
//!
//! - the **keyed hash** `HMAC-SHA256(server key, PIN)` is the lookup index and makes duplicate PINs visible
//!   (code 12) without storing the PIN. The key is 32 random bytes in `pin.key` (0600) beside, not inside,
//!   the database: a copied `kassa.db` alone does not let anyone try the 10 000 four-digit PINs offline.
//! - the **slow hash** (argon2id, salted, PHC string) verifies the PIN found by the index, so the database
//!   holds only salted slow hashes of PINs.
//!
//! Verified PINs are cached by keyed hash, so a request costs one HMAC and a map lookup, not an argon2 run;
//! the cache is emptied whenever an operator is saved or deleted. A wrong PIN costs an HMAC and one indexed
//! lookup, and no argon2 run, so guessing cannot be turned into a CPU flood.
//!
//! Nodes sharing a store (PostgreSQL) change operators behind each other's back: every change also moves the
//! store's `operators_changed` fact, and a node trusts its cache for [`SHARED_TRUST`] at most before it
//! reads that fact again, emptying the cache when it moved.
use crate::country::kz::access::Caller;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;

/// argon2id with 7 MiB and 5 passes: OWASP's listed equivalent of 19 MiB × 2, lighter on a till's memory.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;

/// How long a node sharing its store trusts its verified PINs before it checks that no other node changed an
/// operator: a deleted cashier's PIN still works on another node for this long at most.
pub const SHARED_TRUST: std::time::Duration = std::time::Duration::from_secs(1);

/// The store's fact that moves whenever an operator is saved or deleted, on any node.
pub const OPERATORS_CHANGED: &str = "operators_changed";

/// The server's PIN key and the cache of verified PINs.
pub struct Pins {
    key: [u8; 32],
    verified: Mutex<Verified>,
    /// Shared store: when this node last read [`OPERATORS_CHANGED`], and what it said.
    shared: Option<Mutex<(Option<std::time::Instant>, Option<String>)>>,
    /// The database has no record of its key yet (older than migration 0009) and none of its PINs could
    /// be checked at start: the first PIN verified records it.
    unconfirmed: std::sync::atomic::AtomicBool,
}

/// The PIN key of tenant `tenant` of a shared store, from the nodes' key: the same PIN hashes differently in
/// two tenants, so their operators' rows do not show which PINs they share.
pub fn tenant_key(node_key: [u8; 32], tenant: &str) -> [u8; 32] {
    Pins::new(node_key, false).derived_key(&tenant_purpose(tenant))
}

/// What a tenant's PIN key is derived for ([`Pins::derived_key`]).
pub fn tenant_purpose(tenant: &str) -> String {
    format!("tenant {tenant}")
}

/// What the key that seals a moved-in shop's PIN key is derived for.
const SEAL_PURPOSE: &str = "sealed tenant pin keys 1";

/// A shop's own PIN key (its `pin.key`), sealed for the store's `tenants` row when the shop moves into tenant
/// `tenant` of a shared store (`kassa store copy --tenant`): its PINs stay hashed under it. ChaCha20-Poly1305
/// under a key derived from the nodes' key, a random nonce first, the tenant's name as associated data (a
/// sealed key moved to another tenant's row does not open).
pub fn seal_tenant_key(node_key: [u8; 32], tenant: &str, shop_key: [u8; 32]) -> Result<Vec<u8>, String> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let seal = Pins::new(node_key, false).derived_key(SEAL_PURPOSE);
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&seal.into());
    let nonce: [u8; 12] = rand::random();
    let sealed = cipher
        .encrypt(&nonce.into(), Payload { msg: &shop_key, aad: tenant.as_bytes() })
        .map_err(|_| "cannot seal the shop's PIN key".to_owned())?;
    Ok([nonce.as_slice(), &sealed].concat())
}

impl Pins {
    /// Tenant `tenant`'s PIN key from its sealed one ([`seal_tenant_key`]), this being the nodes' key; None
    /// when it does not open (sealed under another nodes' key, or changed).
    pub fn unseal_tenant_key(&self, tenant: &str, sealed: &[u8]) -> Option<[u8; 32]> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let (nonce, sealed) = sealed.split_at_checked(12)?;
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.derived_key(SEAL_PURPOSE).into());
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let key = cipher.decrypt(&nonce.into(), Payload { msg: sealed, aad: tenant.as_bytes() }).ok()?;
        key.try_into().ok()
    }
}

/// The folder fact that ties the database to its `pin.key`.
pub const KEY_CHECK: &str = "pin_key_check";

/// Verified PINs by keyed hash; `generation` moves on every `forget_all`, so a lookup that read the old
/// operators cannot put a stale entry back.
#[derive(Default)]
struct Verified {
    generation: u64,
    callers: HashMap<String, Caller>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Pins {
    /// `shared`: other nodes change operators in the same store.
    pub fn new(key: [u8; 32], shared: bool) -> Pins {
        Pins {
            key,
            verified: Mutex::new(Verified::default()),
            shared: shared.then(Mutex::default),
            unconfirmed: Default::default(),
        }
    }

    /// Whether the cache may be used without reading [`OPERATORS_CHANGED`] first (always, alone on a store).
    pub fn trusted(&self) -> bool {
        self.shared.as_ref().is_none_or(|s| {
            let seen = s.lock().unwrap_or_else(|p| p.into_inner());
            seen.0.is_some_and(|at| at.elapsed() < SHARED_TRUST)
        })
    }

    /// What [`OPERATORS_CHANGED`] says now, read by the caller: the cache is emptied when it moved.
    pub fn operators_changed(&self, now: Option<String>) {
        let Some(shared) = &self.shared else { return };
        let mut seen = shared.lock().unwrap_or_else(|p| p.into_inner());
        if seen.1 != now {
            self.forget_all();
            seen.1 = now;
        }
        seen.0 = Some(std::time::Instant::now());
    }

    /// The keyed hash of a fixed text: tells whether a database's PINs were hashed with this key without
    /// knowing any PIN (a copied `kassa.db` with it gives nothing to guess against).
    pub fn key_check(&self) -> String {
        self.lookup_key("kassa pin.key check 1")
    }

    /// Whether the key still waits for a verified PIN to confirm it (see `unconfirmed`).
    pub fn unconfirmed(&self) -> bool {
        self.unconfirmed.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_unconfirmed(&self, waiting: bool) {
        self.unconfirmed.store(waiting, std::sync::atomic::Ordering::Relaxed);
    }

    /// The keyed hash of a PIN, hex: the lookup index.
    pub fn lookup_key(&self, pin: &str) -> String {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            // HMAC takes a key of any length; this branch cannot run.
            Err(_) => return String::new(),
        };
        mac.update(pin.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A key for another purpose, derived from the PIN key (HMAC-SHA256 of `purpose`).
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            mac.update(purpose.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    /// The salted slow hash of a PIN (argon2id, PHC string).
    pub fn slow_hash(&self, pin: &str) -> Result<String, String> {
        // 16 bytes from rand's thread generator (a CSPRNG seeded by the OS).
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
        argon2().hash_password(pin.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
    }

    /// Whether `pin` matches a slow hash.
    pub fn verify(&self, pin: &str, slow_hash: &str) -> bool {
        match PasswordHash::new(slow_hash) {
            Ok(parsed) => argon2().verify_password(pin.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Verified> {
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The caller a PIN with this keyed hash was verified as, if cached; else the generation to remember it in.
    pub fn cached(&self, lookup_key: &str) -> Result<Caller, u64> {
        let cache = self.cache();
        match cache.callers.get(lookup_key) {
            Some(caller) if self.trusted() => Ok(caller.clone()),
            _ => Err(cache.generation),
        }
    }

    /// Remembers a verified PIN, unless operators changed since `generation`. Only right PINs get here, so
    /// the cache is never larger than the operator list.
    pub fn remember(&self, lookup_key: String, caller: Caller, generation: u64) {
        let mut cache = self.cache();
        if cache.generation == generation {
            cache.callers.insert(lookup_key, caller);
        }
    }

    /// Forgets every verified PIN (an operator, its PIN or its role changed).
    pub fn forget_all(&self) {
        let mut cache = self.cache();
        cache.generation += 1;
        cache.callers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_keyed_and_the_slow_hash_salted() {
        let a = Pins::new([1; 32], false);
        let b = Pins::new([2; 32], false);
        assert_eq!(a.lookup_key("1234"), a.lookup_key("1234"));
        assert_ne!(a.lookup_key("1234"), b.lookup_key("1234"), "another key, another index");
        assert_ne!(a.lookup_key("1234"), a.lookup_key("1235"));
        let h1 = a.slow_hash("1234").unwrap();
        let h2 = a.slow_hash("1234").unwrap();
        assert_ne!(h1, h2, "salted");
        assert!(h1.starts_with("$argon2id$"), "{h1}");
        assert!(a.verify("1234", &h1));
        assert!(!a.verify("1235", &h1));
    }

    #[test]
    fn a_sealed_shop_key_opens_only_under_the_nodes_key_for_its_tenant() {
        let nodes = [7; 32];
        let shop = [42; 32];
        let sealed = seal_tenant_key(nodes, "north", shop).unwrap();
        assert_eq!(sealed.len(), 12 + 32 + 16, "nonce, key, tag");
        assert!(!sealed.windows(32).any(|w| w == shop), "the key is not stored in plain");
        assert_ne!(sealed, seal_tenant_key(nodes, "north", shop).unwrap(), "a fresh nonce each time");
        assert_eq!(Pins::new(nodes, false).unseal_tenant_key("north", &sealed), Some(shop));
        assert_eq!(Pins::new(nodes, false).unseal_tenant_key("south", &sealed), None, "another tenant's row");
        assert_eq!(Pins::new([8; 32], false).unseal_tenant_key("north", &sealed), None, "other nodes' key");
        let mut changed = sealed.clone();
        changed[20] ^= 1;
        assert_eq!(Pins::new(nodes, false).unseal_tenant_key("north", &changed), None, "changed");
        assert_eq!(Pins::new(nodes, false).unseal_tenant_key("north", &sealed[..10]), None, "cut short");
    }
}
