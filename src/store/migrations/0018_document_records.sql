-- What a document added to the counters is kept in one row per document (issue 24): one JSON array of
-- `[name, delta, made]` (delta a decimal's text, made as in `ledger_document_counters`), written with the
-- document instead of a row per counter in a table and its key (a Kazakh sale adds 16). Not on the document's
-- own row: a sale's row is about half a page, so two share a leaf with no room left, and the acceptance, which
-- makes the row longer, would split that leaf every time. A document made before this migration keeps its rows
-- in `ledger_document_counters`, which is no longer written: moving them would rewrite the whole journal at
-- one start.
CREATE TABLE ledger_document_records (
    document_id INTEGER PRIMARY KEY REFERENCES ledger_documents (id),
    counters    TEXT NOT NULL          -- JSON: [[name, delta, made], ...]
);
