-- What the hub refused of a source's data, for its conformance report: counts per day and
-- reason (the field of the standard, list positions folded: `phases[].start`), and the latest
-- examples. Pushed and pulled sources alike; a source is a data_sources name or the client id
-- of a pushing tool. Times are Unix seconds, days Unix days.

CREATE TABLE data_rejection_counts (
    source TEXT NOT NULL,
    day BIGINT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (source, day, reason)
);

CREATE TABLE data_rejections (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- The record's external id, or `line N` of a bulk import.
    record TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX data_rejections_source ON data_rejections (source, at);
