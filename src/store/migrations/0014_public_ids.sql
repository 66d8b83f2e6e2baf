-- Public document IDs a country's API shows when they are not the ledger's own `id` (which Belarusian,
-- Ukrainian and, after the move, Kazakh documents share): the Kazakh transaction ID (GetTransaction, the
-- journal's `ID`). A country's sequence runs over all its devices and never gives a number back (a
-- rolled-back document keeps its ID, as a Kazakh one does). Additive only; the Kazakh books move onto the
-- ledger later (store::kazakh_books), continuing the sequence from their AUTOINCREMENT.
ALTER TABLE ledger_documents ADD COLUMN public_id INTEGER;
-- Unique per country by its sequence (the country is the device's, so no index can say it).
CREATE INDEX ledger_documents_public_id ON ledger_documents (public_id) WHERE public_id IS NOT NULL;
CREATE TABLE ledger_public_ids (
    country TEXT PRIMARY KEY,
    last    INTEGER NOT NULL       -- the last public ID given; the next document gets last + 1
);
