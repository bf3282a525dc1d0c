-- Trust (issue 7): sign-in accounts, sessions, API tokens, sign-in attempts and role grants.
-- Secrets are stored only as hashes (argon2 for passwords, SHA-256 for random session and
-- API tokens).

-- A person who may sign in with a password. `disabled` takes effect on the next request
-- (sessions and API tokens of a disabled account are refused).
CREATE TABLE accounts (
    person_id           TEXT PRIMARY KEY REFERENCES people (id),
    login               TEXT NOT NULL UNIQUE,
    password_hash       TEXT,
    disabled            INTEGER NOT NULL DEFAULT 0,
    password_changed_at TEXT,
    created_at          TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id),
    csrf_hash  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_person ON sessions (person_id);

-- API tokens for integrations: shown once when created, stored hashed.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id),
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_person ON api_tokens (person_id);

-- Failed sign-ins by login name, for rate limiting and lockout (pruned as they age).
CREATE TABLE sign_in_failures (
    id    TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_login ON sign_in_failures (login, at_ms);

-- A role held in a jurisdiction and everything below it.
CREATE TABLE role_grants (
    person_id         TEXT NOT NULL REFERENCES people (id),
    role              TEXT NOT NULL,
    jurisdiction_id   TEXT NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    granted_at        TEXT NOT NULL,
    PRIMARY KEY (person_id, role, jurisdiction_id)
);
