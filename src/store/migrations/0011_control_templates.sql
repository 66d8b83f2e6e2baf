-- A control receipt keeps the template version that first rendered it, as a journal document does
-- (`documents.template_sha256`), so its reprint is the receipt the inspector got.
ALTER TABLE control_receipts ADD COLUMN template_sha256 TEXT REFERENCES templates (sha256);
