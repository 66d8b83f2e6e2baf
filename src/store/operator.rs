//! Operators (cashiers) and their KKM bindings. PINs are stored only as hashes (see `fiscal::pin`).
use super::sql::Row;
use super::{StoreResult, Tx};
use rusqlite::params;

/// An operator as stored. `bindings` are internal KKM IDs.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorRow {
    /// Internal ID; 0 before insertion.
    pub id: i64,
    pub name: String,
    /// The keyed hash of the PIN (HMAC-SHA256 with the server key, hex): finds the operator, unique.
    pub pin_key: String,
    /// The salted slow hash of the PIN (argon2id, PHC string) that verifies it.
    pub pin_hash: String,
    /// 1 administrator, 2 senior cashier, 3 cashier.
    pub role: u8,
    pub email: String,
    /// The operator who created this one (0 for the first administrator).
    pub owner_id: i64,
    /// Any JSON, kept verbatim.
    pub custom_data: serde_json::Value,
    pub bindings: Vec<i64>,
}

const COLUMNS: &str = "id, name, pin_key, pin_hash, role, email, owner_id, custom_data";

fn from_row(row: &Row) -> rusqlite::Result<(OperatorRow, String)> {
    Ok((
        OperatorRow {
            id: row.get(0)?,
            name: row.get(1)?,
            pin_key: row.get(2)?,
            pin_hash: row.get(3)?,
            role: row.get(4)?,
            email: row.get(5)?,
            owner_id: row.get(6)?,
            custom_data: serde_json::Value::Null,
            bindings: Vec::new(),
        },
        row.get(7)?,
    ))
}

impl Tx<'_> {
    fn finish_operator(&self, (mut op, custom): (OperatorRow, String)) -> StoreResult<OperatorRow> {
        op.custom_data = serde_json::from_str(&custom)?;
        op.bindings = self.operator_bindings(op.id)?;
        Ok(op)
    }

    fn operator_where(&self, clause: &str, param: &dyn rusqlite::ToSql) -> StoreResult<Option<OperatorRow>> {
        let sql = format!("SELECT {COLUMNS} FROM operators WHERE {clause}");
        let found = self.opt_row(&sql, params![param], from_row)?;
        found.map(|r| self.finish_operator(r)).transpose()
    }

    /// Every operator, by ID.
    pub fn operators(&self) -> StoreResult<Vec<OperatorRow>> {
        let rows = self.rows(&format!("SELECT {COLUMNS} FROM operators ORDER BY id"), params![], from_row)?;
        rows.into_iter().map(|r| self.finish_operator(r)).collect()
    }

    /// The operator with this ID.
    pub fn operator(&self, id: i64) -> StoreResult<Option<OperatorRow>> {
        self.operator_where("id = ?1", &id)
    }

    /// The operator whose PIN has this keyed hash (and is already hashed).
    pub fn operator_by_pin_key(&self, pin_key: &str) -> StoreResult<Option<OperatorRow>> {
        self.operator_where("pin_key = ?1 AND pin_hash <> ''", &pin_key)
    }

    /// Whether another operator (not `except_id`) already has a PIN with this keyed hash.
    pub fn pin_key_taken(&self, pin_key: &str, except_id: i64) -> StoreResult<bool> {
        Ok(self
            .opt_row(
                "SELECT 1 FROM operators WHERE pin_key = ?1 AND id <> ?2",
                params![pin_key, except_id],
                |_| Ok(()),
            )?
            .is_some())
    }

    /// Operators whose PIN an older schema stored in plain text: `(id, PIN)`.
    pub fn plain_pins(&self) -> StoreResult<Vec<(i64, String)>> {
        self.rows("SELECT id, pin_key FROM operators WHERE pin_hash = '' ORDER BY id", params![], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// How many operators have a hashed PIN (they need the server key that made it).
    pub fn hashed_pins(&self) -> StoreResult<i64> {
        self.row("SELECT count(*) FROM operators WHERE pin_hash <> ''", params![], |r| r.get(0))
    }

    /// Replaces an operator's PIN hashes.
    pub fn set_operator_pin(&self, id: i64, pin_key: &str, pin_hash: &str) -> StoreResult<()> {
        self.exec("UPDATE operators SET pin_key = ?2, pin_hash = ?3 WHERE id = ?1", params![id, pin_key, pin_hash])?;
        Ok(())
    }

    /// Whether another operator (not `except_id`) already uses this e-mail (case-insensitive; empty never counts).
    pub fn email_taken(&self, email: &str, except_id: i64) -> StoreResult<bool> {
        if email.is_empty() {
            return Ok(false);
        }
        Ok(self
            .opt_row(
                "SELECT 1 FROM operators WHERE lower(email) = lower(?1) AND email <> '' AND id <> ?2",
                params![email, except_id],
                |_| Ok(()),
            )?
            .is_some())
    }

    /// How many administrators exist, not counting `except_id`.
    pub fn administrators_except(&self, except_id: i64) -> StoreResult<i64> {
        self.row("SELECT count(*) FROM operators WHERE role = 1 AND id <> ?1", params![except_id], |r| r.get(0))
    }

    /// Inserts a new operator (its `id` is ignored) with its bindings; returns the new ID.
    pub fn insert_operator(&self, op: &OperatorRow) -> StoreResult<i64> {
        let id = self.db().insert_id(
            "INSERT INTO operators (name, pin_key, pin_hash, role, email, owner_id, custom_data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![op.name, op.pin_key, op.pin_hash, op.role, op.email, op.owner_id, op.custom_data.to_string()],
            "id",
        )?;
        self.set_operator_bindings(id, &op.bindings)?;
        Ok(id)
    }

    /// Rewrites an operator's fields and bindings (`owner_id` is kept).
    pub fn update_operator(&self, op: &OperatorRow) -> StoreResult<()> {
        self.exec(
            "UPDATE operators SET name = ?2, pin_key = ?3, pin_hash = ?4, role = ?5, email = ?6, custom_data = ?7
             WHERE id = ?1",
            params![op.id, op.name, op.pin_key, op.pin_hash, op.role, op.email, op.custom_data.to_string()],
        )?;
        self.set_operator_bindings(op.id, &op.bindings)
    }

    /// Deletes an operator and its bindings; false when there was none.
    pub fn delete_operator(&self, id: i64) -> StoreResult<bool> {
        Ok(self.exec("DELETE FROM operators WHERE id = ?1", params![id])? > 0)
    }

    /// The internal KKM IDs this operator is bound to.
    pub fn operator_bindings(&self, operator_id: i64) -> StoreResult<Vec<i64>> {
        self.rows("SELECT kkm_id FROM kkm_bindings WHERE operator_id = ?1 ORDER BY kkm_id", params![operator_id], |r| {
            r.get(0)
        })
    }

    fn set_operator_bindings(&self, operator_id: i64, kkm_ids: &[i64]) -> StoreResult<()> {
        self.exec("DELETE FROM kkm_bindings WHERE operator_id = ?1", params![operator_id])?;
        for kkm_id in kkm_ids {
            self.exec(
                "INSERT OR IGNORE INTO kkm_bindings (kkm_id, operator_id) VALUES (?1, ?2)",
                params![kkm_id, operator_id],
            )?;
        }
        Ok(())
    }

    /// Those of `ids` that name no operator.
    pub fn missing_operators(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        let mut missing = Vec::new();
        for id in ids {
            if self.opt_row("SELECT 1 FROM operators WHERE id = ?1", params![id], |_| Ok(()))?.is_none() {
                missing.push(*id);
            }
        }
        Ok(missing)
    }
}
