-- Ids per tenant (issue 25): a shop's ids are unique within its tenant, not across the store, so a shop's
-- whole history moves into a tenant with the ids it has (`kassa store copy --tenant`). Its journal's hash
-- chain seals each document's id and device id; renumbering them would break the chain the copy proves, and
-- operator ids are what the Kazakh API's clients name. New rows still take ids from the store's sequences,
-- which a copy moves past every tenant's largest, so ids handed out here stay unique across the store.
--
-- Each key that held an id gains `tenant_id` as its last column: a lookup by id alone (row security adds the
-- tenant as a filter, an OR no index serves) still walks the key's index by its first columns. Every
-- reference between a shop's rows names the tenant too, so no row can point into another tenant's books.

SELECT set_config('kassa.tenant', '*', true);

-- References first: they hang on the keys below.
ALTER TABLE kz_documents_before_ledger DROP CONSTRAINT kz_documents_before_ledger_kkm_id_fkey;
ALTER TABLE ledger_documents DROP CONSTRAINT ledger_documents_device_id_fkey;
ALTER TABLE ledger_counters DROP CONSTRAINT ledger_counters_device_id_fkey;
ALTER TABLE ledger_lifetime_counters DROP CONSTRAINT ledger_lifetime_counters_device_id_fkey;
ALTER TABLE ledger_document_counters DROP CONSTRAINT ledger_document_counters_document_id_fkey;
ALTER TABLE ledger_fiscal DROP CONSTRAINT ledger_fiscal_document_id_fkey;
ALTER TABLE kz_kkms DROP CONSTRAINT kz_kkms_device_id_fkey;
ALTER TABLE kkm_bindings DROP CONSTRAINT kkm_bindings_kkm_id_fkey, DROP CONSTRAINT kkm_bindings_operator_id_fkey;
ALTER TABLE control_receipts DROP CONSTRAINT control_receipts_kkm_id_fkey;
ALTER TABLE device_leases DROP CONSTRAINT device_leases_device_id_fkey;

-- The keys, the tenant last.
ALTER TABLE operators DROP CONSTRAINT operators_pkey, ADD PRIMARY KEY (id, tenant_id);
ALTER TABLE kz_kkms_before_ledger DROP CONSTRAINT kz_kkms_before_ledger_pkey, ADD PRIMARY KEY (id, tenant_id);
ALTER TABLE kz_documents_before_ledger DROP CONSTRAINT kz_documents_before_ledger_pkey,
    ADD PRIMARY KEY (id, tenant_id);
DROP INDEX documents_position;
CREATE UNIQUE INDEX documents_position ON kz_documents_before_ledger (kkm_id, fr_shift_number, shift_document_number, tenant_id)
    WHERE ofd_state <> 4;

ALTER TABLE ledger_devices DROP CONSTRAINT ledger_devices_pkey, ADD PRIMARY KEY (id, tenant_id);
ALTER TABLE ledger_documents DROP CONSTRAINT ledger_documents_pkey, ADD PRIMARY KEY (id, tenant_id),
    DROP CONSTRAINT ledger_documents_device_id_number_key, ADD UNIQUE (device_id, number, tenant_id);
DROP INDEX ledger_documents_position;
CREATE UNIQUE INDEX ledger_documents_position ON ledger_documents (device_id, shift_number, shift_position, tenant_id)
    WHERE fiscal_state <> 3;
DROP INDEX ledger_documents_autonomous;
CREATE UNIQUE INDEX ledger_documents_autonomous ON ledger_documents (device_id, autonomous_number, tenant_id)
    WHERE autonomous_number IS NOT NULL AND fiscal_state <> 3;

ALTER TABLE ledger_counters DROP CONSTRAINT ledger_counters_pkey, ADD PRIMARY KEY (device_id, shift_number, name, tenant_id),
    DROP CONSTRAINT ledger_counters_rowid_key, ADD UNIQUE (rowid, tenant_id);
ALTER TABLE ledger_lifetime_counters DROP CONSTRAINT ledger_lifetime_counters_pkey,
    ADD PRIMARY KEY (device_id, name, tenant_id);
ALTER TABLE ledger_document_counters DROP CONSTRAINT ledger_document_counters_pkey,
    ADD PRIMARY KEY (document_id, name, tenant_id);
ALTER TABLE ledger_fiscal DROP CONSTRAINT ledger_fiscal_pkey, ADD PRIMARY KEY (document_id, tenant_id);

ALTER TABLE kz_kkms DROP CONSTRAINT kz_kkms_pkey, ADD PRIMARY KEY (kkm_id, tenant_id),
    DROP CONSTRAINT kz_kkms_device_id_key, ADD UNIQUE (device_id, tenant_id);
ALTER TABLE kkm_bindings DROP CONSTRAINT kkm_bindings_pkey, ADD PRIMARY KEY (kkm_id, operator_id, tenant_id);
ALTER TABLE control_receipts DROP CONSTRAINT control_receipts_pkey, ADD PRIMARY KEY (id, tenant_id),
    DROP CONSTRAINT control_receipts_kkm_id_number_key, ADD UNIQUE (kkm_id, number, tenant_id);
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey,
    ADD PRIMARY KEY (book, device_id, method, key, tenant_id);

-- A lease is a tenant's device's: the tenant from the device itself.
ALTER TABLE device_leases ADD COLUMN tenant_id text;
UPDATE device_leases l SET tenant_id = d.tenant_id FROM ledger_devices d WHERE d.id = l.device_id;
ALTER TABLE device_leases ALTER COLUMN tenant_id SET NOT NULL,
    DROP CONSTRAINT device_leases_pkey, ADD PRIMARY KEY (device_id, tenant_id);

-- The references again, each within its tenant.
ALTER TABLE kz_documents_before_ledger ADD FOREIGN KEY (kkm_id, tenant_id) REFERENCES kz_kkms_before_ledger (id, tenant_id);
ALTER TABLE ledger_documents ADD FOREIGN KEY (device_id, tenant_id) REFERENCES ledger_devices (id, tenant_id);
ALTER TABLE ledger_counters ADD FOREIGN KEY (device_id, tenant_id) REFERENCES ledger_devices (id, tenant_id);
ALTER TABLE ledger_lifetime_counters ADD FOREIGN KEY (device_id, tenant_id) REFERENCES ledger_devices (id, tenant_id);
ALTER TABLE ledger_document_counters ADD FOREIGN KEY (document_id, tenant_id) REFERENCES ledger_documents (id, tenant_id);
ALTER TABLE ledger_fiscal ADD FOREIGN KEY (document_id, tenant_id) REFERENCES ledger_documents (id, tenant_id);
ALTER TABLE kz_kkms ADD FOREIGN KEY (device_id, tenant_id) REFERENCES ledger_devices (id, tenant_id);
ALTER TABLE kkm_bindings ADD FOREIGN KEY (kkm_id, tenant_id) REFERENCES kz_kkms (kkm_id, tenant_id) ON DELETE CASCADE,
    ADD FOREIGN KEY (operator_id, tenant_id) REFERENCES operators (id, tenant_id) ON DELETE CASCADE;
ALTER TABLE control_receipts ADD FOREIGN KEY (kkm_id, tenant_id) REFERENCES kz_kkms (kkm_id, tenant_id);
ALTER TABLE device_leases ADD FOREIGN KEY (device_id, tenant_id) REFERENCES ledger_devices (id, tenant_id);

-- The lease functions of 0002, keyed by the tenant the transaction names and the device.
DROP TRIGGER ledger_devices_fenced ON ledger_devices;
DROP TRIGGER ledger_documents_fenced ON ledger_documents;
DROP TRIGGER kz_kkms_fenced ON kz_kkms;
DROP FUNCTION kassa_fenced_device();
DROP FUNCTION kassa_fenced_row();
DROP FUNCTION kassa_fence(bigint);
DROP FUNCTION kassa_hold(bigint, interval);

-- Takes, keeps or renews the lease of the transaction's tenant's `device` for the node this transaction names,
-- for at least `at_least` from now (the node's lease time when longer). Taken only when free, lapsed, this
-- node's already, or held by a node that stopped running; the row comes back either way, so the caller sees
-- who holds it. Locks the lease row until the transaction ends, so a node that checked its lease commits
-- before anyone takes it over.
CREATE FUNCTION kassa_hold(device bigint, at_least interval) RETURNS device_leases LANGUAGE plpgsql AS $$
DECLARE
    me     text := current_setting('kassa.node', true);
    key    integer := coalesce(nullif(current_setting('kassa.node_key', true), ''), '0')::integer;
    addr   text := coalesce(current_setting('kassa.address', true), '{}');
    span   interval := greatest(make_interval(secs => coalesce(nullif(current_setting('kassa.lease', true), ''), '15')::double precision), at_least);
    tenant text := current_setting('kassa.tenant', true);
    lease  device_leases;
BEGIN
    IF me IS NULL OR me = '' THEN
        RAISE EXCEPTION 'kassa_hold needs kassa.node' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF tenant IS NULL OR tenant = '' OR tenant = '*' THEN
        RAISE EXCEPTION 'kassa_hold needs the tenant of the device (kassa.tenant)' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Another running node's live lease is only read, not locked: a node that hands a request over writes
    -- nothing (its transaction needs no flush to disk).
    SELECT * INTO lease FROM device_leases WHERE device_id = device AND tenant_id = tenant;
    IF FOUND AND lease.node <> me AND lease.expires_at > clock_timestamp() AND kassa_node_alive(lease.node_key) THEN
        RETURN lease;
    END IF;
    SELECT * INTO lease FROM device_leases WHERE device_id = device AND tenant_id = tenant FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO device_leases (device_id, node, node_key, address, fence, expires_at, tenant_id)
            VALUES (device, me, key, addr, 1, clock_timestamp() + span, tenant)
            ON CONFLICT (device_id, tenant_id) DO NOTHING;
        SELECT * INTO lease FROM device_leases WHERE device_id = device AND tenant_id = tenant FOR UPDATE;
        IF lease.node <> me THEN
            RETURN lease;  -- another node took it first
        END IF;
    ELSIF lease.node = me THEN
        IF lease.expires_at < clock_timestamp() + span THEN
            UPDATE device_leases SET expires_at = clock_timestamp() + span, address = addr
             WHERE device_id = device AND tenant_id = tenant RETURNING * INTO lease;
        END IF;
    ELSIF lease.expires_at <= clock_timestamp() OR NOT kassa_node_alive(lease.node_key) THEN
        UPDATE device_leases SET node = me, node_key = key, address = addr, fence = lease.fence + 1,
               expires_at = clock_timestamp() + span
         WHERE device_id = device AND tenant_id = tenant RETURNING * INTO lease;
    END IF;
    RETURN lease;
END
$$;

-- Before every write of a device's rows (its tenant's): the writing node must hold the device's live lease.
-- One that `kassa_hold` would give it is taken in passing (the node learns the new fence at its next
-- `kassa_hold`, which comes before it uses what it remembers of the device); another node's live lease
-- refuses the write (SQLSTATE KL001, the holder in the detail).
CREATE FUNCTION kassa_fence(device bigint, tenant text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me    text := current_setting('kassa.node', true);
    lease device_leases;
BEGIN
    IF me IS NULL OR me = '' THEN
        RETURN;
    END IF;
    SELECT * INTO lease FROM device_leases WHERE device_id = device AND tenant_id = tenant FOR SHARE;
    IF FOUND AND lease.node = me AND lease.expires_at > clock_timestamp() THEN
        RETURN;
    END IF;
    lease := kassa_hold(device, interval '0');
    IF lease.node = me THEN
        RETURN;
    END IF;
    RAISE EXCEPTION 'device % is served by another node', device
        USING ERRCODE = 'KL001',
              DETAIL = json_build_object('device', device, 'node', lease.node, 'address', lease.address::json,
                                         'until', lease.expires_at)::text;
END
$$;

CREATE FUNCTION kassa_fenced_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kassa_fence(NEW.id, NEW.tenant_id);
    RETURN NEW;
END
$$;

CREATE FUNCTION kassa_fenced_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kassa_fence(NEW.device_id, NEW.tenant_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_devices_fenced
    BEFORE UPDATE OF next_number, shift_number, shift_opened_at, shift_position, last_autonomous, last_request,
                     retired_at ON ledger_devices
    FOR EACH ROW EXECUTE FUNCTION kassa_fenced_device();
CREATE TRIGGER ledger_documents_fenced
    BEFORE INSERT OR UPDATE OF fiscal_state, fiscal_reply, autonomous_number, shift_position ON ledger_documents
    FOR EACH ROW EXECUTE FUNCTION kassa_fenced_row();
CREATE TRIGGER kz_kkms_fenced
    BEFORE UPDATE OF is_offline, offline_start_date, offline_end_date, offline_ticket_number, is_blocked,
                     blocked_info, is_invalid_token, local_state, shift_close_date ON kz_kkms
    FOR EACH ROW EXECUTE FUNCTION kassa_fenced_row();

-- A shop moved in by copy keeps the PIN key its PINs were hashed under, sealed under the nodes' key
-- (`kassa store copy --tenant`); a tenant registered here has none and uses the key derived from the nodes'.
ALTER TABLE tenants ADD COLUMN pin_key_sealed bytea;
