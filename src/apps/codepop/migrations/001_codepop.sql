-- codepop: a drink-shop chain. Reference data (regions, hubs, stores, machines,
-- drinks) is identical on every node; operational data belongs to the node
-- that owns it. Records that cross nodes carry a uuid besides their local id.

CREATE TABLE codepop_regions (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,              -- "C"
    name TEXT NOT NULL
);

CREATE TABLE codepop_hubs (
    id        INTEGER PRIMARY KEY,
    region_id INTEGER NOT NULL REFERENCES codepop_regions(id),
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    lat       REAL NOT NULL,
    lon       REAL NOT NULL
);

CREATE TABLE codepop_stores (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    region_id     INTEGER NOT NULL REFERENCES codepop_regions(id),
    supply_hub_id INTEGER NOT NULL REFERENCES codepop_hubs(id),
    lat           REAL NOT NULL,
    lon           REAL NOT NULL,
    address       TEXT NOT NULL DEFAULT '',
    timezone      TEXT NOT NULL,            -- IANA name
    opens_at      TEXT NOT NULL,            -- local "HH:MM", same every day
    closes_at     TEXT NOT NULL
);
CREATE INDEX codepop_stores_region ON codepop_stores(region_id);

CREATE TABLE codepop_machines (
    id                    INTEGER PRIMARY KEY,
    store_id              INTEGER NOT NULL UNIQUE REFERENCES codepop_stores(id),
    serial                TEXT NOT NULL UNIQUE,
    status                TEXT NOT NULL DEFAULT 'normal'
                          CHECK (status IN ('normal', 'warning', 'error', 'repair-start', 'repair-end', 'offline')),
    last_maintenance_date TEXT
);

CREATE TABLE codepop_drinks (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    complexity  TEXT NOT NULL CHECK (complexity IN ('simple', 'medium', 'complex'))
);

-- What one drink consumes from the store's inventory.
CREATE TABLE codepop_recipe_items (
    drink_id  INTEGER NOT NULL REFERENCES codepop_drinks(id),
    item_name TEXT NOT NULL,
    amount    INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (drink_id, item_name)
);

CREATE TABLE codepop_store_inventory (
    id              INTEGER PRIMARY KEY,
    store_id        INTEGER NOT NULL REFERENCES codepop_stores(id),
    item_type       TEXT NOT NULL,          -- Syrups, Sodas, Add-ins, Cups
    item_name       TEXT NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity >= 0),
    threshold_level INTEGER NOT NULL DEFAULT 0 CHECK (threshold_level >= 0),
    low_notified    INTEGER NOT NULL DEFAULT 0,   -- 1 while at/below threshold: notify once per crossing
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (store_id, item_name)
);

CREATE TABLE codepop_hub_inventory (
    id        INTEGER PRIMARY KEY,
    hub_id    INTEGER NOT NULL REFERENCES codepop_hubs(id),
    item_type TEXT NOT NULL,
    item_name TEXT NOT NULL,
    quantity  INTEGER NOT NULL CHECK (quantity >= 0),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (hub_id, item_name)
);

CREATE TABLE codepop_orders (
    id                  INTEGER PRIMARY KEY,
    store_id            INTEGER NOT NULL REFERENCES codepop_stores(id),
    user_id             INTEGER NOT NULL,
    total_cents         INTEGER NOT NULL CHECK (total_cents >= 0),
    currency            TEXT NOT NULL DEFAULT 'USD',
    status              TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'preparing', 'ready', 'picked_up', 'cancelled')),
    payment_status      TEXT NOT NULL DEFAULT 'unpaid' CHECK (payment_status IN ('unpaid', 'paid', 'refunded')),
    pickup_time         TEXT NOT NULL,      -- UTC RFC 3339
    preparation_minutes INTEGER NOT NULL,
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX codepop_orders_store ON codepop_orders(store_id, created_at DESC, id DESC);
CREATE INDEX codepop_orders_store_status ON codepop_orders(store_id, status, created_at DESC);
CREATE INDEX codepop_orders_user ON codepop_orders(user_id, id DESC);

CREATE TABLE codepop_order_lines (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES codepop_orders(id),
    drink_id         INTEGER NOT NULL REFERENCES codepop_drinks(id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    line_total_cents INTEGER NOT NULL
);
CREATE INDEX codepop_order_lines_order ON codepop_order_lines(order_id);

CREATE TABLE codepop_revenue (
    id           INTEGER PRIMARY KEY,
    store_id     INTEGER NOT NULL REFERENCES codepop_stores(id),
    order_id     INTEGER NOT NULL REFERENCES codepop_orders(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    is_refund    INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX codepop_revenue_store ON codepop_revenue(store_id, created_at);
CREATE UNIQUE INDEX codepop_revenue_once ON codepop_revenue(order_id, is_refund);

CREATE TABLE codepop_supply_requests (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    store_id        INTEGER NOT NULL REFERENCES codepop_stores(id),
    requested_by    INTEGER,
    status          TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    urgency         TEXT NOT NULL CHECK (urgency IN ('LOW', 'NORMAL', 'HIGH', 'CRITICAL')),
    notes           TEXT NOT NULL DEFAULT '',
    reviewed_by     INTEGER,
    approved_at     TEXT,
    rejected_reason TEXT,
    origin_node_id  TEXT,                   -- the node that created it (NULL: this node)
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX codepop_supply_store ON codepop_supply_requests(store_id, status);

CREATE TABLE codepop_supply_request_items (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES codepop_supply_requests(id),
    item_name  TEXT NOT NULL,
    item_type  TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10000)
);
CREATE INDEX codepop_supply_items_request ON codepop_supply_request_items(request_id);

CREATE TABLE codepop_deliveries (
    id                  INTEGER PRIMARY KEY,
    uuid                TEXT NOT NULL UNIQUE,
    supply_request_id   INTEGER NOT NULL REFERENCES codepop_supply_requests(id),
    supply_request_uuid TEXT NOT NULL,
    hub_id              INTEGER NOT NULL REFERENCES codepop_hubs(id),
    store_id            INTEGER NOT NULL REFERENCES codepop_stores(id),
    status              TEXT NOT NULL DEFAULT 'SCHEDULED'
                        CHECK (status IN ('SCHEDULED', 'IN_TRANSIT', 'DELIVERED', 'CANCELLED')),
    scheduled_date      TEXT NOT NULL,      -- YYYY-MM-DD
    delivered_at        TEXT,
    stock_applied       INTEGER NOT NULL DEFAULT 0,  -- store stock raised (exactly once)
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX codepop_deliveries_store ON codepop_deliveries(store_id, status);

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
    status                     TEXT NOT NULL DEFAULT 'SCHEDULED'
                               CHECK (status IN ('SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')),
    actual_start_time          TEXT,
    actual_end_time            TEXT,
    notes                      TEXT NOT NULL DEFAULT '',
    created_at                 TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX codepop_repairs_assignee ON codepop_repair_schedules(assigned_to, scheduled_date);

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
CREATE INDEX codepop_maintenance_machine ON codepop_maintenance_logs(machine_id, id);

CREATE TABLE codepop_preferences (
    user_id          INTEGER PRIMARY KEY,
    favourite_drinks TEXT NOT NULL DEFAULT '[]',    -- JSON array of drink ids
    default_store_id INTEGER REFERENCES codepop_stores(id),
    notifications    TEXT NOT NULL DEFAULT '{}',    -- JSON object of settings
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Analytics answers per (store, period), dropped in the same transaction that
-- changes the store's revenue.
CREATE TABLE codepop_analytics_cache (
    store_id    INTEGER NOT NULL,
    period_days INTEGER NOT NULL,
    day         TEXT NOT NULL,              -- UTC date the answer was computed for
    body        TEXT NOT NULL,
    PRIMARY KEY (store_id, period_days)
);

-- Peer nodes this node knows (a hub: its stores; a store: its hub).
CREATE TABLE codepop_nodes (
    id                INTEGER PRIMARY KEY,
    node_id           TEXT NOT NULL UNIQUE,     -- UUID
    node_type         TEXT NOT NULL CHECK (node_type IN ('store', 'hub')),
    url               TEXT NOT NULL,
    store_id          INTEGER,
    hub_id            INTEGER,
    credential        TEXT NOT NULL,            -- sealed per-node HMAC key
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    registered_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_contact_at   TEXT
);

-- Events for peers: written in the transaction that caused them, delivered by
-- the codepop.p2p_deliver job with backoff.
CREATE TABLE codepop_p2p_events (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,       -- UUID
    event_type      TEXT NOT NULL,
    source_node_id  TEXT NOT NULL,
    target_node_id  TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0, -- unix seconds
    last_error      TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    processed_at    TEXT
);
CREATE INDEX codepop_p2p_pending ON codepop_p2p_events(status, next_attempt_at);

-- Events received from peers, applied once (keyed by event_id).
CREATE TABLE codepop_p2p_inbox (
    event_id       TEXT PRIMARY KEY,
    event_type     TEXT NOT NULL,
    source_node_id TEXT NOT NULL,
    payload        TEXT NOT NULL,
    received_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Signatures seen in the last 5 minutes: a replayed request is refused.
CREATE TABLE codepop_p2p_seen (
    signature TEXT PRIMARY KEY,
    seen_at   INTEGER NOT NULL
);
