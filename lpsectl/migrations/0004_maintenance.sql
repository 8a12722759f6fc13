-- Maintenance windows (SOP 000). uid is the iCalendar UID: stable across
-- reschedules and cancellation; sequence is the iCalendar SEQUENCE.
-- status: scheduled | announced | started | completed | cancelled
CREATE TABLE maintenance_windows (
    id {{id}},
    uid TEXT NOT NULL UNIQUE,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'scheduled',
    emergency INTEGER NOT NULL DEFAULT 0,
    emergency_why TEXT,
    sequence INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    announced_at TEXT,
    started_at TEXT,
    completed_at TEXT,
    cancelled_at TEXT,
    cancel_reason TEXT
);
CREATE INDEX maintenance_windows_start ON maintenance_windows (start_at);

-- Everything that happened to a window, in order (the full history).
-- kind: scheduled, rescheduled, announced, reminder-3d, reminder-1h, ...,
-- reminder-skipped, started, completed, cancelled; detail is JSON.
CREATE TABLE maintenance_events (
    id {{id}},
    window_id INTEGER NOT NULL REFERENCES maintenance_windows(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX maintenance_events_window ON maintenance_events (window_id, id);

-- The e-mail spool: every message is written here before SMTP sees it.
-- status: pending | sending | sent. raw is the whole RFC 5322 message
-- (Bcc removed; envelope recipients are in recipients, a JSON list).
-- ref names what the mail is about, e.g. 'maintenance:3'.
CREATE TABLE outbox (
    id {{id}},
    message_id TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    ref TEXT,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_attempt_at TEXT,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX outbox_status ON outbox (status, id);
CREATE INDEX outbox_ref ON outbox (ref);
