-- The append-only event log. Every change to anything is one row here, chained by hash to the
-- previous event of the same stream.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    stream_id       TEXT NOT NULL,
    stream_seq      INTEGER NOT NULL,
    stream_kind     TEXT NOT NULL,
    jurisdiction_id TEXT NOT NULL,
    at              TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_name      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    reason          TEXT,
    payload         TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    UNIQUE (stream_id, stream_seq)
);

-- One row per stream: its version (optimistic concurrency) and the hash of its newest event.
CREATE TABLE streams (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    version   INTEGER NOT NULL,
    head_hash TEXT NOT NULL
);

CREATE TABLE jurisdictions (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES jurisdictions (id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    code       TEXT,
    path       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE people (
    id              TEXT PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    name            TEXT NOT NULL,
    phone           TEXT,
    email           TEXT,
    token_hash      TEXT UNIQUE,
    created_at      TEXT NOT NULL
);

CREATE TABLE post_holders (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    post_id         TEXT NOT NULL,
    person_id       TEXT NOT NULL REFERENCES people (id),
    deputy          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (jurisdiction_id, post_id, person_id)
);

CREATE TABLE plans (
    plan_id         TEXT NOT NULL,
    version         INTEGER NOT NULL,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    title           TEXT NOT NULL,
    source          TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    loaded_at       TEXT NOT NULL,
    PRIMARY KEY (plan_id, version)
);

CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    jurisdiction_id   TEXT NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    plan_id           TEXT NOT NULL,
    plan_version      INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    status            TEXT NOT NULL,
    level             TEXT,
    drill             INTEGER NOT NULL,
    headcount         INTEGER NOT NULL,
    title             TEXT NOT NULL,
    reported_at       TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    next_due_ms       INTEGER,
    body              TEXT NOT NULL
);
CREATE INDEX incidents_scope ON incidents (jurisdiction_path, id);
CREATE INDEX incidents_due ON incidents (next_due_ms) WHERE next_due_ms IS NOT NULL;

CREATE TABLE tasks (
    id                TEXT PRIMARY KEY,
    incident_id       TEXT NOT NULL REFERENCES incidents (id),
    jurisdiction_path TEXT NOT NULL,
    grp               TEXT NOT NULL,
    title             TEXT NOT NULL,
    state             TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    overdue           INTEGER NOT NULL,
    drill             INTEGER NOT NULL,
    assignees         TEXT NOT NULL
);
CREATE INDEX tasks_incident ON tasks (incident_id);
CREATE INDEX tasks_scope ON tasks (jurisdiction_path, state);

CREATE TABLE task_assignees (
    task_id   TEXT NOT NULL REFERENCES tasks (id),
    person_id TEXT NOT NULL,
    PRIMARY KEY (person_id, task_id)
);
CREATE INDEX task_assignees_task ON task_assignees (task_id);

-- Responses to creates, keyed by the client's Idempotency-Key, written in the same transaction.
CREATE TABLE idempotency (
    actor_id     TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (actor_id, key)
);

-- Messages to send, written in the same transaction as the event that caused them.
CREATE TABLE outbox (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_pending ON outbox (state, next_at);
