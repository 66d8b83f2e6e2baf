//! The country-neutral ledger's tables (`0007_ledger`): devices, documents, shift counters; numbering, lifetime
//! counters and the fiscaliser's row (0013) are in `ledger_numbers.rs`, `ledger_totals.rs`, `ledger_fiscal.rs`.
use super::chain::Journal;
use super::sql::Row;
use super::{StoreError, StoreResult, Tx};
use rusqlite::params;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// A fiscal device of the neutral ledger (a Belarusian СКО, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRow {
    pub id: i64,
    pub country: String,
    pub serial: String,
    pub registration: serde_json::Value,
    pub next_number: i64,
    pub shift_number: i64,
    /// RFC 3339; `None` while no shift is open.
    pub shift_opened_at: Option<String>,
    pub retired_at: Option<String>,
    /// The last position used in the current shift (the next document takes the one after).
    pub shift_position: i64,
    /// The last number of the device's autonomous series (Kazakh KKMs start after 1000).
    pub last_autonomous: i64,
    /// The last request number the fiscaliser committed with a document (the Kazakh REQNUM).
    pub last_request: i64,
}

/// Where a document is with its fiscaliser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiscalState {
    Waiting = 0,
    Accepted = 1,
    Refused = 2,
    /// Refused while its sender waited and set aside: it keeps its row (never deleted) but leaves the
    /// journal and gave its shift position and autonomous number back (`Ledger::roll_back`).
    RolledBack = 3,
}

/// A document of the neutral ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerDocRow {
    pub id: i64,
    pub device_id: i64,
    pub number: i64,
    pub shift_number: i64,
    pub doc_type: String,
    pub uid: String,
    pub created_at: String,
    pub body: serde_json::Value,
    pub fiscal_state: FiscalState,
    pub fiscal_reply: Option<serde_json::Value>,
    /// Its position in its shift (1, 2, ...; the Kazakh ShiftDocumentNumber).
    pub shift_position: i64,
    /// Its number in the device's autonomous series, when it has one.
    pub autonomous_number: Option<i64>,
    /// When its shift opened (RFC 3339), for documents made since migration 0013.
    pub shift_opened_at: Option<String>,
    /// The ID its country's API shows, when that is not `id` (the Kazakh transaction ID; migration 0014).
    pub public_id: Option<i64>,
}

/// Where a document stands, without what it says: what a change of it checks and moves (`amend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocPlace {
    pub id: i64,
    pub device_id: i64,
    pub shift_number: i64,
    pub fiscal_state: FiscalState,
    pub autonomous_number: Option<i64>,
}

impl FiscalState {
    fn of_column(state: i64) -> Self {
        match state {
            1 => FiscalState::Accepted,
            2 => FiscalState::Refused,
            3 => FiscalState::RolledBack,
            _ => FiscalState::Waiting,
        }
    }
}

pub(super) const DEVICE_COLS: &str = "id, country, serial, registration, next_number, shift_number, shift_opened_at, \
     retired_at, shift_position, last_autonomous, last_request";
pub(super) const DOC_COLS: &str = "id, device_id, number, shift_number, doc_type, uid, created_at, body, fiscal_state, \
     fiscal_reply, coalesce(shift_position, 0), autonomous_number, shift_opened_at, public_id";

pub(super) fn device_of(r: &Row) -> rusqlite::Result<(DeviceRow, String)> {
    let registration: String = r.get(3)?;
    Ok((
        DeviceRow {
            id: r.get(0)?,
            country: r.get(1)?,
            serial: r.get(2)?,
            registration: serde_json::Value::Null,
            next_number: r.get(4)?,
            shift_number: r.get(5)?,
            shift_opened_at: r.get(6)?,
            retired_at: r.get(7)?,
            shift_position: r.get(8)?,
            last_autonomous: r.get(9)?,
            last_request: r.get(10)?,
        },
        registration,
    ))
}

pub(super) fn device(found: Option<(DeviceRow, String)>) -> StoreResult<Option<DeviceRow>> {
    found
        .map(|(mut d, json)| {
            d.registration = serde_json::from_str(&json)?;
            Ok(d)
        })
        .transpose()
}

pub(super) fn doc_of(r: &Row) -> rusqlite::Result<(LedgerDocRow, String, Option<String>)> {
    let state: i64 = r.get(8)?;
    Ok((
        LedgerDocRow {
            id: r.get(0)?,
            device_id: r.get(1)?,
            number: r.get(2)?,
            shift_number: r.get(3)?,
            doc_type: r.get(4)?,
            uid: r.get(5)?,
            created_at: r.get(6)?,
            body: serde_json::Value::Null,
            fiscal_state: FiscalState::of_column(state),
            fiscal_reply: None,
            shift_position: r.get(10)?,
            autonomous_number: r.get(11)?,
            shift_opened_at: r.get(12)?,
            public_id: r.get(13)?,
        },
        r.get(7)?,
        r.get(9)?,
    ))
}

pub(super) fn doc(found: Option<(LedgerDocRow, String, Option<String>)>) -> StoreResult<Option<LedgerDocRow>> {
    found
        .map(|(mut d, body, reply)| {
            d.body = serde_json::from_str(&body)?;
            d.fiscal_reply = reply.map(|r| serde_json::from_str(&r)).transpose()?;
            Ok(d)
        })
        .transpose()
}

fn outcome_of(r: &Row) -> rusqlite::Result<(FiscalState, Option<String>)> {
    Ok((FiscalState::of_column(r.get(0)?), r.get(1)?))
}

fn outcome(
    found: Option<(FiscalState, Option<String>)>,
) -> StoreResult<Option<(FiscalState, Option<serde_json::Value>)>> {
    found.map(|(state, reply)| Ok((state, reply.map(|r| serde_json::from_str(&r)).transpose()?))).transpose()
}

impl Tx<'_> {
    /// The device `serial` of `country`.
    pub fn ledger_device(&self, country: &str, serial: &str) -> StoreResult<Option<DeviceRow>> {
        device(self.opt_row(
            &format!("SELECT {DEVICE_COLS} FROM ledger_devices WHERE country = ?1 AND serial = ?2"),
            params![country, serial],
            device_of,
        )?)
    }

    /// Every device of every country, in ID order.
    pub fn ledger_devices(&self) -> StoreResult<Vec<DeviceRow>> {
        let rows = self.rows(&format!("SELECT {DEVICE_COLS} FROM ledger_devices ORDER BY id"), params![], device_of)?;
        rows.into_iter().filter_map(|r| device(Some(r)).transpose()).collect()
    }

    /// A device by its ID without its registration (left `Null`): what numbering a document needs, read twice
    /// a sale, where parsing the registration's JSON was a sixtieth of the writer thread's CPU.
    pub fn ledger_device_numbers(&self, id: i64) -> StoreResult<Option<DeviceRow>> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let cols = DEVICE_COLS.replace("registration", "'' AS registration");
            format!("SELECT {cols} FROM ledger_devices WHERE id = ?1")
        });
        Ok(self.opt_row(&SQL, params![id], device_of)?.map(|(device, _)| device))
    }

    /// A device by its ID.
    pub fn ledger_device_by_id(&self, id: i64) -> StoreResult<Option<DeviceRow>> {
        device(self.opt_row(
            &format!("SELECT {DEVICE_COLS} FROM ledger_devices WHERE id = ?1"),
            params![id],
            device_of,
        )?)
    }

    /// Records a device with its registration data (or updates the registration of a known one).
    pub fn ledger_register_device(
        &self,
        country: &str,
        serial: &str,
        registration: &serde_json::Value,
        first_number: i64,
        last_shift: i64,
    ) -> StoreResult<DeviceRow> {
        self.exec(
            "INSERT INTO ledger_devices (country, serial, registration, next_number, shift_number)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (country, serial) DO UPDATE SET registration = excluded.registration
             WHERE ledger_devices.registration <> excluded.registration",
            params![country, serial, registration.to_string(), first_number, last_shift],
        )?;
        self.ledger_device(country, serial)?.ok_or_else(|| StoreError::Corrupt("device vanished".into()))
    }

    /// Records the shift state of a device.
    pub fn ledger_set_shift(&self, device_id: i64, number: i64, opened_at: Option<&str>) -> StoreResult<()> {
        self.exec(
            "UPDATE ledger_devices SET shift_number = ?2, shift_opened_at = ?3 WHERE id = ?1",
            params![device_id, number, opened_at],
        )?;
        Ok(())
    }

    /// Records what the fiscaliser said about a document.
    pub fn ledger_set_fiscal_state(
        &self,
        doc_id: i64,
        state: FiscalState,
        reply: Option<&serde_json::Value>,
    ) -> StoreResult<()> {
        self.ledger_set_fiscal_state_unsealed(doc_id, state, reply)?;
        self.reseal_document(Journal::Ledger, doc_id)
    }

    /// The same, for a caller that seals the document itself once it changed everything (`Ledger::amend`).
    pub fn ledger_set_fiscal_state_unsealed(
        &self,
        doc_id: i64,
        state: FiscalState,
        reply: Option<&serde_json::Value>,
    ) -> StoreResult<()> {
        self.exec(
            "UPDATE ledger_documents SET fiscal_state = ?2, fiscal_reply = ?3 WHERE id = ?1",
            params![doc_id, state as i64, reply.map(|r| r.to_string())],
        )?;
        Ok(())
    }

    /// A document by its ID.
    pub fn ledger_document(&self, doc_id: i64) -> StoreResult<Option<LedgerDocRow>> {
        doc(self.opt_row(&format!("SELECT {DOC_COLS} FROM ledger_documents WHERE id = ?1"), params![doc_id], doc_of)?)
    }

    /// What the fiscaliser recorded of a document: its state and reply (its body is neither read nor parsed).
    pub fn ledger_fiscal_outcome(&self, doc_id: i64) -> StoreResult<Option<(FiscalState, Option<serde_json::Value>)>> {
        outcome(self.opt_row(
            "SELECT fiscal_state, fiscal_reply FROM ledger_documents WHERE id = ?1",
            params![doc_id],
            outcome_of,
        )?)
    }

    /// [`Tx::ledger_fiscal_outcome`] of a document by its number on a device.
    pub fn ledger_fiscal_outcome_by_number(
        &self,
        device_id: i64,
        number: i64,
    ) -> StoreResult<Option<(FiscalState, Option<serde_json::Value>)>> {
        outcome(self.opt_row(
            "SELECT fiscal_state, fiscal_reply FROM ledger_documents WHERE device_id = ?1 AND number = ?2",
            params![device_id, number],
            outcome_of,
        )?)
    }

    /// Where a document stands ([`DocPlace`]): its body and reply are neither read nor parsed.
    pub fn ledger_document_place(&self, doc_id: i64) -> StoreResult<Option<DocPlace>> {
        self.opt_row(
            "SELECT device_id, shift_number, fiscal_state, autonomous_number FROM ledger_documents WHERE id = ?1",
            params![doc_id],
            |r| {
                Ok(DocPlace {
                    id: doc_id,
                    device_id: r.get(0)?,
                    shift_number: r.get(1)?,
                    fiscal_state: FiscalState::of_column(r.get(2)?),
                    autonomous_number: r.get(3)?,
                })
            },
        )
    }

    /// A document by its number on a device.
    pub fn ledger_document_by_number(&self, device_id: i64, number: i64) -> StoreResult<Option<LedgerDocRow>> {
        doc(self.opt_row(
            &format!("SELECT {DOC_COLS} FROM ledger_documents WHERE device_id = ?1 AND number = ?2"),
            params![device_id, number],
            doc_of,
        )?)
    }

    /// The device's last document of one of `types` (newest first by number).
    pub fn ledger_last_document(&self, device_id: i64, types: &[&str]) -> StoreResult<Option<LedgerDocRow>> {
        let list = types.iter().map(|t| format!("'{}'", t.replace('\'', "''"))).collect::<Vec<_>>().join(",");
        doc(self.opt_row(
            &format!(
                "SELECT {DOC_COLS} FROM ledger_documents WHERE device_id = ?1 AND doc_type IN ({list})
                     AND fiscal_state <> 3 ORDER BY number DESC LIMIT 1"
            ),
            params![device_id],
            doc_of,
        )?)
    }

    /// The oldest document still waiting for the fiscaliser, and how many wait.
    pub fn ledger_waiting(&self, device_id: i64) -> StoreResult<(i64, Option<LedgerDocRow>)> {
        let count = self.ledger_waiting_count(device_id)?;
        let oldest = doc(self.opt_row(
            &format!(
                "SELECT {DOC_COLS} FROM ledger_documents WHERE device_id = ?1 AND fiscal_state = 0
                     ORDER BY number LIMIT 1"
            ),
            params![device_id],
            doc_of,
        )?)?;
        Ok((count, oldest))
    }

    /// How many documents wait for the fiscaliser (only the count: the index answers it, no document is read).
    pub fn ledger_waiting_count(&self, device_id: i64) -> StoreResult<i64> {
        self.row(
            "SELECT count(*) FROM ledger_documents WHERE device_id = ?1 AND fiscal_state = 0",
            params![device_id],
            |r| r.get(0),
        )
    }

    /// How many documents a shift holds.
    pub fn ledger_shift_document_count(&self, device_id: i64, shift: i64) -> StoreResult<i64> {
        self.row(
            "SELECT count(*) FROM ledger_documents WHERE device_id = ?1 AND shift_number = ?2 AND fiscal_state <> 3",
            params![device_id, shift],
            |r| r.get(0),
        )
    }

    /// The counters of a shift.
    pub fn ledger_counters(&self, device_id: i64, shift: i64) -> StoreResult<BTreeMap<String, Decimal>> {
        let rows = self.rows(
            "SELECT name, value FROM ledger_counters WHERE device_id = ?1 AND shift_number = ?2",
            params![device_id, shift],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?;
        let mut out = BTreeMap::new();
        for (name, value) in rows {
            let v = Decimal::from_str(&value).map_err(|e| StoreError::Corrupt(format!("counter {name}: {e}")))?;
            out.insert(name, v);
        }
        Ok(out)
    }

    /// The template version a ledger document keeps, recording `t` the first time.
    pub fn ledger_remember_template(
        &self,
        doc_id: i64,
        t: &super::TemplateRow,
    ) -> StoreResult<Option<super::TemplateRow>> {
        self.exec_later(
            "INSERT OR IGNORE INTO templates (sha256, name, source) VALUES (?1, ?2, ?3)",
            params![t.sha256, t.name, t.source],
        )?;
        let kept = self.exec(
            "UPDATE ledger_documents SET template_sha256 = ?2 WHERE id = ?1 AND template_sha256 IS NULL",
            params![doc_id, t.sha256],
        )?;
        if kept > 0 {
            self.reseal_document(Journal::Ledger, doc_id)?;
        }
        self.opt_row(
            "SELECT t.sha256, t.name, t.source FROM ledger_documents d
                 JOIN templates t ON t.sha256 = d.template_sha256 WHERE d.id = ?1",
            params![doc_id],
            |r| Ok(super::TemplateRow { sha256: r.get(0)?, name: r.get(1)?, source: r.get(2)? }),
        )
    }
}
