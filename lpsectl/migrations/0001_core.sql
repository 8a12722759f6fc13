-- One row per invocation of a job (collect, report, ...).
CREATE TABLE runs (
    id {{id}},
    job TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    detail TEXT
);

-- One snapshot per host, per kind ('system', 'postgres', 'logs'), per run.
-- data is the JSON the collector produced; unavailable maps item -> reason.
CREATE TABLE snapshots (
    id {{id}},
    run_id INTEGER NOT NULL REFERENCES runs(id),
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    day TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    unavailable TEXT NOT NULL DEFAULT '{}',
    UNIQUE (run_id, host, kind)
);
CREATE INDEX snapshots_day ON snapshots (day, host, kind);
