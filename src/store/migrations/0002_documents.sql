-- Fiscal documents (the journal) with their OFD outbox state, and the KKM's OFD link state and counters.
ALTER TABLE kkms ADD COLUMN ofd_reqnum INTEGER NOT NULL DEFAULT 0;     -- last REQNUM used (u16, skips 0)
ALTER TABLE kkms ADD COLUMN counters TEXT NOT NULL DEFAULT '{}';       -- shift counters (JSON)
ALTER TABLE kkms ADD COLUMN offline_number INTEGER NOT NULL DEFAULT 1000; -- last autonomous number issued

CREATE TABLE documents (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,  -- the transaction ID of the journal
    kkm_id                 INTEGER NOT NULL REFERENCES kkms (id),  -- no cascade: see 0004
    command                INTEGER NOT NULL,                   -- 1 ticket, 2 close shift, 3 report, 6 money placement
    created_at             TEXT NOT NULL,
    fr_shift_number        INTEGER NOT NULL,
    shift_document_number  INTEGER NOT NULL,
    operator_id            INTEGER NOT NULL,
    operator_name          TEXT NOT NULL,
    is_offline             INTEGER NOT NULL DEFAULT 0,
    fiscal_id              TEXT NOT NULL DEFAULT '',
    qr_code                TEXT NOT NULL DEFAULT '',
    summary                TEXT NOT NULL,                      -- the GetTransactionList body (JSON)
    body                   TEXT NOT NULL,                      -- the full document in the seed's shape (JSON)
    extra                  TEXT NOT NULL DEFAULT '{}',         -- answer fields beside the body (JSON)
    ofd_state              INTEGER NOT NULL DEFAULT 0,         -- 0 not sent, 1 queued, 2 accepted, 3 refused
    ofd_reqnum             INTEGER,
    ofd_request            BLOB,                               -- the encoded Request, without header
    ofd_error              TEXT NOT NULL DEFAULT '',
    idempotency_key        TEXT UNIQUE,
    UNIQUE (kkm_id, fr_shift_number, shift_document_number)
);
CREATE INDEX documents_by_date ON documents (kkm_id, created_at);
CREATE INDEX documents_by_fiscal_id ON documents (kkm_id, fiscal_id);
CREATE INDEX documents_outbox ON documents (kkm_id, ofd_state, id);
