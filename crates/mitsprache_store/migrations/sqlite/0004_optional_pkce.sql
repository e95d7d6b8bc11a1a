-- A code of a confidential client an admin allowed to log in without PKCE has no challenge.
-- SQLite cannot drop a NOT NULL constraint in place: the table (codes live a minute) is rebuilt.

CREATE TABLE auth_codes_new (
    digest TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    nonce TEXT,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
INSERT INTO auth_codes_new (digest, grant_id, redirect_uri, code_challenge, nonce, expires_at, used_at)
SELECT digest, grant_id, redirect_uri, code_challenge, nonce, expires_at, used_at FROM auth_codes;
DROP TABLE auth_codes;
ALTER TABLE auth_codes_new RENAME TO auth_codes;
