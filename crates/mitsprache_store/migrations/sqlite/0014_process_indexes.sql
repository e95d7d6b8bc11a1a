-- The status indexes of 0010 without `topics`: the topic filter reads `data_topics` since 0012,
-- and a narrower index is a shorter walk. SQLite uses the leading `kind` of these partial
-- indexes (PostgreSQL does not; its file of this name moves it out).
DROP INDEX data_records_status_closing;
CREATE INDEX data_records_status_closing
    ON data_records (kind, deleted, status, (COALESCE(closes_at, 9223372036854775807)), id) WHERE kind = 'process';
DROP INDEX data_records_status_modified;
CREATE INDEX data_records_status_modified ON data_records (kind, deleted, status, modified, id)
    WHERE kind = 'process';
