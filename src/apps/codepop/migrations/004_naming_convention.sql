-- One naming convention (issue #9): statuses are lowercase snake_case in every
-- table and answer, audit actions are codepop.<resource>.<past-tense verb>.
--
-- Statuses: supply requests, deliveries, repair schedules and P2P outbox rows
-- were upper case (PENDING, IN_TRANSIT, ...); machines (and the maintenance
-- log that records them) had repair-start and repair-end. A CHECK constraint
-- cannot be altered in SQLite, so those tables are rebuilt, keeping every row
-- and its id (so every foreign key keeps pointing at the same row):
--   1. copy each table's rows into a plain hold table;
--   2. drop the old tables, children first, so that no drop of a parent finds
--      rows referencing it (foreign keys stay on; SQLite cannot turn them off
--      inside the migration's transaction, and PostgreSQL refuses to drop a
--      referenced table);
--   3. create the tables again, parents first, with the new CHECKs; copy the
--      rows back converting the status; drop the hold tables; recreate the
--      indexes (there are no triggers on these tables).
-- Plain SQL only: the same steps run on PostgreSQL (where the timestamp
-- DEFAULTs are written differently, as in 001).

CREATE TABLE codepop_machines_hold AS SELECT * FROM codepop_machines;
CREATE TABLE codepop_maintenance_logs_hold AS SELECT * FROM codepop_maintenance_logs;
CREATE TABLE codepop_supply_requests_hold AS SELECT * FROM codepop_supply_requests;
CREATE TABLE codepop_supply_request_items_hold AS SELECT * FROM codepop_supply_request_items;
CREATE TABLE codepop_deliveries_hold AS SELECT * FROM codepop_deliveries;
CREATE TABLE codepop_repair_schedules_hold AS SELECT * FROM codepop_repair_schedules;
CREATE TABLE codepop_p2p_events_hold AS SELECT * FROM codepop_p2p_events;

DROP TABLE codepop_maintenance_logs;
DROP TABLE codepop_repair_schedules;
DROP TABLE codepop_deliveries;
DROP TABLE codepop_supply_request_items;
DROP TABLE codepop_supply_requests;
DROP TABLE codepop_machines;
DROP TABLE codepop_p2p_events;

CREATE TABLE codepop_machines (
    id                    INTEGER PRIMARY KEY,
    store_id              INTEGER NOT NULL UNIQUE REFERENCES codepop_stores(id),
    serial                TEXT NOT NULL UNIQUE,
    status                TEXT NOT NULL DEFAULT 'normal'
                          CHECK (status IN ('normal', 'warning', 'error', 'repair_start', 'repair_end', 'offline')),
    last_maintenance_date TEXT
);
INSERT INTO codepop_machines (id, store_id, serial, status, last_maintenance_date)
    SELECT id, store_id, serial, REPLACE(status, '-', '_'), last_maintenance_date FROM codepop_machines_hold;

CREATE TABLE codepop_supply_requests (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    store_id        INTEGER NOT NULL REFERENCES codepop_stores(id),
    requested_by    INTEGER,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    urgency         TEXT NOT NULL CHECK (urgency IN ('LOW', 'NORMAL', 'HIGH', 'CRITICAL')),
    notes           TEXT NOT NULL DEFAULT '',
    reviewed_by     INTEGER,
    approved_at     TEXT,
    rejected_reason TEXT,
    origin_node_id  TEXT,                   -- the node that created it (NULL: this node)
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO codepop_supply_requests (id, uuid, store_id, requested_by, status, urgency, notes, reviewed_by,
                                     approved_at, rejected_reason, origin_node_id, created_at, updated_at)
    SELECT id, uuid, store_id, requested_by, lower(status), urgency, notes, reviewed_by, approved_at,
           rejected_reason, origin_node_id, created_at, updated_at FROM codepop_supply_requests_hold;

CREATE TABLE codepop_supply_request_items (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES codepop_supply_requests(id),
    item_name  TEXT NOT NULL,
    item_type  TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10000)
);
INSERT INTO codepop_supply_request_items (id, request_id, item_name, item_type, quantity)
    SELECT id, request_id, item_name, item_type, quantity FROM codepop_supply_request_items_hold;

CREATE TABLE codepop_deliveries (
    id                  INTEGER PRIMARY KEY,
    uuid                TEXT NOT NULL UNIQUE,
    supply_request_id   INTEGER NOT NULL REFERENCES codepop_supply_requests(id),
    supply_request_uuid TEXT NOT NULL,
    hub_id              INTEGER NOT NULL REFERENCES codepop_hubs(id),
    store_id            INTEGER NOT NULL REFERENCES codepop_stores(id),
    status              TEXT NOT NULL DEFAULT 'scheduled'
                        CHECK (status IN ('scheduled', 'in_transit', 'delivered', 'cancelled')),
    scheduled_date      TEXT NOT NULL,      -- YYYY-MM-DD
    delivered_at        TEXT,
    stock_applied       INTEGER NOT NULL DEFAULT 0,  -- store stock raised (exactly once)
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO codepop_deliveries (id, uuid, supply_request_id, supply_request_uuid, hub_id, store_id, status,
                                scheduled_date, delivered_at, stock_applied, created_at, updated_at)
    SELECT id, uuid, supply_request_id, supply_request_uuid, hub_id, store_id, lower(status), scheduled_date,
           delivered_at, stock_applied, created_at, updated_at FROM codepop_deliveries_hold;

CREATE TABLE codepop_repair_schedules (
    id                         INTEGER PRIMARY KEY,
    uuid                       TEXT NOT NULL UNIQUE,
    machine_id                 INTEGER NOT NULL REFERENCES codepop_machines(id),
    store_id                   INTEGER NOT NULL REFERENCES codepop_stores(id),
    assigned_to                INTEGER NOT NULL,    -- repair staff user id
    scheduled_date             TEXT NOT NULL,       -- YYYY-MM-DD
    scheduled_time             TEXT NOT NULL,       -- HH:MM
    action_type                TEXT NOT NULL CHECK (action_type IN
                               ('INSPECTION', 'PREVENTIVE_MAINTENANCE', 'EMERGENCY_REPAIR', 'PART_REPLACEMENT')),
    estimated_duration_minutes INTEGER NOT NULL CHECK (estimated_duration_minutes > 0),
    status                     TEXT NOT NULL DEFAULT 'scheduled'
                               CHECK (status IN ('scheduled', 'in_progress', 'completed', 'cancelled')),
    actual_start_time          TEXT,
    actual_end_time            TEXT,
    notes                      TEXT NOT NULL DEFAULT '',
    created_at                 TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO codepop_repair_schedules (id, uuid, machine_id, store_id, assigned_to, scheduled_date, scheduled_time,
                                      action_type, estimated_duration_minutes, status, actual_start_time,
                                      actual_end_time, notes, created_at)
    SELECT id, uuid, machine_id, store_id, assigned_to, scheduled_date, scheduled_time, action_type,
           estimated_duration_minutes, lower(status), actual_start_time, actual_end_time, notes, created_at
    FROM codepop_repair_schedules_hold;

CREATE TABLE codepop_maintenance_logs (
    id               INTEGER PRIMARY KEY,
    uuid             TEXT NOT NULL UNIQUE,
    machine_id       INTEGER NOT NULL REFERENCES codepop_machines(id),
    store_id         INTEGER NOT NULL REFERENCES codepop_stores(id),
    previous_status  TEXT NOT NULL,
    new_status       TEXT NOT NULL,
    action_type      TEXT,
    performed_by     INTEGER,
    notes            TEXT NOT NULL DEFAULT '',
    duration_minutes INTEGER,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO codepop_maintenance_logs (id, uuid, machine_id, store_id, previous_status, new_status, action_type,
                                      performed_by, notes, duration_minutes, created_at)
    SELECT id, uuid, machine_id, store_id, REPLACE(previous_status, '-', '_'), REPLACE(new_status, '-', '_'),
           action_type, performed_by, notes, duration_minutes, created_at FROM codepop_maintenance_logs_hold;

-- Outbox payloads stay as written: a receiver reads a delivery status in
-- either case (deliveries.c), so rows queued before this migration and peers
-- not yet migrated are still understood.
CREATE TABLE codepop_p2p_events (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,       -- UUID
    event_type      TEXT NOT NULL,
    source_node_id  TEXT NOT NULL,
    target_node_id  TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0, -- unix seconds
    last_error      TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    processed_at    TEXT
);
INSERT INTO codepop_p2p_events (id, event_id, event_type, source_node_id, target_node_id, payload, status,
                                attempts, next_attempt_at, last_error, created_at, processed_at)
    SELECT id, event_id, event_type, source_node_id, target_node_id, payload, lower(status), attempts,
           next_attempt_at, last_error, created_at, processed_at FROM codepop_p2p_events_hold;

DROP TABLE codepop_machines_hold;
DROP TABLE codepop_maintenance_logs_hold;
DROP TABLE codepop_supply_requests_hold;
DROP TABLE codepop_supply_request_items_hold;
DROP TABLE codepop_deliveries_hold;
DROP TABLE codepop_repair_schedules_hold;
DROP TABLE codepop_p2p_events_hold;

CREATE INDEX codepop_supply_store ON codepop_supply_requests(store_id, status);
CREATE INDEX codepop_supply_items_request ON codepop_supply_request_items(request_id);
CREATE INDEX codepop_deliveries_store ON codepop_deliveries(store_id, status);
CREATE INDEX codepop_repairs_assignee ON codepop_repair_schedules(assigned_to, scheduled_date);
CREATE INDEX codepop_maintenance_machine ON codepop_maintenance_logs(machine_id, id);
CREATE INDEX codepop_p2p_pending ON codepop_p2p_events(status, next_attempt_at);

-- Audit actions: the log is append-only and hash-chained, so rows written
-- under the old names keep them (rewriting them would break `atrium audit
-- verify`); these aliases let the audit API find them under the new names.
-- Every action name codepop has ever written is listed.
INSERT INTO audit_action_aliases (app, old_action, action) VALUES
    ('codepop', 'order.create', 'codepop.order.created'),
    ('codepop', 'order.pay', 'codepop.order.paid'),
    ('codepop', 'order.cancel', 'codepop.order.cancelled'),
    ('codepop', 'order.status', 'codepop.order.status_changed'),
    ('codepop', 'inventory.adjust', 'codepop.store_inventory.adjusted'),
    ('codepop', 'supply.create', 'codepop.supply_request.created'),
    ('codepop', 'supply.approve', 'codepop.supply_request.approved'),
    ('codepop', 'supply.reject', 'codepop.supply_request.rejected'),
    ('codepop', 'supply.mirror', 'codepop.supply_request.mirrored'),
    ('codepop', 'supply.approved', 'codepop.supply_request.approved'),
    ('codepop', 'supply.rejected', 'codepop.supply_request.rejected'),
    ('codepop', 'delivery.status', 'codepop.delivery.status_changed'),
    ('codepop', 'delivery.mirror', 'codepop.delivery.mirrored'),
    ('codepop', 'machine.status', 'codepop.machine.status_changed'),
    ('codepop', 'repair.schedule', 'codepop.repair_schedule.created'),
    ('codepop', 'repair.start', 'codepop.repair_schedule.started'),
    ('codepop', 'repair.complete', 'codepop.repair_schedule.completed'),
    ('codepop', 'repair.cancel', 'codepop.repair_schedule.cancelled'),
    ('codepop', 'preferences.update', 'codepop.preferences.updated'),
    ('codepop', 'p2p.node.register', 'codepop.node.registered'),
    ('codepop', 'p2p.node.rotate', 'codepop.node.credential_rotated'),
    ('codepop', 'p2p.hub.register', 'codepop.node.registered_with_hub'),
    ('codepop', 'p2p.event.failed', 'codepop.p2p_event.failed'),
    ('codepop', 'p2p.event.retry', 'codepop.p2p_event.retried'),
    ('codepop', 'seed', 'codepop.demo_data.seeded');
