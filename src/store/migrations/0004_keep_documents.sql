-- Fiscal documents are never destroyed (tax law keeps them for years).
--
-- Databases made before this migration let a deleted KKM take its documents with it (a cascading foreign key
-- on documents.kkm_id): its journal, unsent documents included, was erased. The table is rebuilt without the
-- cascade (SQLite cannot drop a foreign key clause in place; 0002 no longer declares it for new databases),
-- and triggers refuse any DELETE on documents and KKMs: a deleted KKM is retired (`retired_at`), and a
-- document the OFD refused while the POS waited is kept as rolled back (ofd_state 4), outside the journal.
CREATE TABLE documents_kept (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    kkm_id                 INTEGER NOT NULL REFERENCES kkms (id),
    command                INTEGER NOT NULL,
    created_at             TEXT NOT NULL,
    fr_shift_number        INTEGER NOT NULL,
    shift_document_number  INTEGER NOT NULL,
    operator_id            INTEGER NOT NULL,
    operator_name          TEXT NOT NULL,
    is_offline             INTEGER NOT NULL DEFAULT 0,
    fiscal_id              TEXT NOT NULL DEFAULT '',
    qr_code                TEXT NOT NULL DEFAULT '',
    summary                TEXT NOT NULL,
    body                   TEXT NOT NULL,
    extra                  TEXT NOT NULL DEFAULT '{}',
    ofd_state              INTEGER NOT NULL DEFAULT 0,  -- 0 local, 1 queued, 2 accepted, 3 refused, 4 rolled back
    ofd_reqnum             INTEGER,
    ofd_request            BLOB,
    ofd_error              TEXT NOT NULL DEFAULT '',
    idempotency_key        TEXT UNIQUE,
    template_sha256        TEXT REFERENCES templates (sha256)
);
INSERT INTO documents_kept SELECT id, kkm_id, command, created_at, fr_shift_number, shift_document_number, operator_id,
    operator_name, is_offline, fiscal_id, qr_code, summary, body, extra, ofd_state, ofd_reqnum, ofd_request, ofd_error,
    idempotency_key, template_sha256 FROM documents;
DROP TABLE documents;
ALTER TABLE documents_kept RENAME TO documents;
-- A rolled-back document gave its shift number back: only journal documents hold a number.
CREATE UNIQUE INDEX documents_position ON documents (kkm_id, fr_shift_number, shift_document_number)
    WHERE ofd_state <> 4;
CREATE INDEX documents_by_date ON documents (kkm_id, created_at);
CREATE INDEX documents_by_fiscal_id ON documents (kkm_id, fiscal_id);
CREATE INDEX documents_outbox ON documents (kkm_id, ofd_state, id);

CREATE TRIGGER documents_are_never_deleted BEFORE DELETE ON documents
BEGIN
    SELECT RAISE(ABORT, 'fiscal documents are never deleted');
END;

ALTER TABLE kkms ADD COLUMN retired_at TEXT;  -- set by DeleteKKM; SaveKKM with the same ofd_id clears it

CREATE TRIGGER kkms_are_retired_not_deleted BEFORE DELETE ON kkms
BEGIN
    SELECT RAISE(ABORT, 'a KKM is retired, never deleted: its journal stays');
END;
