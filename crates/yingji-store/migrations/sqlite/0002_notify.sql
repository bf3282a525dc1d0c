-- Reaching people: outbox messages expanded into per-channel deliveries, people's channels,
-- duty rosters, calls with their per-recipient acknowledgements (a projection of the callout
-- stream).

-- Outbox rows are intents ("tell this person about this call"); the worker expands each into
-- deliveries, one per channel. `done_at` is set when expanded.
ALTER TABLE outbox ADD COLUMN done_at TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;

-- One message on one channel to one address. The id is the message id sent to the provider
-- (idempotency key), so a retry after a crash is recognised by a provider that deduplicates.
CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY,
    outbox_id         TEXT NOT NULL,
    incident_id       TEXT,
    call_id           TEXT,
    jurisdiction_path TEXT NOT NULL,
    person_id         TEXT,
    channel           TEXT NOT NULL,
    address           TEXT NOT NULL,
    subject           TEXT NOT NULL,
    body              TEXT NOT NULL,
    ack_url           TEXT,
    drill             INTEGER NOT NULL,
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_at_ms        INTEGER NOT NULL,
    lease             TEXT,
    lease_until_ms    INTEGER,
    last_error        TEXT,
    sent_at           TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_at_ms);
CREATE INDEX deliveries_person ON deliveries (person_id, channel, created_at);
CREATE INDEX deliveries_scope ON deliveries (jurisdiction_path, state);

-- How to reach a person besides the in-app inbox: sms (phone), email, webhook, wecom, dingtalk,
-- feishu (robot URL).
CREATE TABLE person_channels (
    person_id TEXT NOT NULL REFERENCES people (id),
    channel   TEXT NOT NULL,
    address   TEXT NOT NULL,
    PRIMARY KEY (person_id, channel)
);

-- A duty roster per post and jurisdiction (the roster as JSON, see yingji-domain roster.rs).
CREATE TABLE rosters (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    post_id         TEXT NOT NULL,
    body            TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (jurisdiction_id, post_id)
);

-- The callout of an incident (all its calls), as its events have made it.
CREATE TABLE callouts (
    incident_id       TEXT PRIMARY KEY,
    jurisdiction_path TEXT NOT NULL,
    body              TEXT NOT NULL,
    next_due_ms       INTEGER
);
CREATE INDEX callouts_due ON callouts (next_due_ms);

-- One row per call and recipient: who was called, who acknowledged, when and how.
CREATE TABLE call_recipients (
    call_id           TEXT NOT NULL,
    incident_id       TEXT NOT NULL,
    person_id         TEXT NOT NULL,
    jurisdiction_path TEXT NOT NULL,
    reached_as        TEXT NOT NULL,
    called_at         TEXT NOT NULL,
    acked_at          TEXT,
    ack_channel       TEXT,
    PRIMARY KEY (call_id, person_id)
);
CREATE INDEX call_recipients_person ON call_recipients (person_id, acked_at);
