-- Idempotency keys belong to one device and one method. Before this migration a key was one global name
-- (`documents.idempotency_key`, `ledger_documents.idempotency_key`, each UNIQUE over the whole table): a key
-- a POS used on KKM 7001 replayed that KKM's receipt to a cashier on KKM 7002, and the same key with another
-- body or method answered the old document. Now a key is looked up by (book, device, method, key), and the
-- digest of the request that made the document tells a retry (same request) from a reuse (another request).
CREATE TABLE idempotency_keys (
    book        TEXT NOT NULL CHECK (book IN ('kkm', 'ledger')), -- kkm: `documents`; ledger: `ledger_documents`
    device_id   INTEGER NOT NULL,   -- kkms.id or ledger_devices.id
    method      TEXT NOT NULL,      -- what the key came with: TradeOperation, create_sale, task 1, ...
    key         TEXT NOT NULL,      -- as the POS sent it
    request     TEXT,               -- SHA-256 (hex) of the canonical request; NULL for keys kept from before
    document_id INTEGER NOT NULL,
    PRIMARY KEY (book, device_id, method, key)
);
CREATE INDEX idempotency_keys_document ON idempotency_keys (book, document_id);

-- The keys already stored keep working: each under the device and method of the document it made. Their
-- request is unknown, so a retry with such a key replays the document as before.
INSERT INTO idempotency_keys (book, device_id, method, key, request, document_id)
SELECT 'kkm', kkm_id,
       CASE command WHEN 1 THEN 'TradeOperation' WHEN 6 THEN 'MoneyPlacement' ELSE 'ZXReport' END,
       idempotency_key, NULL, id
  FROM documents WHERE idempotency_key IS NOT NULL AND ofd_state <> 4;

-- The fronts stored `<country>:<serial>:<key>`; the device now scopes the key, so the prefix goes.
INSERT INTO idempotency_keys (book, device_id, method, key, request, document_id)
SELECT 'ledger', d.device_id,
       CASE v.country
           WHEN 'by' THEN CASE d.doc_type
               WHEN 'sale_v2' THEN 'create_sale' WHEN 'money_back_v2' THEN 'create_money_back'
               WHEN 'rollback_v2' THEN 'create_rollback' WHEN 'deposit_v2' THEN 'deposit'
               WHEN 'cashier_withdraw_v2' THEN 'withdraw' WHEN 'client_withdraw_v2' THEN 'create_client_withdraw'
               WHEN 'z_report_v2' THEN 'close_shift' ELSE d.doc_type END
           WHEN 'ua' THEN 'task ' || CASE d.doc_type
               WHEN 'open_shift' THEN 0 WHEN 'sale' THEN 1 WHEN 'return' THEN 2 WHEN 'cash_in' THEN 3
               WHEN 'cash_out' THEN 4 WHEN 'cash_withdrawal' THEN 14 ELSE 11 END
           ELSE d.doc_type END,
       CASE WHEN substr(d.idempotency_key, 1, length(v.country || ':' || v.serial || ':')) = v.country || ':' || v.serial || ':'
            THEN substr(d.idempotency_key, length(v.country || ':' || v.serial || ':') + 1)
            ELSE d.idempotency_key END,
       NULL, d.id
  FROM ledger_documents d JOIN ledger_devices v ON v.id = d.device_id
 WHERE d.idempotency_key IS NOT NULL;

-- One place for keys: the old columns are no longer read or written.
UPDATE documents SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL;
UPDATE ledger_documents SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL;
