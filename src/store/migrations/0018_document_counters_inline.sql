-- What a document added to the counters is kept on its own row (issue 24): one JSON array of
-- `[name, delta, made]` (delta a decimal's text, made as in `ledger_document_counters`), written with the
-- document instead of a row per counter in a table and its key (a Kazakh sale adds 16). A document made
-- before this migration keeps NULL here and its rows in `ledger_document_counters`, which is no longer
-- written: moving them would rewrite the whole journal at one start.
ALTER TABLE ledger_documents ADD COLUMN counters TEXT;
