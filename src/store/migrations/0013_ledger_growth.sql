-- What the shared ledger needs before the Kazakh KKMs can move onto it (one-ledger.md §1.3 A), each once.
-- Additive only: new columns and tables; nothing is renamed or dropped.
--
-- Numbering: a document keeps its per-device `number` (the journal order, never reused) and gets its
-- position in its shift (`shift_position`, the Kazakh ShiftDocumentNumber) and, for a document made
-- autonomously, the next number of the device's autonomous series (`autonomous_number`, the Kazakh
-- offline ticket number). A rolled-back document (fiscal_state 3) keeps its row and gives both back: the
-- unique indexes below leave it out, as `documents_position` does for Kazakh documents (0004).
ALTER TABLE ledger_devices ADD COLUMN shift_position INTEGER NOT NULL DEFAULT 0;  -- last position used in the current shift
ALTER TABLE ledger_devices ADD COLUMN last_autonomous INTEGER NOT NULL DEFAULT 0; -- last number of the autonomous series
ALTER TABLE ledger_devices ADD COLUMN last_request INTEGER NOT NULL DEFAULT 0;    -- last request number committed (REQNUM)
ALTER TABLE ledger_documents ADD COLUMN shift_position INTEGER;
ALTER TABLE ledger_documents ADD COLUMN autonomous_number INTEGER;
ALTER TABLE ledger_documents ADD COLUMN shift_opened_at TEXT;  -- when its shift opened (what its report shows)
ALTER TABLE ledger_documents ADD COLUMN shift_change INTEGER;  -- NULL none, 1 it opened its shift, 2 closed it, 3 both

-- Documents stored before: their position is their order in their shift, and each device goes on from
-- the last position of its current shift.
UPDATE ledger_documents SET shift_position = (
    SELECT count(*) FROM ledger_documents p
     WHERE p.device_id = ledger_documents.device_id AND p.shift_number = ledger_documents.shift_number
       AND p.number <= ledger_documents.number);
UPDATE ledger_devices SET shift_position = (
    SELECT coalesce(max(d.shift_position), 0) FROM ledger_documents d
     WHERE d.device_id = ledger_devices.id AND d.shift_number = ledger_devices.shift_number)
 WHERE shift_opened_at IS NOT NULL;

CREATE UNIQUE INDEX ledger_documents_position ON ledger_documents (device_id, shift_number, shift_position)
    WHERE fiscal_state <> 3;
CREATE UNIQUE INDEX ledger_documents_autonomous ON ledger_documents (device_id, autonomous_number)
    WHERE autonomous_number IS NOT NULL AND fiscal_state <> 3;

-- Counters for the device's life (the Kazakh non-resettable sums, tickets since registration): every
-- counter a document adds goes to its shift and here. The stored shift counters are summed into it by the
-- Rust step of this migration (decimal text cannot be summed exactly in SQL).
CREATE TABLE ledger_lifetime_counters (
    device_id  INTEGER NOT NULL REFERENCES ledger_devices (id),
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,          -- decimal
    PRIMARY KEY (device_id, name)
);
-- What each document added to the counters (amendments included), so a rollback takes exactly that back;
-- `made` says which counter rows it created (1 its shift's, 2 the lifetime one), which a rollback removes,
-- so the order of first use (a counter's rowid: the Kazakh reports list sections and taxes so) is as before.
CREATE TABLE ledger_document_counters (
    document_id INTEGER NOT NULL REFERENCES ledger_documents (id),
    name        TEXT NOT NULL,
    delta       TEXT NOT NULL,         -- decimal
    made        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (document_id, name)
);

-- What the fiscaliser keeps per document (the Kazakh OFD link: the REQNUM committed with the document and
-- reused by every resend, the encoded request, the autonomous mark, the OFD's ticket number), changed only
-- through `Ledger::amend`. Sealed with its document (store::chain).
CREATE TABLE ledger_fiscal (
    document_id     INTEGER PRIMARY KEY REFERENCES ledger_documents (id),
    request_number  INTEGER,           -- committed with the document; a resend reuses it
    request         BLOB,              -- the encoded request, resent as is
    autonomous      INTEGER NOT NULL DEFAULT 0,
    ticket          TEXT,              -- the authority's number for the accepted document
    body            TEXT,              -- JSON: the document as amended (NULL: as made, ledger_documents.body)
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    error           TEXT,
    rolled_back_key TEXT               -- the idempotency key a rollback freed
);
CREATE TRIGGER ledger_fiscal_kept BEFORE DELETE ON ledger_fiscal
BEGIN SELECT RAISE(ABORT, 'fiscal documents are never deleted'); END;
