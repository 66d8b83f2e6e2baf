-- The move of the Kazakh books onto the shared ledger (issue 23 step 5; one-ledger.md §1.3 B), in the same
-- change that makes the Kazakh pipeline read and write the ledger. Everything here runs in one transaction
-- with its Rust step (store::kazakh_books: counters, the chain, the renames).
--
-- Public IDs: a Kazakh document's transaction ID (`documents.id`, GetTransaction, the journal's `ID`) is
-- kept as `public_id`, and the country's sequence goes on from the old AUTOINCREMENT, so a new Kazakh
-- document gets the ID it would have got before (`public_id`, migration 0014). The ledger's own `id` is
-- taken by Belarusian and Ukrainian rows already.
INSERT OR REPLACE INTO ledger_public_ids (country, last)
SELECT 'kz', max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'documents'), 0),
                 coalesce((SELECT max(id) FROM documents), 0));

-- What stays Kazakh about a KKM: its OFD credentials and link state, its settings. Keyed by the KKM ID the
-- API, the bindings and the control receipts name (`kkms.id`), beside its ledger device. Numbering, shift,
-- counters and retirement are the ledger's now.
CREATE TABLE kz_kkms (
    kkm_id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id              INTEGER NOT NULL UNIQUE REFERENCES ledger_devices (id),
    ofd_id                 INTEGER NOT NULL UNIQUE,
    ofd_uid                TEXT NOT NULL,
    ofd_token              INTEGER NOT NULL,
    local_name             TEXT NOT NULL,
    use_software_vpn       INTEGER NOT NULL,
    auto_withdraw_money    INTEGER NOT NULL,
    printer                TEXT,
    vat_certificate        TEXT NOT NULL,
    custom_data            TEXT NOT NULL,
    owner_id               INTEGER NOT NULL,
    vendor_id              TEXT NOT NULL,
    manufacture_date       TEXT NOT NULL,
    reg_info               TEXT NOT NULL,
    ads_info               TEXT NOT NULL,
    is_offline             INTEGER NOT NULL DEFAULT 0,
    offline_start_date     TEXT,
    offline_end_date       TEXT,
    offline_ticket_number  INTEGER NOT NULL DEFAULT 0,
    is_blocked             INTEGER NOT NULL DEFAULT 0,
    blocked_info           TEXT NOT NULL DEFAULT '',
    is_invalid_token       INTEGER NOT NULL DEFAULT 0,
    local_state            INTEGER NOT NULL DEFAULT 0,
    shift_close_date       TEXT
);

-- Devices: the serial is the OFD's KKM ID. The numbers go on where the KKM stood: its shift and position,
-- the last autonomous number (the series starts after 1000) and the last REQNUM. A shift is open only
-- while `shift_state` said so; dates stay in the Kazakh text format (see store::kazakh_books).
INSERT INTO ledger_devices (country, serial, registration, next_number, shift_number, shift_opened_at, retired_at,
                            shift_position, last_autonomous, last_request)
SELECT 'kz', CAST(k.ofd_id AS TEXT), k.reg_info,
       (SELECT count(*) FROM documents d WHERE d.kkm_id = k.id) + 1,
       k.fr_shift_number, CASE WHEN k.shift_state = 1 THEN k.shift_open_date END, k.retired_at,
       k.shift_document_number, k.offline_number, k.ofd_reqnum
  FROM kkms k ORDER BY k.id;

INSERT INTO kz_kkms (kkm_id, device_id, ofd_id, ofd_uid, ofd_token, local_name, use_software_vpn, auto_withdraw_money,
                     printer, vat_certificate, custom_data, owner_id, vendor_id, manufacture_date, reg_info, ads_info,
                     is_offline, offline_start_date, offline_end_date, offline_ticket_number, is_blocked, blocked_info,
                     is_invalid_token, local_state, shift_close_date)
SELECT k.id, v.id, k.ofd_id, k.ofd_uid, k.ofd_token, k.local_name, k.use_software_vpn, k.auto_withdraw_money,
       k.printer, k.vat_certificate, k.custom_data, k.owner_id, k.vendor_id, k.manufacture_date, k.reg_info, k.ads_info,
       k.is_offline, k.offline_start_date, k.offline_end_date, k.offline_ticket_number, k.is_blocked, k.blocked_info,
       k.is_invalid_token, k.local_state, k.shift_close_date
  FROM kkms k JOIN ledger_devices v ON v.country = 'kz' AND v.serial = CAST(k.ofd_id AS TEXT)
 ORDER BY k.id;
-- A new KKM gets the ID it would have got before.
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'kkms'), 0))
 WHERE name = 'kz_kkms';

-- Documents, in transaction ID order (so the chain runs in the journal's order). The per-device number is
-- the document's order on its KKM (a rolled-back one keeps its row and number, as it kept its ID); the
-- shift position is ShiftDocumentNumber; an autonomous ticket's number is the fiscal sign it was shown
-- with (1001, ...). The answer fields beside the body keep their JSON as stored. States: 0 local and 1
-- queued are both waiting for the OFD, 2 accepted, 3 refused, 4 rolled back.
INSERT INTO ledger_documents (device_id, number, shift_number, doc_type, uid, created_at, body, fiscal_state,
                              fiscal_reply, template_sha256, shift_position, autonomous_number, shift_opened_at,
                              shift_change, public_id)
SELECT z.device_id,
       row_number() OVER (PARTITION BY d.kkm_id ORDER BY d.id),
       d.fr_shift_number,
       CASE d.command WHEN 1 THEN 'ticket' WHEN 2 THEN 'close_shift' WHEN 3 THEN 'report'
                      WHEN 6 THEN 'money_placement' ELSE 'command ' || d.command END,
       CAST(d.id AS TEXT), d.created_at,
       json_object('command', d.command, 'operator_id', d.operator_id, 'operator_name', d.operator_name,
                   'summary', json(d.summary), 'body', json(d.body), 'extra', json(d.extra)),
       CASE d.ofd_state WHEN 2 THEN 1 WHEN 3 THEN 2 WHEN 4 THEN 3 ELSE 0 END,
       CASE WHEN d.qr_code <> '' THEN json_object('qr_code', d.qr_code) END,
       d.template_sha256, d.shift_document_number,
       CASE WHEN d.is_offline = 1 AND d.command = 1 AND d.fiscal_id <> '' AND d.fiscal_id NOT GLOB '*[^0-9]*'
            THEN CAST(d.fiscal_id AS INTEGER) END,
       (SELECT min(p.created_at) FROM documents p
         WHERE p.kkm_id = d.kkm_id AND p.fr_shift_number = d.fr_shift_number AND p.ofd_state <> 4),
       CASE WHEN d.ofd_state = 4 THEN NULL
            ELSE nullif((CASE WHEN d.shift_document_number = 1 THEN 1 ELSE 0 END)
                        + (CASE WHEN d.command = 2 THEN 2 ELSE 0 END), 0) END,
       d.id
  FROM documents d JOIN kz_kkms z ON z.kkm_id = d.kkm_id
 ORDER BY d.id;

-- What the OFD link keeps per document: the REQNUM committed with it and the request bytes every resend
-- reuses (a queued autonomous document is sent once, under this REQNUM), the autonomous mark, the fiscal
-- sign shown (the OFD's, or the autonomous number) and the last error.
INSERT INTO ledger_fiscal (document_id, request_number, request, autonomous, ticket, error)
SELECT l.id, d.ofd_reqnum, d.ofd_request, d.is_offline, nullif(d.fiscal_id, ''), nullif(d.ofd_error, '')
  FROM documents d JOIN ledger_documents l ON l.public_id = d.id
 ORDER BY d.id;

-- Idempotency keys stay scoped to their device and method (0008): each Kazakh key now names its ledger
-- document. The `kkm` rows stay, naming the kept old rows.
INSERT INTO idempotency_keys (book, device_id, method, key, request, document_id)
SELECT 'ledger', l.device_id, k.method, k.key, k.request, l.id
  FROM idempotency_keys k JOIN ledger_documents l ON l.public_id = k.document_id
 WHERE k.book = 'kkm';
