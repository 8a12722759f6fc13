-- The latest good snapshot of a host and kind (every collect starts from it: the
-- log cursors, the counters the deltas are taken from) found through an index, not
-- by scanning the host's whole history (issue 20: 2.7 s CPU after a year with 20
-- hosts, growing every day).
CREATE INDEX snapshots_latest ON snapshots (host, kind, ok, id);
