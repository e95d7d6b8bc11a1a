-- Durable background jobs (ADR 0009): kind, JSON payload, when due, attempts and the last error,
-- and the lease of the worker that runs it. Recurring jobs carry a unique key and an interval.
-- Times are Unix seconds.

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    unique_key TEXT UNIQUE,
    every_seconds BIGINT,
    state TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    last_error TEXT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_kind ON jobs (kind, created_at);

-- Back-channel logouts queued before jobs existed carry a signed token; they become jobs that
-- post it as it is, with the attempts and error they had.
INSERT INTO jobs (id, kind, payload, state, run_at, attempts, max_attempts, last_error, created_at, finished_at)
SELECT id, 'logout.backchannel', json_object('client_id', client_id, 'uri', uri, 'logout_token', logout_token),
       CASE WHEN delivered_at IS NOT NULL THEN 'done' WHEN next_attempt_at > 4000000000000 THEN 'failed' ELSE 'queued' END,
       CASE WHEN next_attempt_at > 4000000000000 THEN created_at ELSE next_attempt_at END,
       attempts, 8, last_error, created_at,
       CASE WHEN delivered_at IS NOT NULL THEN delivered_at WHEN next_attempt_at > 4000000000000 THEN created_at END
FROM logout_deliveries;

DROP TABLE logout_deliveries;
