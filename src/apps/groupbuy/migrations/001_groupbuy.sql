-- groupbuy: suppliers, products, group buys, contributions, payments,
-- refunds, supplier orders and the supplier balance ledger.
-- Times are RFC 3339 UTC text; money is integer cents with a currency code.

CREATE TABLE groupbuy_suppliers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    contact_email TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

CREATE TABLE groupbuy_products (
    id INTEGER PRIMARY KEY,
    supplier_id INTEGER NOT NULL REFERENCES groupbuy_suppliers(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL,
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents > 0),
    bulk_price_cents INTEGER NOT NULL CHECK (bulk_price_cents > 0 AND bulk_price_cents <= unit_price_cents),
    currency TEXT NOT NULL DEFAULT 'USD',
    moq INTEGER NOT NULL CHECK (moq >= 1),
    min_per_trader INTEGER NOT NULL DEFAULT 1 CHECK (min_per_trader >= 1),
    max_per_trader INTEGER CHECK (max_per_trader IS NULL OR max_per_trader >= min_per_trader),
    image_url TEXT,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX groupbuy_products_supplier ON groupbuy_products(supplier_id);

-- A group buy. unit_price_cents and currency are the product's bulk price
-- when the group was created (a later price change does not touch it).
CREATE TABLE groupbuy_groups (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES groupbuy_products(id),
    supplier_id INTEGER NOT NULL REFERENCES groupbuy_suppliers(id),
    creator_id INTEGER NOT NULL REFERENCES users(id),
    moq INTEGER NOT NULL CHECK (moq >= 1),
    target_quantity INTEGER NOT NULL CHECK (target_quantity >= moq),
    max_per_trader INTEGER CHECK (max_per_trader IS NULL OR max_per_trader >= 1),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents > 0),
    currency TEXT NOT NULL,
    deadline TEXT NOT NULL,
    pickup_location TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'failed', 'cancelled')),
    status_reason TEXT,
    supplier_status TEXT CHECK (supplier_status IN
        ('pending_supplier', 'supplier_accepted', 'supplier_rejected', 'ready_for_collection')),
    supplier_response_at TEXT,
    ready_for_collection_at TEXT,
    supplier_notes TEXT,
    completed_at TEXT,
    closed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX groupbuy_groups_status ON groupbuy_groups(status, deadline);
CREATE INDEX groupbuy_groups_supplier ON groupbuy_groups(supplier_id, status);

-- A trader's part of a group. Counted toward the MOQ only when
-- payment_status = 'paid' and refund_status IS NULL (see GB_COMMITTED_SQL).
CREATE TABLE groupbuy_contributions (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groupbuy_groups(id),
    trader_id INTEGER NOT NULL REFERENCES users(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
    payment_status TEXT NOT NULL DEFAULT 'unpaid' CHECK (payment_status IN ('unpaid', 'pending', 'paid', 'failed')),
    paid_amount_cents INTEGER NOT NULL DEFAULT 0 CHECK (paid_amount_cents >= 0),
    payment_provider TEXT,
    payment_reference TEXT UNIQUE,
    payment_attempts INTEGER NOT NULL DEFAULT 0,
    payment_started_at TEXT,
    paid_at TEXT,
    is_collected INTEGER NOT NULL DEFAULT 0 CHECK (is_collected IN (0, 1)),
    collected_at TEXT,
    collected_by INTEGER REFERENCES users(id),
    qr_token_hash TEXT UNIQUE,
    qr_nonce TEXT,
    qr_issued_at TEXT,
    refund_status TEXT CHECK (refund_status IN ('pending', 'processing', 'refunded', 'failed')),
    refunded_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX groupbuy_contributions_group ON groupbuy_contributions(group_id, trader_id);
CREATE INDEX groupbuy_contributions_trader ON groupbuy_contributions(trader_id);

-- One recorded payment per contribution, whoever reports it first (the
-- client's confirmation or the provider's webhook).
CREATE TABLE groupbuy_payments (
    id INTEGER PRIMARY KEY,
    contribution_id INTEGER NOT NULL UNIQUE REFERENCES groupbuy_contributions(id),
    provider TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('client', 'webhook', 'job', 'seed')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    UNIQUE (provider, provider_ref)
);

-- Webhook events seen, so that the same event twice is applied once.
CREATE TABLE groupbuy_webhook_events (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    reference TEXT,
    outcome TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    UNIQUE (provider, event_id)
);

-- One refund per contribution, ever (UNIQUE): pending -> processing ->
-- refunded | failed; failed ones are retried while attempts remain.
CREATE TABLE groupbuy_refunds (
    id INTEGER PRIMARY KEY,
    contribution_id INTEGER NOT NULL UNIQUE REFERENCES groupbuy_contributions(id),
    group_id INTEGER NOT NULL REFERENCES groupbuy_groups(id),
    trader_id INTEGER NOT NULL REFERENCES users(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL,
    provider TEXT NOT NULL,
    charge_ref TEXT NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    provider_ref TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'refunded', 'failed')),
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    requested_by INTEGER,
    claimed_at INTEGER,
    refunded_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX groupbuy_refunds_group ON groupbuy_refunds(group_id);
CREATE INDEX groupbuy_refunds_status ON groupbuy_refunds(status, next_attempt_at);

CREATE TABLE groupbuy_supplier_orders (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL UNIQUE,
    group_id INTEGER NOT NULL UNIQUE REFERENCES groupbuy_groups(id),
    supplier_id INTEGER NOT NULL REFERENCES groupbuy_suppliers(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    total_cents INTEGER NOT NULL CHECK (total_cents > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    rejection_reason TEXT,
    responded_by INTEGER REFERENCES users(id),
    responded_at TEXT,
    admin_verification_status TEXT NOT NULL DEFAULT 'unverified'
        CHECK (admin_verification_status IN ('unverified', 'verified')),
    admin_verified_at TEXT,
    admin_verified_by INTEGER REFERENCES users(id),
    qr_codes_generated INTEGER NOT NULL DEFAULT 0 CHECK (qr_codes_generated IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX groupbuy_supplier_orders_supplier ON groupbuy_supplier_orders(supplier_id, status);

-- Every money movement, signed (+ into the account, - out of it):
--   payment        escrow   +paid      a contribution was paid
--   refund         escrow   -refunded  a contribution was refunded
--   escrow_release escrow   -total     the supplier accepted the order ...
--   order_credit   supplier +total     ... and is credited with it
--   refund_debit   supplier -amount    a refund after acceptance debits the supplier ...
--   escrow_return  escrow   +amount    ... and returns the money to escrow first
CREATE TABLE groupbuy_ledger (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL CHECK (account IN ('escrow', 'supplier')),
    supplier_id INTEGER NOT NULL REFERENCES groupbuy_suppliers(id),
    group_id INTEGER NOT NULL REFERENCES groupbuy_groups(id),
    contribution_id INTEGER REFERENCES groupbuy_contributions(id),
    order_id INTEGER REFERENCES groupbuy_supplier_orders(id),
    entry_type TEXT NOT NULL CHECK (entry_type IN
        ('payment', 'refund', 'escrow_release', 'order_credit', 'refund_debit', 'escrow_return')),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX groupbuy_ledger_supplier ON groupbuy_ledger(supplier_id, account, id);
CREATE INDEX groupbuy_ledger_group ON groupbuy_ledger(group_id);

-- Rows are never changed: corrections are new rows. (Deleting stays possible
-- for `atrium seed groupbuy --clear`.)
-- (the trigger is per dialect: 005_triggers.*.sql)
