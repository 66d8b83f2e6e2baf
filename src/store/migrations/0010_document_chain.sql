-- Tamper evidence for the journals (`documents` and `ledger_documents`). `chain` is the SHA-256 of the
-- previous document's chain and of this document's fields fixed at its creation; `seal` is the SHA-256 of
-- this document's chain and of the fields Kassa may change later (its fiscal state, sign, template). Both
-- are written in the transaction that writes the document (store::chain), so a row changed, removed or
-- inserted behind Kassa's back no longer matches and `kassa check` names it. The migration computes both for
-- the documents already stored (a step in Rust after this file: SQLite has no SHA-256).
ALTER TABLE documents ADD COLUMN chain TEXT;
ALTER TABLE documents ADD COLUMN seal TEXT;
ALTER TABLE ledger_documents ADD COLUMN chain TEXT;
ALTER TABLE ledger_documents ADD COLUMN seal TEXT;
