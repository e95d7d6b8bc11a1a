-- Counts of the portal's lists (#10, `benches/portal.sh`). SQLite counts a status in the
-- (kind, deleted, status, …) indexes of 0010 already; PostgreSQL's planner did not, and gets an
-- index of status alone in its file of this name. The "near" count reads the index alone once
-- it holds `deleted` too.
DROP INDEX data_records_position;
CREATE INDEX data_records_position ON data_records (kind, lat_e6, lon_e6, deleted, status)
    WHERE kind = 'process' AND lat_e6 IS NOT NULL;
