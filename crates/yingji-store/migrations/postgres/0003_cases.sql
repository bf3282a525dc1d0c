-- Petition cases (信访事项), dispute screening (矛盾纠纷排查) and scheduled reports (定时报告/零报告).
-- Query tables only: every change is an event in the log (stream kinds "case", "dispute",
-- "screening_round", "report"); these rows are written in the same transaction.

CREATE TABLE cases (
    id                TEXT PRIMARY KEY,
    jurisdiction_id   TEXT NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    case_number       TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    is_open           BIGINT NOT NULL,
    channel           TEXT NOT NULL,
    form              TEXT NOT NULL,
    case_type         TEXT NOT NULL,
    category          TEXT,
    topic             TEXT,
    department        TEXT,
    title             TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    accepted_on       TEXT NOT NULL,
    due_on            TEXT NOT NULL,
    due_ms            BIGINT NOT NULL,
    overdue           BIGINT NOT NULL,
    extended          BIGINT NOT NULL,
    supervision_step  TEXT,
    next_due_ms       BIGINT,
    updated_at        TEXT NOT NULL,
    -- The case without its petitioners (see case_petitioners).
    body              TEXT NOT NULL
);
CREATE INDEX cases_scope ON cases (jurisdiction_path, id);
-- First pages of open cases by due time within a subtree (due soon, overdue): walk the due
-- order and filter on the path inside the index.
CREATE INDEX cases_open_due ON cases (is_open, due_ms, jurisdiction_path);
CREATE INDEX cases_next_due ON cases (next_due_ms) WHERE next_due_ms IS NOT NULL;

-- Personal data of petitioners, limited to what a reply needs. Kept in these clearly named
-- columns only (the case body holds none) so that it can be encrypted or erased in one place.
-- (The registration event in the log also carries it.)
CREATE TABLE case_petitioners (
    case_id            TEXT NOT NULL REFERENCES cases (id),
    ordinal            BIGINT NOT NULL,
    petitioner_name    TEXT NOT NULL,
    petitioner_contact TEXT,
    petitioner_address TEXT,
    PRIMARY KEY (case_id, ordinal)
);

-- The last case number used per jurisdiction and year (统一编号).
CREATE TABLE case_counters (
    jurisdiction_id TEXT NOT NULL,
    year            BIGINT NOT NULL,
    last_seq        BIGINT NOT NULL,
    PRIMARY KEY (jurisdiction_id, year)
);

-- Pre-aggregated statistics, maintained in the same write as the case: each case contributes
-- to the row of its jurisdiction, quarter of acceptance, department, category and channel.
CREATE TABLE case_stats (
    jurisdiction_path   TEXT NOT NULL,
    quarter             TEXT NOT NULL,
    department          TEXT NOT NULL,
    category            TEXT NOT NULL,
    channel             TEXT NOT NULL,
    received            BIGINT NOT NULL,
    replied             BIGINT NOT NULL,
    on_time             BIGINT NOT NULL,
    overdue             BIGINT NOT NULL,
    extended            BIGINT NOT NULL,
    satisfied           BIGINT NOT NULL,
    basically_satisfied BIGINT NOT NULL,
    dissatisfied        BIGINT NOT NULL,
    PRIMARY KEY (quarter, jurisdiction_path, department, category, channel)
);

CREATE TABLE screening_rounds (
    id                TEXT PRIMARY KEY,
    jurisdiction_id   TEXT NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    cadence           TEXT NOT NULL,
    round_key         TEXT NOT NULL,
    opened_at         TEXT NOT NULL,
    UNIQUE (jurisdiction_id, round_key)
);

CREATE TABLE screening_submissions (
    round_id        TEXT NOT NULL REFERENCES screening_rounds (id),
    unit_id         TEXT NOT NULL REFERENCES jurisdictions (id),
    nil             BIGINT NOT NULL,
    disputes_found  BIGINT NOT NULL,
    note            TEXT,
    submitted_by    TEXT NOT NULL,
    submitted_at    TEXT NOT NULL,
    PRIMARY KEY (round_id, unit_id)
);

CREATE TABLE disputes (
    id                TEXT PRIMARY KEY,
    jurisdiction_id   TEXT NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    round_id          TEXT,
    status            TEXT NOT NULL,
    risk              TEXT NOT NULL,
    nature            TEXT NOT NULL,
    title             TEXT NOT NULL,
    reported_upward   BIGINT NOT NULL,
    registered_at     TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    body              TEXT NOT NULL
);
CREATE INDEX disputes_scope ON disputes (jurisdiction_path, id);

CREATE TABLE report_submissions (
    id                TEXT PRIMARY KEY,
    plan_id           TEXT NOT NULL,
    schedule_id       TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    party             TEXT NOT NULL,
    party_name        TEXT NOT NULL,
    jurisdiction_path TEXT NOT NULL,
    nil               BIGINT NOT NULL,
    content           TEXT NOT NULL,
    submitted_by      TEXT NOT NULL,
    submitted_at      TEXT NOT NULL,
    UNIQUE (plan_id, schedule_id, due_at, party)
);

-- Reminders already put in the outbox, so that each is sent once.
CREATE TABLE report_reminders (
    plan_id     TEXT NOT NULL,
    schedule_id TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    party       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (plan_id, schedule_id, due_at, party, kind)
);
