-- The life of a posting; see DESIGN.md "Postings and their states".
CREATE TYPE posting_status AS ENUM (
    'queued',           -- waiting for its first attempt
    'in_flight',        -- claimed by a worker under a lease
    'submitted',        -- the board accepted it and confirms later (task, feed fetch, result file)
    'retry_scheduled',  -- waiting for next_attempt_at after a transient error
    'verifying',        -- an earlier send may have reached the board: look up before re-sending
    'posted',           -- live at the board with the wanted revision
    'failed',           -- permanent error, or attempts exhausted
    'skipped',          -- the board cannot take this variant (language, disabled...)
    'cancelled',        -- stopped by ops or superseded
    'withdrawn'         -- taken down at the board
);

-- Every message the worker accepted, keyed by the publisher's message_id:
-- a redelivered or republished message finds its row and changes nothing.
CREATE TABLE submissions (
    message_id  uuid PRIMARY KEY,
    tenant_id   text NOT NULL,
    job_id      text NOT NULL,
    action      text NOT NULL,
    revision    bigint,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The newest accepted revision of each job, as the ATS sent it.
CREATE TABLE jobs (
    tenant_id  text NOT NULL,
    job_id     text NOT NULL,
    revision   bigint NOT NULL,
    content    jsonb NOT NULL,
    withdrawn  boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, job_id)
);

-- One row per (tenant, job, board, language). The row holds what the board
-- should show (revision, wanted) and what it is known to show (sent_revision,
-- external_id); the dispatcher works until the two agree.
CREATE TABLE postings (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id          text NOT NULL,
    job_id             text NOT NULL,
    board              text NOT NULL,
    locale             text NOT NULL,
    -- Our id for this posting at every board: <= 20 chars of [A-Za-z0-9-], never changes.
    reference          text NOT NULL,
    revision           bigint NOT NULL,
    wanted             text NOT NULL CHECK (wanted IN ('live', 'withdrawn')),
    status             posting_status NOT NULL,
    content_hash       text,
    sent_revision      bigint,                 -- what the board is known to show
    sent_hash          text,
    attempts           integer NOT NULL DEFAULT 0,
    max_attempts       integer NOT NULL,
    next_attempt_at    timestamptz,
    -- Fencing: a claim writes a fresh token; a completion only lands while it still matches.
    lease_token        uuid,
    lease_expires_at   timestamptz,
    leased_by          text,
    attempt_started_at timestamptz,
    may_exist          boolean NOT NULL DEFAULT false,
    external_id        text,
    external_url       text,
    board_task         text,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, job_id, board, locale)
) WITH (fillfactor = 80);

CREATE INDEX postings_due ON postings (board, next_attempt_at)
    WHERE status IN ('queued', 'retry_scheduled', 'verifying', 'submitted');
CREATE INDEX postings_leased ON postings (lease_expires_at) WHERE status = 'in_flight';
CREATE INDEX postings_by_status ON postings (status, board);

-- Every attempt, kept: what was tried, when, for how long, and the board's own words.
CREATE TABLE posting_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    posting_id   bigint NOT NULL REFERENCES postings (id) ON DELETE CASCADE,
    operation    text NOT NULL,
    revision     bigint NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms  integer,
    outcome      text NOT NULL,
    http_status  integer,
    detail       text,
    request_hash text,
    worker       text
);
CREATE INDEX posting_attempts_by_posting ON posting_attempts (posting_id, id);

-- Messages that failed validation, kept with their raw bytes so ops can see
-- exactly what arrived and why it was turned away.
CREATE TABLE rejected_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  text,
    tenant_id   text,
    job_id      text,
    reason      text NOT NULL,
    detail      text NOT NULL,
    raw         bytea NOT NULL,
    routing_key text,
    redelivered boolean NOT NULL DEFAULT false,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_messages_by_time ON rejected_messages (received_at DESC);
