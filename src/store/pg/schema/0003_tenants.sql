-- Tenants (issue 25, part 4): one database holds the books of many shops, and the database itself keeps them
-- apart. Every row of a shop's books carries its tenant; every transaction names one (`kassa.tenant`, set at
-- its BEGIN by the node, `pg::serve`), and row-level security shows and lets it write that tenant's rows only.
--   - The keys a shop chooses or the outside world gives (a PIN, an e-mail, a factory number, a device's
--     serial, an OFD ID, an idempotency key, the licence, the public numbering) are unique per tenant: two
--     shops may both have cashier PIN 1234. Ids the database hands out stay unique across tenants.
--   - What is not a shop's stays shared: receipt templates (by their content's hash), the leases and the
--     node's facts, the PIN throttle's terminals, the schema.
--   - `*` is the node's own view of every tenant, for finding queues no node sends; it writes nothing.
--   - A role that bypasses row security (a superuser, BYPASSRLS) sees through all of this: a node on such a role
--     serves the default tenant only (`pg::serve`).
-- Every row already here is the default tenant's: a store served before this migration is that tenant.

-- The migration reads every tenant's rows (checking the new keys), as the node's view.
SELECT set_config('kassa.tenant', '*', true);

CREATE TABLE tenants (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$' OR name = 'default'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (name) VALUES ('default');

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['license', 'operators', 'vendor_ids', 'kz_kkms_before_ledger',
        'kz_documents_before_ledger', 'ledger_devices', 'ledger_documents', 'ledger_counters',
        'ledger_lifetime_counters', 'ledger_document_counters', 'ledger_fiscal', 'ledger_public_ids', 'kz_kkms',
        'kkm_bindings', 'control_receipts', 'idempotency_keys']
    LOOP
        -- A constant default fills the existing rows without rewriting the table; new rows take the tenant
        -- their transaction names (and fail when it names none).
        EXECUTE format('ALTER TABLE %I ADD COLUMN tenant_id text NOT NULL DEFAULT %L', t, 'default');
        EXECUTE format('ALTER TABLE %I ALTER COLUMN tenant_id SET DEFAULT current_setting(%L)', t, 'kassa.tenant');
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        -- The owner too: Kassa's own role owns the tables.
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_rows ON %I
            USING (tenant_id = current_setting(%L) OR current_setting(%L) = %L)
            WITH CHECK (tenant_id = current_setting(%L))', t, 'kassa.tenant', 'kassa.tenant', '*', 'kassa.tenant');
    END LOOP;
END
$$;

-- A shop's roots belong to a tenant that exists.
ALTER TABLE license ADD FOREIGN KEY (tenant_id) REFERENCES tenants (name);
ALTER TABLE operators ADD FOREIGN KEY (tenant_id) REFERENCES tenants (name);
ALTER TABLE ledger_devices ADD FOREIGN KEY (tenant_id) REFERENCES tenants (name);

-- The keys a shop names, per tenant. Each keeps an index on its own columns as well: the policy's test is an
-- OR (a tenant, or the node's view), which no index on (tenant_id, ...) serves.
ALTER TABLE license DROP CONSTRAINT license_pkey, ADD PRIMARY KEY (tenant_id, id);

ALTER TABLE operators DROP CONSTRAINT operators_pin_key_key, ADD UNIQUE (tenant_id, pin_key);
CREATE INDEX operators_pin_key ON operators (pin_key);
DROP INDEX operators_email;
CREATE UNIQUE INDEX operators_email ON operators (tenant_id, lower(email)) WHERE email <> '';
CREATE INDEX operators_by_email ON operators (lower(email)) WHERE email <> '';

ALTER TABLE vendor_ids DROP CONSTRAINT vendor_ids_pkey, ADD PRIMARY KEY (tenant_id, vendor_id);
CREATE INDEX vendor_ids_vendor_id ON vendor_ids (vendor_id);

ALTER TABLE ledger_devices DROP CONSTRAINT ledger_devices_country_serial_key, ADD UNIQUE (tenant_id, country, serial);
CREATE INDEX ledger_devices_serial ON ledger_devices (country, serial);

ALTER TABLE ledger_documents DROP CONSTRAINT ledger_documents_idempotency_key_key,
    ADD UNIQUE (tenant_id, idempotency_key);
CREATE INDEX ledger_documents_idempotency_key ON ledger_documents (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

ALTER TABLE ledger_public_ids DROP CONSTRAINT ledger_public_ids_pkey, ADD PRIMARY KEY (tenant_id, country);
CREATE INDEX ledger_public_ids_country ON ledger_public_ids (country);

ALTER TABLE kz_kkms DROP CONSTRAINT kz_kkms_ofd_id_key, ADD UNIQUE (tenant_id, ofd_id);
CREATE INDEX kz_kkms_ofd_id ON kz_kkms (ofd_id);

ALTER TABLE kz_kkms_before_ledger DROP CONSTRAINT kz_kkms_before_ledger_ofd_id_key, ADD UNIQUE (tenant_id, ofd_id);
ALTER TABLE kz_documents_before_ledger DROP CONSTRAINT kz_documents_before_ledger_idempotency_key_key,
    ADD UNIQUE (tenant_id, idempotency_key);

-- The node's view: devices with waiting documents, by tenant, for the nodes that adopt unserved queues.
CREATE INDEX ledger_devices_tenant ON ledger_devices (tenant_id);
