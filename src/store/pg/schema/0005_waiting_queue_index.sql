-- SQLite's migration 0017: the queue of documents waiting for their fiscaliser is indexed alone, so an
-- acceptance takes its entry out of a small index instead of moving it within one that holds the whole
-- journal. It also answers the poll for queues without a node, so 0002's index for that poll goes.
DROP INDEX ledger_documents_waiting;
DROP INDEX ledger_documents_unsent;
CREATE INDEX ledger_documents_waiting ON ledger_documents (device_id, number, tenant_id) WHERE fiscal_state = 0;
