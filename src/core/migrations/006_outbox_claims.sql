-- Several instances dispatch one outbox: a dispatcher claims a batch of
-- pending rows (claimed_until, unix seconds) before handing them to sinks, so
-- no other instance hands out the same events; a crashed instance's claim
-- lapses and another instance takes the rows.
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
