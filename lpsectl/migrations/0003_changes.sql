-- Recommendations produced by `lpsectl analyze` (one per period, rule, host, subject;
-- re-running the analysis for the same period updates the row and keeps its id).
CREATE TABLE recommendations (
    id {{id}},
    period TEXT NOT NULL,
    rule TEXT NOT NULL,
    host TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL,
    change_class TEXT NOT NULL,
    route TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '{}',
    texts TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (period, rule, host, subject)
);

-- Change requests (SOP 003 steps 4-6) and their status history.
CREATE TABLE change_requests (
    id {{id}},
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    change_class TEXT NOT NULL,
    class_source TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    route TEXT NOT NULL,
    outcome TEXT,
    status TEXT NOT NULL,
    recommendation_id INTEGER REFERENCES recommendations(id),
    host TEXT NOT NULL DEFAULT '',
    impact TEXT NOT NULL DEFAULT '',
    plan TEXT NOT NULL DEFAULT '',
    rollback TEXT NOT NULL DEFAULT '',
    scheduled_for TEXT,
    requester TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX change_requests_status ON change_requests (status);

CREATE TABLE change_status_history (
    id {{id}},
    change_id INTEGER NOT NULL REFERENCES change_requests(id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX change_status_history_change ON change_status_history (change_id, id);
