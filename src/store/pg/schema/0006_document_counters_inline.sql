-- SQLite's migration 0018: what a document added to the counters is kept on its own row, one JSON array of
-- `[name, delta, made]`; a document made before keeps NULL here and its rows in `ledger_document_counters`.
ALTER TABLE ledger_documents ADD COLUMN counters text;
