-- Counts of the portal's lists on PostgreSQL (#10, `benches/portal.sh`). Counting the 34,000
-- open and upcoming of 100,000 processes took 12–14 ms: the planner read a whole index of
-- process types and filtered by status. A narrow index of status alone counts them in 4–5 ms.
CREATE INDEX data_records_status ON data_records (status, deleted) WHERE kind = 'process';
-- The "near" count reads the index alone once it holds `deleted` too.
DROP INDEX data_records_position;
CREATE INDEX data_records_position ON data_records (kind, lat_e6, lon_e6, deleted, status)
    WHERE kind = 'process' AND lat_e6 IS NOT NULL;
