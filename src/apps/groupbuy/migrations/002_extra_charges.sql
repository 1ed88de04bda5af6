-- groupbuy: charges that succeeded for a contribution already paid by another
-- charge (a late success of an earlier attempt, or the client's confirmation
-- of a charge after a webhook recorded a different one). The money is held in
-- escrow (a ledger 'payment' row) and refunded by the refund runner:
-- pending -> processing -> refunded | failed, failed ones retried while
-- attempts remain, like groupbuy_refunds. refund_reference is ours,
-- "GB-X<id>", set in the transaction that inserts the row.
-- ON DELETE CASCADE only serves `atrium seed groupbuy --clear`, which deletes
-- contributions; the app never deletes them.
CREATE TABLE groupbuy_extra_charges (
    id INTEGER PRIMARY KEY,
    contribution_id INTEGER NOT NULL REFERENCES groupbuy_contributions(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL,
    supplier_id INTEGER NOT NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'refunded', 'failed')),
    refund_reference TEXT UNIQUE,
    refund_provider_ref TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    claimed_at INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    refunded_at TEXT,
    UNIQUE (provider, provider_ref)
);
CREATE INDEX groupbuy_extra_charges_status ON groupbuy_extra_charges(status, next_attempt_at);
CREATE INDEX groupbuy_extra_charges_contribution ON groupbuy_extra_charges(contribution_id);
