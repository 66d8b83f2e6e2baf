-- SQLite's migration 0017: the queue of documents waiting for their fiscaliser is indexed alone, so an
-- acceptance takes its entry out of a small index instead of moving it within one that holds the whole
-- journal. The queue without a node (`ledger_documents_unsent`, 0002) already reads only waiting documents.
DROP INDEX ledger_documents_waiting;
CREATE INDEX ledger_documents_waiting ON ledger_documents (device_id, number, tenant_id) WHERE fiscal_state = 0;
