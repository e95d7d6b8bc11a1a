-- Who supplies and changes catalogue facts: vendor accounts linked to their tools by an editor,
-- the changes vendors propose (reviewed by editors), and every record's history. Times are
-- Unix seconds; documents and values are JSON text.

CREATE TABLE vendor_links (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tool_slug TEXT NOT NULL,
    -- How the editor checked that the account speaks for the vendor (e.g. an address at the vendor's domain).
    evidence TEXT NOT NULL,
    linked_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, tool_slug)
);
CREATE INDEX vendor_links_tool ON vendor_links (tool_slug);

CREATE TABLE catalogue_proposals (
    id TEXT PRIMARY KEY,
    tool_slug TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    -- The fact group the proposal changes, and its value as proposed and as it was.
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    base TEXT NOT NULL,
    -- A public source; NULL when the vendor states the fact itself.
    source TEXT,
    note TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    reviewed_by TEXT,
    reviewed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX catalogue_proposals_state ON catalogue_proposals (state, created_at);
CREATE INDEX catalogue_proposals_tool ON catalogue_proposals (tool_slug, created_at);

CREATE TABLE catalogue_history (
    -- In the order of the changes.
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    -- The fact groups that changed (JSON array of keys).
    fields TEXT NOT NULL,
    before_doc TEXT,
    after_doc TEXT,
    -- account:<id>, client:<id>, import or bundled.
    actor TEXT NOT NULL,
    origin TEXT NOT NULL,
    proposal_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX catalogue_history_record ON catalogue_history (kind, slug, created_at);
