-- Store at scale (issue 20). rollup: the parts of a snapshot the monthly report reads
-- (lpsectl/retention.py rollup()), JSON; NULL for rows stored before (made from data
-- when read, and stored when pruned). pruned_on: the day `store prune`
-- cut the row to its roll-up after [store] retention_days (data is then '{}').
ALTER TABLE snapshots ADD COLUMN rollup TEXT;
ALTER TABLE snapshots ADD COLUMN pruned_on TEXT;
