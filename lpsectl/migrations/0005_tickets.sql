-- Helpdesk tickets imported from "LPSE Support" exports (SOP 001).
-- number is the key: a re-import updates the row, never duplicates it.
-- Times are ISO 8601 text with offset; month is the LPSE-local YYYY-MM of opened_at.
CREATE TABLE tickets (
    id {{id}},
    number TEXT NOT NULL UNIQUE,
    opened_at TEXT NOT NULL,
    month TEXT NOT NULL,
    reporter_type TEXT,
    subject TEXT,
    description TEXT,
    category TEXT,
    group_override TEXT,
    priority TEXT,
    status TEXT,
    first_response_at TEXT,
    priority_set_at TEXT,
    data_requested_at TEXT,
    data_received_at TEXT,
    escalated_to TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    source TEXT,
    imported_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tickets_month ON tickets (month);
