-- Journal reads that do not grow with the journal (issue 24): GetTransactionList by period looks documents
-- up by date within their device, and by fiscal sign through the sign itself, instead of walking the
-- device's whole journal.
CREATE INDEX ledger_documents_by_date ON ledger_documents (device_id, created_at);
CREATE INDEX ledger_fiscal_by_ticket ON ledger_fiscal (ticket) WHERE ticket IS NOT NULL;
