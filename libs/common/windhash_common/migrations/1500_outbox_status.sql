-- Outbox rows say where they stand: pending (to publish), published, or failed with the reason (a message
-- Kafka refuses for good, such as one over its size limit, is set aside so the rows after it still go).
-- Published and failed rows are pruned after 30 days (windhash_common.outbox_pruning, one runner under a job
-- lease).
ALTER TABLE outbox
    ADD COLUMN status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'published', 'failed')),
    ADD COLUMN failed_at timestamptz,
    ADD COLUMN failure_reason text;
-- Rows published before this migration say so before the rule below is checked against them.
UPDATE outbox SET status = 'published' WHERE published_at IS NOT NULL;
ALTER TABLE outbox
    ADD CONSTRAINT outbox_status_matches CHECK (
        (status = 'pending' AND published_at IS NULL AND failed_at IS NULL)
        OR (status = 'published' AND published_at IS NOT NULL)
        OR (status = 'failed' AND failed_at IS NOT NULL AND failure_reason IS NOT NULL)
    );
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
-- Pruning finds what is old enough without reading the pending rows.
CREATE INDEX outbox_settled ON outbox (coalesce(published_at, failed_at)) WHERE status <> 'pending';
