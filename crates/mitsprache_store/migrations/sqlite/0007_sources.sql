-- The sources the hub pulls standard data from (a Decidim, an Open311 endpoint, …) and the log
-- of their syncs. Credentials are kept as the operator gave them (a JSON object); they never
-- appear in the log or in an answer. Times are Unix seconds.

CREATE TABLE data_sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    municipality TEXT,
    credentials TEXT,
    interval_minutes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Held while a sync runs (by a job or `mitsprache sync`), so one source syncs once at a time.
    sync_lease_until BIGINT
);

CREATE TABLE data_syncs (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL REFERENCES data_sources (name) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- ok, or failed (nothing was written).
    outcome TEXT NOT NULL,
    requests BIGINT NOT NULL,
    fetched BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    deleted BIGINT NOT NULL,
    -- Records of the source that could not be mapped: a JSON list of {"id", "reason"}.
    rejected TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX data_syncs_source ON data_syncs (source, started_at);
