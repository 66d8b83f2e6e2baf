//! Idempotency keys, one place for every front (migration 0008): a key belongs to one device and one method,
//! and remembers a digest of the request that made its document.
//!
//! A front looks a key up first (after the caller's access check, before any rule runs), so a retry after
//! the drawer or the shift changed still gets the document its first attempt made; the same key with
//! another request is refused ([`Replay::Conflict`]), never answered with another document. The key is
//! recorded in the transaction that writes its document.
use super::{StoreResult, Tx};
use rusqlite::params;
use sha2::{Digest, Sha256};

/// Which journal a key's document is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Book {
    /// `documents`, by the KKM's internal ID.
    Kkm,
    /// `ledger_documents`, by the ledger device's ID.
    Ledger,
}

impl Book {
    fn name(self) -> &'static str {
        match self {
            Book::Kkm => "kkm",
            Book::Ledger => "ledger",
        }
    }
}

/// A key as a front received it: the key, the method it came with and a digest of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    pub method: String,
    pub key: String,
    /// SHA-256 (hex) of the request in canonical JSON (object keys sorted), so the order of its fields does
    /// not matter.
    pub digest: String,
}

impl RequestKey {
    pub fn new(method: &str, key: &str, request: &serde_json::Value) -> RequestKey {
        let mut h = Sha256::new();
        canonical(request, &mut h);
        RequestKey { method: method.to_owned(), key: key.to_owned(), digest: hex::encode(h.finalize()) }
    }
}

/// Feeds `v` as JSON with every object's keys sorted.
fn canonical(v: &serde_json::Value, h: &mut Sha256) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            h.update(b"{");
            for k in keys {
                h.update(Value::String(k.clone()).to_string().as_bytes());
                h.update(b":");
                canonical(&map[k], h);
                h.update(b",");
            }
            h.update(b"}");
        }
        Value::Array(list) => {
            h.update(b"[");
            for item in list {
                canonical(item, h);
                h.update(b",");
            }
            h.update(b"]");
        }
        other => h.update(other.to_string().as_bytes()),
    }
}

/// What a key says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Never seen on this device and method: make the document.
    New,
    /// The same request made this document: answer it again.
    Stored(i64),
    /// The key made a document from another request: refuse.
    Conflict,
}

impl Tx<'_> {
    /// What `key` says about a request to `device` of `book`.
    pub fn replay(&self, book: Book, device: i64, key: &RequestKey) -> StoreResult<Replay> {
        let found: Option<(i64, Option<String>)> = self.opt_row(
            "SELECT document_id, request FROM idempotency_keys
                 WHERE book = ?1 AND device_id = ?2 AND method = ?3 AND key = ?4",
            params![book.name(), device, key.method, key.key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(match found {
            None => Replay::New,
            // A key kept from before migration 0008 has no digest: it replays, as it always did.
            Some((doc, None)) => Replay::Stored(doc),
            Some((doc, Some(digest))) if digest == key.digest => Replay::Stored(doc),
            Some(_) => Replay::Conflict,
        })
    }

    /// Records that `key` made document `doc` (in the transaction that writes the document).
    pub fn remember_key(&self, book: Book, device: i64, key: &RequestKey, doc: i64) -> StoreResult<()> {
        self.exec_later(
            "INSERT INTO idempotency_keys (book, device_id, method, key, request, document_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![book.name(), device, key.method, key.key, key.digest, doc],
        )?;
        Ok(())
    }

    /// The newest document `key` made on `device`, whatever the method (a repeat by tag names no method).
    pub fn newest_by_key(&self, book: Book, device: i64, key: &str) -> StoreResult<Option<i64>> {
        self.opt_row(
            "SELECT document_id FROM idempotency_keys WHERE book = ?1 AND device_id = ?2 AND key = ?3
                 ORDER BY document_id DESC LIMIT 1",
            params![book.name(), device, key],
            |r| r.get(0),
        )
    }

    /// Frees the key of a document that was rolled back, so the POS's retry makes it anew.
    pub(super) fn forget_key(&self, book: Book, doc: i64) -> StoreResult<()> {
        self.exec("DELETE FROM idempotency_keys WHERE book = ?1 AND document_id = ?2", params![book.name(), doc])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_digest_ignores_field_order_and_sees_every_value() {
        let a = RequestKey::new("m", "k", &json!({"a": 1, "b": {"x": [1, 2], "y": "z"}}));
        let b = RequestKey::new("m", "k", &json!({"b": {"y": "z", "x": [1, 2]}, "a": 1}));
        let c = RequestKey::new("m", "k", &json!({"a": 1, "b": {"x": [2, 1], "y": "z"}}));
        let d = RequestKey::new("m", "k", &json!({"a": "1", "b": {"x": [1, 2], "y": "z"}}));
        assert_eq!(a.digest, b.digest);
        assert_ne!(a.digest, c.digest);
        assert_ne!(a.digest, d.digest);
    }
}
