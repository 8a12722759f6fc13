-- Alerts as states and the notifications they cause (issue 21, lpsectl/notify.py).
-- alert_states: one row per opening of an alert (key: host/check/outbox + item +
-- condition); closed_at set when it no longer holds. told_at/told_severity: when and at
-- which severity it was last told (NULL: not told, e.g. planned downtime).
CREATE TABLE alert_states (
    id {{id}},
    key TEXT NOT NULL,
    severity TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    next_step TEXT NOT NULL DEFAULT '',
    since TEXT,
    opened_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    told_at TEXT,
    told_severity TEXT,
    planned INTEGER NOT NULL DEFAULT 0,
    closed_at TEXT
);
CREATE INDEX alert_states_open ON alert_states (closed_at, key);
-- notifications: one per transition and target. target is the hash of the Apprise URL,
-- target_shown its privacy form (no token, no password): the URL itself is never stored.
CREATE TABLE notifications (
    id {{id}},
    alert_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    target TEXT NOT NULL,
    target_shown TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
