-- Delivery per recipient (issue 12). A message's outcome is the sum of its
-- recipients' outcomes, taken from the SMTP replies:
--   queued   waiting for its first try
--   deferred a 4xx reply, a lost connection or a timeout: tried again at next_attempt_at
--   sent     the server accepted it (2xx)
--   failed   a 5xx reply, or deferred for longer than mail.retry_hours since
--            first_deferred_at (reply says why)
--   dropped  taken out by `outbox drop` (kept for the record)
-- outbox.status: queued | sending (claimed by a flush) | deferred | sent |
-- partial (some sent, some failed) | failed | dropped.
CREATE TABLE outbox_recipients (
    id {{id}},
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    address TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    reply TEXT,
    updated_at TEXT,
    first_deferred_at TEXT,
    UNIQUE (outbox_id, address)
);
CREATE INDEX outbox_recipients_message ON outbox_recipients (outbox_id, id);
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
UPDATE outbox SET status = 'queued' WHERE status = 'pending';
