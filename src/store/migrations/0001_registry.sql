-- Registry: licence, operators (cashiers), cash registers (KKM) and their bindings, issued factory numbers.
CREATE TABLE license (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    license_key   TEXT NOT NULL,
    email         TEXT NOT NULL,
    phone         TEXT NOT NULL,
    owner         TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    address       TEXT NOT NULL,
    activated_at  TEXT NOT NULL
);

CREATE TABLE operators (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    access_pin   TEXT NOT NULL UNIQUE,
    role         INTEGER NOT NULL CHECK (role IN (1, 2, 3)),
    email        TEXT NOT NULL DEFAULT '',
    owner_id     INTEGER NOT NULL DEFAULT 0,
    custom_data  TEXT NOT NULL DEFAULT 'null'
);
CREATE UNIQUE INDEX operators_email ON operators (lower(email)) WHERE email <> '';

CREATE TABLE kkms (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    ofd_id                 INTEGER NOT NULL UNIQUE,
    ofd_uid                TEXT NOT NULL,
    ofd_token              INTEGER NOT NULL,
    local_name             TEXT NOT NULL,
    use_software_vpn       INTEGER NOT NULL,
    auto_withdraw_money    INTEGER NOT NULL,
    printer                TEXT,                 -- JSON PrinterEntity or NULL
    vat_certificate        TEXT NOT NULL,        -- JSON VATCertificateObject
    custom_data            TEXT NOT NULL,        -- any JSON, kept verbatim
    owner_id               INTEGER NOT NULL,
    vendor_id              TEXT NOT NULL,
    manufacture_date       TEXT NOT NULL,
    reg_info               TEXT NOT NULL,        -- JSON RegInfo as the OFD sent it
    ads_info               TEXT NOT NULL,        -- JSON list of AdsObject
    is_offline             INTEGER NOT NULL DEFAULT 0,
    offline_start_date     TEXT,
    offline_end_date       TEXT,
    offline_ticket_number  INTEGER NOT NULL DEFAULT 0,
    is_blocked             INTEGER NOT NULL DEFAULT 0,
    blocked_info           TEXT NOT NULL DEFAULT '',
    is_invalid_token       INTEGER NOT NULL DEFAULT 0,
    local_state            INTEGER NOT NULL DEFAULT 0,
    fr_shift_number        INTEGER NOT NULL DEFAULT 0,
    shift_state            INTEGER NOT NULL DEFAULT 0,
    shift_document_number  INTEGER NOT NULL DEFAULT 0,
    shift_open_date        TEXT,
    shift_close_date       TEXT,
    cash_sum               TEXT NOT NULL DEFAULT '0',
    revenue                TEXT NOT NULL DEFAULT '0',
    start_shift_nns        TEXT NOT NULL DEFAULT '["0","0","0","0"]',
    nns                    TEXT NOT NULL DEFAULT '["0","0","0","0"]'
);

CREATE TABLE kkm_bindings (
    kkm_id       INTEGER NOT NULL REFERENCES kkms (id) ON DELETE CASCADE,
    operator_id  INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    PRIMARY KEY (kkm_id, operator_id)
);
CREATE INDEX kkm_bindings_operator ON kkm_bindings (operator_id);

CREATE TABLE vendor_ids (
    vendor_id   TEXT PRIMARY KEY,
    issued_at   TEXT NOT NULL
);
