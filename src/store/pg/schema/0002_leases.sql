-- Per-device leases (issue 25, part 3): several nodes serve one database, and a device's documents are
-- written and sent by one node at a time, the lease's holder. docs/scale-out.md gives the design.
--
-- A node names itself in every write transaction (`kassa.node`, `kassa.node_key`, `kassa.address`,
-- `kassa.lease` set local by the store); a session that names no node (`kassa store copy`, psql) is not
-- fenced. While a node runs, one of its sessions holds the advisory lock (`kassa_presence()`, node_key): a
-- node whose lock is gone (its process died, its connection dropped) has lost its leases at once, without
-- waiting for them to lapse. A paused node keeps its lock and loses its leases when they lapse.
--
-- `fence` grows by one each time the lease changes hands: what a node remembers about a device is good only
-- under the fence it was learnt at.

CREATE TABLE device_leases (
    device_id  bigint PRIMARY KEY REFERENCES ledger_devices (id),
    node       text NOT NULL,
    node_key   integer NOT NULL,           -- the holder's presence lock
    address    text NOT NULL,              -- JSON: the holder's front listeners, for a request handed over
    fence      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- The devices with documents waiting for their authority (a node sends the queues nobody serves).
CREATE INDEX ledger_documents_unsent ON ledger_documents (device_id) WHERE fiscal_state = 0;

-- The first half of every node's presence lock; the second is the node's key.
CREATE FUNCTION kassa_presence() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 1801548659';

-- Whether the node with `node_key` still runs (holds its presence lock).
CREATE FUNCTION kassa_node_alive(key integer) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                      AND classid = kassa_presence()::oid AND objid = key::oid AND objsubid = 2)
$$;

-- Takes, keeps or renews the lease of `device` for the node this transaction names, for at least
-- `at_least` from now (the node's lease time when longer). Taken only when free, lapsed, this node's
-- already, or held by a node that stopped running; the row comes back either way, so the caller sees who
-- holds it. Locks the lease row until the transaction ends, so a node that checked its lease commits
-- before anyone takes it over.
CREATE FUNCTION kassa_hold(device bigint, at_least interval) RETURNS device_leases LANGUAGE plpgsql AS $$
DECLARE
    me     text := current_setting('kassa.node', true);
    key    integer := coalesce(nullif(current_setting('kassa.node_key', true), ''), '0')::integer;
    addr   text := coalesce(current_setting('kassa.address', true), '{}');
    span   interval := greatest(make_interval(secs => coalesce(nullif(current_setting('kassa.lease', true), ''), '15')::double precision), at_least);
    lease  device_leases;
BEGIN
    IF me IS NULL OR me = '' THEN
        RAISE EXCEPTION 'kassa_hold needs kassa.node' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Another running node's live lease is only read, not locked: a node that hands a request over writes
    -- nothing (its transaction needs no flush to disk).
    SELECT * INTO lease FROM device_leases WHERE device_id = device;
    IF FOUND AND lease.node <> me AND lease.expires_at > clock_timestamp() AND kassa_node_alive(lease.node_key) THEN
        RETURN lease;
    END IF;
    SELECT * INTO lease FROM device_leases WHERE device_id = device FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO device_leases VALUES (device, me, key, addr, 1, clock_timestamp() + span)
            ON CONFLICT (device_id) DO NOTHING;
        SELECT * INTO lease FROM device_leases WHERE device_id = device FOR UPDATE;
        IF lease.node <> me THEN
            RETURN lease;  -- another node took it first
        END IF;
    ELSIF lease.node = me THEN
        IF lease.expires_at < clock_timestamp() + span THEN
            UPDATE device_leases SET expires_at = clock_timestamp() + span, address = addr
             WHERE device_id = device RETURNING * INTO lease;
        END IF;
    ELSIF lease.expires_at <= clock_timestamp() OR NOT kassa_node_alive(lease.node_key) THEN
        UPDATE device_leases SET node = me, node_key = key, address = addr, fence = lease.fence + 1,
               expires_at = clock_timestamp() + span
         WHERE device_id = device RETURNING * INTO lease;
    END IF;
    RETURN lease;
END
$$;

-- Before every write of a device's rows: the writing node must hold the device's live lease. One that
-- `kassa_hold` would give it is taken in passing (the node learns the new fence at its next `kassa_hold`,
-- which comes before it uses what it remembers of the device); another node's live lease refuses the
-- write (SQLSTATE KL001, the holder in the detail).
CREATE FUNCTION kassa_fence(device bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me    text := current_setting('kassa.node', true);
    lease device_leases;
BEGIN
    IF me IS NULL OR me = '' THEN
        RETURN;
    END IF;
    SELECT * INTO lease FROM device_leases WHERE device_id = device FOR SHARE;
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
    PERFORM kassa_fence(NEW.id);
    RETURN NEW;
END
$$;

CREATE FUNCTION kassa_fenced_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kassa_fence(NEW.device_id);
    RETURN NEW;
END
$$;

-- The columns a device's own work writes: its numbers and shift, its documents and their fiscal state, a
-- KKM's link state. Not fenced: a device's registration, a KKM's settings (SaveKKM on any node), the template
-- version a document keeps (pinned at its first rendering, a reprint on any node).
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
