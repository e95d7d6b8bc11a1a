-- When a process closes (the end of its last phase), so that the portal lists the processes
-- closing soonest first. Unix seconds; NULL for other record types, processes without phase
-- ends, and records written before this migration until they are written again.
ALTER TABLE data_records ADD COLUMN closes_at BIGINT;
