-- "VERSION:CRC32" — the version of the snapshot schemas (lpsectl/collect/schemas.py
-- SHAPES_VERSION) a row's data was checked against when it was stored, and the CRC-32
-- of the very JSON text stored (issue 20): readers trust that check while the text is
-- unchanged, instead of validating every row again (72 % of `report monthly`'s CPU).
-- NULL for rows stored before, and for failed rows: those are checked when read.
ALTER TABLE snapshots ADD COLUMN shape_checked TEXT;
