-- SQLite's migration 0018: what a document added to the counters, one row per document holding a JSON array of
-- `[name, delta, made]`; a document made before keeps its rows in `ledger_document_counters`. A shop's table,
-- as 0003 and 0004 make the others: its tenant's rows only, keys and references within the tenant.
CREATE TABLE ledger_document_records (
    document_id bigint NOT NULL,
    counters    text NOT NULL,
    tenant_id   text NOT NULL DEFAULT current_setting('kassa.tenant'),
    PRIMARY KEY (document_id, tenant_id),
    FOREIGN KEY (document_id, tenant_id) REFERENCES ledger_documents (id, tenant_id)
);
ALTER TABLE ledger_document_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_document_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON ledger_document_records
    USING (tenant_id = current_setting('kassa.tenant') OR current_setting('kassa.tenant') = '*')
    WITH CHECK (tenant_id = current_setting('kassa.tenant'));
