-- SOP 004 (issue 15): when a request was forwarded to the Admin Agency. A returned request
-- amended and checked again is forwarded later than its first check: the Admin Agency's
-- 10 minutes run from the forwarding, not from the first check (NULL for rows before:
-- their first check is when they were forwarded).
ALTER TABLE access_requests ADD COLUMN forwarded_at TEXT;
