-- Records of the data standard (processes, contributions, events, results, organisations) as
-- tools push them or connectors fetch them. One row per record and source, kept as a tombstone
-- when deleted, so that a sync with modified_since learns of the deletion. Times are Unix seconds.

CREATE TABLE data_records (
    -- The hub's id: a digest of type, source and external id, the same on every instance.
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    -- The record's JSON in the standard's fields; NULL for a tombstone.
    doc TEXT,
    deleted BIGINT NOT NULL DEFAULT 0,
    -- Copies of fields the lists filter on.
    process TEXT,
    status TEXT,
    municipality TEXT,
    -- Topics as |a|b|, so that one topic is one LIKE.
    topics TEXT NOT NULL DEFAULT '',
    search TEXT NOT NULL DEFAULT '',
    updated_at BIGINT,
    -- push, or the connector that fetched it.
    via TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    UNIQUE (kind, source, external_id)
);
CREATE INDEX data_records_modified ON data_records (kind, modified);
CREATE INDEX data_records_process ON data_records (kind, source, process);
