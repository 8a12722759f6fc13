-- Account (de)activation requests (SOP 004). Personal data lives here:
-- listings mask NIP and phone; nothing is ever deleted (archive only).
CREATE TABLE access_requests (
    id {{id}},
    action TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    nip TEXT NOT NULL DEFAULT '',
    rank TEXT NOT NULL DEFAULT '',
    position TEXT NOT NULL DEFAULT '',
    agency TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    documents TEXT NOT NULL DEFAULT '[]',
    decree_date TEXT,
    decree_expires TEXT,
    via TEXT NOT NULL DEFAULT 'desk',
    source TEXT NOT NULL DEFAULT 'manual',
    status TEXT NOT NULL DEFAULT 'received',
    received_at TEXT NOT NULL,
    checked_at TEXT,
    check_problems TEXT,
    decided_at TEXT,
    decision TEXT,
    reason TEXT,
    notified_at TEXT,
    archived_at TEXT,
    archive_path TEXT,
    archive_manifest TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX access_requests_status ON access_requests (status, received_at);
CREATE INDEX access_requests_nip ON access_requests (nip);

-- What was done to a request, when, and what it produced (notices, copies).
CREATE TABLE access_events (
    id {{id}},
    request_id INTEGER NOT NULL REFERENCES access_requests(id),
    at TEXT NOT NULL,
    step TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX access_events_request ON access_events (request_id, at);
