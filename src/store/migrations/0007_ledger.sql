-- The country-neutral ledger for fiscal devices other than Kazakh KKMs (a Belarusian СКО today, a
-- Ukrainian ПРРО later): devices, their shifts, documents with their fiscal state, and shift counters.
-- Documents and devices are never deleted (a device is retired).
CREATE TABLE ledger_devices (
    id              INTEGER PRIMARY KEY,
    country         TEXT NOT NULL,
    serial          TEXT NOT NULL,
    registration    TEXT NOT NULL,          -- JSON: what the fiscaliser registered (company, tax number, ...)
    next_number     INTEGER NOT NULL,       -- the number the next document gets
    shift_number    INTEGER NOT NULL,       -- the last shift opened (0: none yet)
    shift_opened_at TEXT,                   -- RFC 3339; NULL while no shift is open
    retired_at      TEXT,
    UNIQUE (country, serial)
);
CREATE TABLE ledger_documents (
    id              INTEGER PRIMARY KEY,
    device_id       INTEGER NOT NULL REFERENCES ledger_devices (id),
    number          INTEGER NOT NULL,
    shift_number    INTEGER NOT NULL,
    doc_type        TEXT NOT NULL,
    uid             TEXT NOT NULL,
    created_at      TEXT NOT NULL,          -- RFC 3339 with the device's offset
    body            TEXT NOT NULL,          -- JSON: the document as the country's rules made it
    fiscal_state    INTEGER NOT NULL DEFAULT 0, -- 0 waiting for the fiscaliser, 1 accepted, 2 refused
    fiscal_reply    TEXT,                   -- JSON: what the fiscaliser answered
    idempotency_key TEXT UNIQUE,
    template_sha256 TEXT REFERENCES templates (sha256),
    UNIQUE (device_id, number)
);
CREATE INDEX ledger_documents_waiting ON ledger_documents (device_id, fiscal_state, number);
CREATE TABLE ledger_counters (
    device_id       INTEGER NOT NULL REFERENCES ledger_devices (id),
    shift_number    INTEGER NOT NULL,
    name            TEXT NOT NULL,
    value           TEXT NOT NULL,          -- decimal
    PRIMARY KEY (device_id, shift_number, name)
);
CREATE TRIGGER ledger_documents_kept BEFORE DELETE ON ledger_documents
BEGIN SELECT RAISE(ABORT, 'fiscal documents are never deleted'); END;
CREATE TRIGGER ledger_devices_kept BEFORE DELETE ON ledger_devices
BEGIN SELECT RAISE(ABORT, 'devices are retired, never deleted'); END;
