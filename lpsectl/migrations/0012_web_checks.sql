-- The SPSE web address as its users see it (issue 18): one row per run of a [[checks]]
-- entry. up is the verdict (status expected, text found, certificate accepted); error
-- says why not; cert_* read from the certificate the server presented (https only).
CREATE TABLE web_checks (
    id {{id}},
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    source TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    day TEXT NOT NULL,
    up INTEGER NOT NULL,
    status INTEGER,
    ttfb_ms REAL,
    total_ms REAL,
    bytes INTEGER,
    error TEXT,
    error_kind TEXT,
    cert_days_left REAL,
    cert_expires_at TEXT,
    cert_issuer TEXT,
    cert_error TEXT
);
CREATE INDEX web_checks_name ON web_checks (name, id);
CREATE INDEX web_checks_day ON web_checks (day, name);
