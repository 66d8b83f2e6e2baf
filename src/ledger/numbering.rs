//! Numbering, shifts and rollback: how the ledger commits a document, each rule once for every country.
//!
//! A document gets three numbers in the transaction that commits it:
//! - `number`, per device: the journal order, never reused (a rolled-back document keeps its row and its
//!   number, as a Kazakh rolled-back document keeps its transaction ID);
//! - `shift_position`, per shift: 1, 2, ... from the shift's opening (the Kazakh ShiftDocumentNumber);
//! - `autonomous_number`, when asked: the next of the device's autonomous series, which runs over the
//!   device's life and never restarts at a shift (the Kazakh offline ticket number, after 1000).
//!
//! A shift opens explicitly ([`Ledger::open_shift`], [`Ledger::open_shift_with`]) or with its first document
//! ([`Numbering::open_if_closed`], as a Kazakh KKM's first document opens its shift), and closes with a
//! document ([`Numbering::close_shift`], a Z report). A fiscaliser that numbers its requests (the Kazakh
//! REQNUM) takes its next number in the same transaction ([`NewFiscal::next_request`]).
//!
//! [`Ledger::roll_back`] sets aside the device's newest document when its authority refused it while its
//! sender waited: its shift position and autonomous number go back (the next document takes them), what it
//! added to the counters is taken back, a shift it opened is closed again and a shift it closed is open again,
//! and its idempotency key is freed for the retry. The request number stays used (the authority saw it).
use super::{Entry, Ledger, LedgerError, LedgerResult, Seen, seen};
use crate::store::{CounterRows, FiscalNoteRow, FiscalState, LedgerDocRow, NumberedDoc, Numbers, RequestKey, Tx};
use std::borrow::Cow;

/// How a document is numbered and what it does to its shift.
#[derive(Debug, Clone, Default)]
pub struct Numbering<'a> {
    /// Opens shift `number` at `at` first, whatever the device's shift was (a Ukrainian opening document).
    pub open: Option<(i64, &'a str)>,
    /// When no shift is open, opens the next one at this time first (a Kazakh KKM's first document).
    pub open_if_closed: Option<&'a str>,
    /// Closes its shift (a Z report).
    pub close_shift: bool,
    /// Takes the next number of the device's autonomous series (a Kazakh ticket made offline).
    pub autonomous_number: bool,
    /// What its fiscaliser keeps beside it, written in the same transaction.
    pub fiscal: Option<NewFiscal>,
    /// Takes the next public ID of this country's sequence (the Kazakh transaction ID, which runs over all
    /// KKMs and is never given back).
    pub public_id: Option<&'a str>,
}

/// A fiscaliser's row made with its document.
#[derive(Debug, Clone, Default)]
pub struct NewFiscal {
    /// The next request number from the device's last one (the Kazakh `next_reqnum`, which wraps and skips 0).
    pub next_request: Option<fn(i64) -> i64>,
    /// The encoded request.
    pub request: Option<Vec<u8>>,
    /// Made autonomously (offline).
    pub autonomous: bool,
}

/// Bits of `shift_change`.
const OPENED: i64 = 1;
const CLOSED: i64 = 2;

impl Ledger {
    /// Commits `entry` as the device's next document, numbered and with its shift change as `how` says, with
    /// its counters (its shift's and the device's life) and its key, in one transaction. A key seen before
    /// returns the document it made instead; a retired device makes no more documents.
    pub fn commit_numbered(
        &self,
        device_id: i64,
        entry: &Entry,
        key: Option<&RequestKey>,
        how: &Numbering,
    ) -> LedgerResult<LedgerDocRow> {
        self.store.write(|tx| commit(tx, device_id, entry, key, how))
    }

    /// Sets aside the device's newest document, which its authority refused while its sender waited, and
    /// gives its numbers back (see the module). Only the newest kept document of its device, in its current
    /// shift, holding the last autonomous number issued (if any), and not accepted, can be rolled back, so
    /// the numbers stay dense.
    pub fn roll_back(&self, doc_id: i64) -> LedgerResult<LedgerDocRow> {
        self.store.write(|tx| roll_back(tx, doc_id))
    }

    /// Sets where a device's autonomous series and request numbers start (a Kazakh KKM: after 1000, and
    /// the REQNUM it registered with); refused once a document holds one of them.
    pub fn start_series(&self, device_id: i64, last_autonomous: i64, last_request: i64) -> LedgerResult<()> {
        self.store.write(|tx| {
            let device = tx.ledger_device_by_id(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
            let used = tx
                .ledger_journal(
                    device_id,
                    &crate::store::LedgerJournalFilter { rolled_back: true, ..Default::default() },
                )?
                .iter()
                .any(|d| d.autonomous_number.is_some())
                || device.last_request != 0;
            if used {
                return Err(LedgerError::SeriesInUse(device_id));
            }
            tx.ledger_set_numbers(device_id, Numbers { last_autonomous, last_request, ..numbers(&device) })?;
            Ok(())
        })
    }
}

/// What a device's numbering stands at.
fn numbers(device: &crate::store::DeviceRow) -> Numbers {
    Numbers {
        next_number: device.next_number,
        shift_position: device.shift_position,
        last_autonomous: device.last_autonomous,
        last_request: device.last_request,
    }
}

/// The numbers a document committed now with `how` takes (see [`upcoming`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    pub shift_number: i64,
    pub shift_position: i64,
    /// When its shift opened (itself, when it opens it).
    pub shift_opened_at: Option<String>,
    /// It opens its shift.
    pub opens_shift: bool,
    pub autonomous_number: Option<i64>,
    pub request_number: Option<i64>,
    pub public_id: Option<i64>,
}

/// The shift a document opens before it is numbered, if any.
fn opening<'a>(device: &crate::store::DeviceRow, how: &Numbering<'a>) -> Option<(i64, &'a str)> {
    match (how.open, how.open_if_closed) {
        (Some(open), _) => Some(open),
        (None, Some(at)) if device.shift_opened_at.is_none() => Some((device.shift_number + 1, at)),
        _ => None,
    }
}

/// The numbers the next document of the device would take with `how`, read inside the transaction that
/// commits it, so a country's rules can print them in the document they build (a Kazakh ticket shows its
/// shift, position and autonomous number; its request carries its REQNUM). [`commit`] gives exactly these.
pub fn upcoming(tx: &Tx, device_id: i64, how: &Numbering) -> LedgerResult<Upcoming> {
    let device = tx.ledger_device_numbers(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
    let opens = opening(&device, how);
    Ok(Upcoming {
        shift_number: opens.map_or(device.shift_number, |(n, _)| n),
        shift_position: if opens.is_some() { 1 } else { device.shift_position + 1 },
        shift_opened_at: opens.map(|(_, at)| at.to_owned()).or(device.shift_opened_at.clone()),
        opens_shift: opens.is_some(),
        autonomous_number: how.autonomous_number.then_some(device.last_autonomous + 1),
        request_number: how.fiscal.as_ref().and_then(|f| f.next_request).map(|step| step(device.last_request)),
        public_id: how.public_id.map(|country| tx.peek_public_id(country)).transpose()?,
    })
}

/// The commit transaction (see [`Ledger::commit_numbered`]).
pub fn commit(
    tx: &Tx,
    device_id: i64,
    entry: &Entry,
    key: Option<&RequestKey>,
    how: &Numbering,
) -> LedgerResult<LedgerDocRow> {
    commit_onto(tx, device_id, Cow::Borrowed(entry), key, how, None)
}

/// [`commit`], adding the counters onto `rows`, the device's counter rows as the caller keeps them (its open
/// shift's, or none when this document opens the shift, and its life's; exactly as stored), so the rows
/// are not read one by one; `rows` then holds the values written. An entry handed over owned becomes the
/// row returned without a copy of its body.
pub fn commit_onto(
    tx: &Tx,
    device_id: i64,
    entry: Cow<'_, Entry>,
    key: Option<&RequestKey>,
    how: &Numbering,
    rows: Option<&mut CounterRows>,
) -> LedgerResult<LedgerDocRow> {
    // The front looked the key up already; this catches a request that raced it to the lock.
    if let Some(k) = key
        && let Seen::Stored(done) = seen(tx, device_id, k)?
    {
        return Ok(done);
    }
    let mut device = tx.ledger_device_numbers(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
    if device.retired_at.is_some() {
        return Err(LedgerError::Retired(device_id));
    }
    let mut change = 0;
    if let Some((number, at)) = opening(&device, how) {
        tx.ledger_open_shift(device_id, number, at)?;
        device = tx.ledger_device_numbers(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
        change |= OPENED;
    }
    if how.close_shift {
        change |= CLOSED;
    }
    let mut next = numbers(&device);
    next.next_number += 1;
    next.shift_position += 1;
    let autonomous_number = how.autonomous_number.then(|| {
        next.last_autonomous += 1;
        next.last_autonomous
    });
    let request_number = how.fiscal.as_ref().and_then(|f| f.next_request).map(|step| {
        next.last_request = step(device.last_request);
        next.last_request
    });
    let public_id = how.public_id.map(|country| tx.next_public_id(country)).transpose()?;
    // Each name's first line at once, which gives the document's record; a name listed twice then adds to it.
    let mut counted = std::collections::HashSet::new();
    let (firsts, again): (Vec<_>, Vec<_>) = entry.counters.iter().partition(|(n, _)| counted.insert(n.as_str()));
    let mut read = CounterRows::default();
    let rows = match rows {
        Some(rows) => rows,
        None if firsts.is_empty() => &mut read,
        None => {
            // A caller that does not keep the rows has them read here, two statements for all the names.
            read.shift = tx.ledger_counters(device_id, device.shift_number)?.into_iter().collect();
            read.life = tx.ledger_lifetime_counters(device_id)?.into_iter().collect();
            &mut read
        }
    };
    let firsts: Vec<(&str, rust_decimal::Decimal)> = firsts.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    let record = tx.ledger_count_all_onto(device_id, device.shift_number, &firsts, rows)?;
    let new = NumberedDoc {
        device_id,
        number: device.next_number,
        shift_number: device.shift_number,
        shift_position: next.shift_position,
        autonomous_number,
        shift_opened_at: device.shift_opened_at.as_deref(),
        shift_change: change,
        doc_type: &entry.doc_type,
        uid: &entry.uid,
        created_at: &entry.created_at,
        body: &entry.body,
        public_id,
    };
    let id = tx.ledger_insert_numbered(&new)?;
    tx.ledger_put_document_record(id, &record)?;
    if let Some(f) = &how.fiscal {
        tx.ledger_put_fiscal(&FiscalNoteRow {
            document_id: id,
            request_number,
            request: f.request.clone(),
            autonomous: f.autonomous,
            ..Default::default()
        })?;
    }
    tx.ledger_chain(id)?;
    if let Some(k) = key {
        tx.remember_key(crate::store::Book::Ledger, device_id, k, id)?;
    }
    let again: Vec<(&str, rust_decimal::Decimal)> = again.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    tx.ledger_count(device_id, device.shift_number, id, &again)?;
    for (name, delta) in again {
        for values in [&mut rows.shift, &mut rows.life] {
            *values.entry(name.to_owned()).or_default() += delta;
        }
    }
    tx.ledger_set_numbers(device_id, next)?;
    if how.close_shift {
        tx.ledger_set_shift(device_id, device.shift_number, None)?;
    }
    // The row as just written (reading it back would parse its body again): `tests/ledger` checks that
    // it equals what a read gives.
    let (number, shift_number, shift_position) = (new.number, new.shift_number, new.shift_position);
    let Entry { doc_type, uid, created_at, body, .. } = entry.into_owned();
    Ok(LedgerDocRow {
        id,
        device_id,
        number,
        shift_number,
        doc_type,
        uid,
        created_at,
        body,
        fiscal_state: FiscalState::Waiting,
        fiscal_reply: None,
        shift_position,
        autonomous_number,
        shift_opened_at: device.shift_opened_at,
        public_id,
    })
}

/// The rollback transaction (see [`Ledger::roll_back`]).
pub fn roll_back(tx: &Tx, doc_id: i64) -> LedgerResult<LedgerDocRow> {
    let doc = tx.ledger_document(doc_id)?.ok_or(LedgerError::UnknownDocument(doc_id))?;
    match doc.fiscal_state {
        FiscalState::Accepted => return Err(LedgerError::Fiscalised(doc_id)),
        FiscalState::RolledBack => return Err(LedgerError::RolledBack(doc_id)),
        FiscalState::Waiting | FiscalState::Refused => {}
    }
    let device = tx.ledger_device_by_id(doc.device_id)?.ok_or(LedgerError::UnknownDevice(doc.device_id))?;
    let newest = tx.ledger_newest_kept(doc.device_id)?.map(|d| d.id);
    let last_autonomous = doc.autonomous_number.is_none_or(|n| n == device.last_autonomous);
    if newest != Some(doc_id) || device.shift_number != doc.shift_number || !last_autonomous {
        return Err(LedgerError::NotNewest(doc_id));
    }
    let change = tx.ledger_shift_change(doc_id)?;
    let key = tx.ledger_mark_rolled_back(doc_id)?;
    tx.ledger_uncount(doc.device_id, doc.shift_number, doc_id)?;
    if change & OPENED != 0 {
        // The shift it opened closes again, as if it had never opened.
        let before = doc.shift_number - 1;
        let position = tx.ledger_last_position(doc.device_id, before)?;
        tx.ledger_restore_shift(doc.device_id, before, None, position)?;
    } else {
        let opened = if change & CLOSED != 0 { doc.shift_opened_at.clone() } else { device.shift_opened_at };
        tx.ledger_restore_shift(doc.device_id, doc.shift_number, opened.as_deref(), doc.shift_position - 1)?;
    }
    if let Some(n) = doc.autonomous_number {
        let now = tx.ledger_device_by_id(doc.device_id)?.ok_or(LedgerError::UnknownDevice(doc.device_id))?;
        tx.ledger_set_numbers(doc.device_id, Numbers { last_autonomous: n - 1, ..numbers(&now) })?;
    }
    let mut note = tx.ledger_fiscal(doc_id)?.unwrap_or(FiscalNoteRow { document_id: doc_id, ..Default::default() });
    note.rolled_back_key = key;
    tx.ledger_put_fiscal(&note)?;
    tx.ledger_reseal(doc_id)?;
    tx.ledger_document(doc_id)?.ok_or(LedgerError::UnknownDocument(doc_id))
}

/// Takes the device's next request number for a request that is no document (the Kazakh OFD numbers its
/// information requests like any other), committed before the request leaves.
pub fn take_request_number(tx: &Tx, device_id: i64, step: fn(i64) -> i64) -> LedgerResult<i64> {
    let device = tx.ledger_device_by_id(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
    let last_request = step(device.last_request);
    tx.ledger_set_numbers(device_id, Numbers { last_request, ..numbers(&device) })?;
    Ok(last_request)
}

/// Raises the device's last request number to at least `n` (the number its authority last saw from it).
pub fn request_at_least(tx: &Tx, device_id: i64, n: i64) -> LedgerResult<()> {
    let device = tx.ledger_device_by_id(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
    if device.last_request < n {
        tx.ledger_set_numbers(device_id, Numbers { last_request: n, ..numbers(&device) })?;
    }
    Ok(())
}

/// Records a new device whose autonomous series starts after `last_autonomous` (see [`Ledger::register`]).
pub fn register_device(
    tx: &Tx,
    country: &str,
    serial: &str,
    registration: &serde_json::Value,
    last_autonomous: i64,
) -> LedgerResult<crate::store::DeviceRow> {
    let device = tx.ledger_register_device(country, serial, registration, 1, 0)?;
    tx.ledger_set_numbers(device.id, Numbers { last_autonomous, ..numbers(&device) })?;
    tx.ledger_device_by_id(device.id)?.ok_or(LedgerError::UnknownDevice(device.id))
}
