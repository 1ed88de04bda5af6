-- Audit actions follow <app>.<resource>.<past-tense verb> with a singular
-- resource. Five names groupbuy wrote before did not; rows written under them
-- keep them (the audit log is append-only and hash-chained, so rewriting a row
-- would break `atrium audit verify`), and these aliases let GET /api/v1/audit
-- find them under the new names. Every status column was already lowercase
-- snake_case: no row changes.
INSERT INTO audit_action_aliases (app, old_action, action) VALUES
    ('groupbuy', 'groupbuy.contribution.extra_charge', 'groupbuy.contribution.extra_charged'),
    ('groupbuy', 'groupbuy.group.ready_for_collection', 'groupbuy.group.marked_ready'),
    ('groupbuy', 'groupbuy.refunds.requested', 'groupbuy.refund.requested'),
    ('groupbuy', 'groupbuy.refunds.processed', 'groupbuy.refund.processed'),
    ('groupbuy', 'seed', 'groupbuy.demo_data.seeded');
