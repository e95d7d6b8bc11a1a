-- The portal's topic and text filters (#10), answered from an index instead of a scan: one row
-- per live process and topic, and per live process and word of its texts (lower case, split at
-- every character that is not a letter or digit). A row carries the process's status and the
-- keys of both orders (COALESCE(closes_at, 9223372036854775807) and modified), so that a count
-- reads these tables alone and a topic's list walks (topic, status, order) and stops after the
-- page. The store writes the rows with the process, in the same transaction, and fills them for
-- the processes there are when this migration runs; tombstones and other record types have none.
CREATE TABLE data_topics (
    record_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    status TEXT,
    close_key BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (record_id, topic)
);
CREATE INDEX data_topics_closing ON data_topics (topic, status, close_key, record_id);
CREATE INDEX data_topics_modified ON data_topics (topic, status, modified, record_id);
-- Ten times as many rows as topics, so one index: the words beginning with a prefix are one
-- range of it (byte order), and their matches are sorted, not walked.
CREATE TABLE data_words (
    record_id TEXT NOT NULL,
    word TEXT COLLATE "C" NOT NULL,
    status TEXT,
    close_key BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (record_id, word)
);
CREATE INDEX data_words_word ON data_words (word, status, close_key, modified, record_id);
