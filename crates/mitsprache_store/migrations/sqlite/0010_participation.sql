-- "Meine Beteiligung" and the rights of the person (#10): who wrote a contribution, the status
-- changes of processes and contributions, what a person follows and how they hear of changes,
-- and the deletion events owed to the tools a deleted person used. Times are Unix seconds.

-- The pairwise subject the hub issued to the contribution's source (a pushing tool's client)
-- for its author; NULL when anonymous, pulled by a connector, or not a contribution.
ALTER TABLE data_records ADD COLUMN author TEXT;
UPDATE data_records SET author = json_extract(doc, '$.author') WHERE kind = 'contribution' AND doc IS NOT NULL;
CREATE INDEX data_records_author ON data_records (source, author) WHERE author IS NOT NULL;

-- A process's type (the taxonomy's key), and the point that stands for its geometry (the
-- centre of its bounds) in millionths of a degree, for the portal's filters and "near me".
-- NULL until a record is written again after this migration.
ALTER TABLE data_records ADD COLUMN process_type TEXT;
ALTER TABLE data_records ADD COLUMN lat_e6 BIGINT;
ALTER TABLE data_records ADD COLUMN lon_e6 BIGINT;
CREATE INDEX data_records_position ON data_records (kind, lat_e6, lon_e6, status) WHERE lat_e6 IS NOT NULL;

-- The portal's lists. A page walks one of these in its order, one walk per status asked for
-- (the status first, then the order), and stops after the page; a count reads the status
-- index alone. The kind is a column too, or SQLite reads each row to check it. Only processes
-- are in them (the lists name the kind as a literal, so both planners can use a partial
-- index): contributions, a million where there are a hundred thousand processes, do not pay
-- for them when they are written. The topics ride along, so that a topic filter is checked in
-- the index too.
CREATE INDEX data_records_closing ON data_records (kind, deleted, (COALESCE(closes_at, 9223372036854775807)), id)
    WHERE kind = 'process';
CREATE INDEX data_records_status_closing
    ON data_records (kind, deleted, status, (COALESCE(closes_at, 9223372036854775807)), id, topics) WHERE kind = 'process';
CREATE INDEX data_records_status_modified ON data_records (kind, deleted, status, modified, id, topics)
    WHERE kind = 'process';
CREATE INDEX data_records_municipality ON data_records (kind, municipality, deleted, status) WHERE kind = 'process';
CREATE INDEX data_records_type ON data_records (kind, process_type, deleted, status) WHERE kind = 'process';
-- A process's contributions, events and results, newest first without a sort.
DROP INDEX data_records_process;
CREATE INDEX data_records_process ON data_records (kind, source, process, deleted, modified);

-- A record's status as it changed: from old_status (NULL: none) to new_status.
CREATE TABLE data_status_changes (
    record_id TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT,
    changed_at BIGINT NOT NULL
);
CREATE INDEX data_status_changes_record ON data_status_changes (record_id, changed_at);

CREATE TABLE follows (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    record_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, record_id)
);

-- digest: daily, weekly or none. A row exists once a person follows something or chooses.
CREATE TABLE notification_settings (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    -- What the last digest covered up to, and what the person has seen in the portal.
    digest_until BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

-- One deletion event per tool, for the person's receipt and the admin log. The receipt is the
-- SHA-256 digest of the link the person got; nothing here names the person.
CREATE TABLE deletion_deliveries (
    id TEXT PRIMARY KEY,
    receipt TEXT NOT NULL,
    client_id TEXT NOT NULL,
    method TEXT NOT NULL,
    -- pending, delivered or failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deletion_deliveries_receipt ON deletion_deliveries (receipt);
CREATE INDEX deletion_deliveries_created ON deletion_deliveries (created_at);
