-- The portal's topic and text filters (#10), answered from an index instead of a scan: one row
-- per live process and term, the term being `t:` and a topic or `w:` and a word of its texts
-- (lower case, split at every character that is not a letter or digit). A row carries the
-- process's status and the keys of both orders, so that a filter on a topic walks
-- (term, status, order) and stops after the page, and a count reads this table alone. The store
-- writes the rows with the process, in the same transaction, and fills them for the processes
-- there are when this migration runs; tombstones and other record types have none.
CREATE TABLE data_terms (
    record_id TEXT NOT NULL,
    -- Byte order, so that the words beginning with a prefix are one range of the index.
    term TEXT COLLATE "C" NOT NULL,
    status TEXT,
    -- COALESCE(closes_at, 9223372036854775807) and modified of the record.
    close_key BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (record_id, term)
);
CREATE INDEX data_terms_closing ON data_terms (term, status, close_key, record_id);
CREATE INDEX data_terms_modified ON data_terms (term, status, modified, record_id);
