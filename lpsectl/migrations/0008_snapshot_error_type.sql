-- The exception class behind a snapshot's error (issue 13): "unreachable" in the
-- reports only for a host that could not be connected to (UnreachableError,
-- HostKeyError, AuthenticationError); a host that answered badly (timed out,
-- flooded, wrong shape) is "not monitored", not "down". NULL for older rows.
ALTER TABLE snapshots ADD COLUMN error_type TEXT;
