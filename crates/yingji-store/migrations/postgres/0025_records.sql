-- The records of the rest of the plan (issue 23): drills, reserve items and their movements,
-- leader instructions, meetings, commendation and accountability records, attachments. One
-- table, a `kind` per sort of record: each row is a record's state as its events leave it (or,
-- for a movement, the movement itself). `subject_id` links a record to what it is about (an
-- incident, a case, a drill…); `due_at` is when the ticker must next look at it.
CREATE TABLE records (
    id                uuid PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('drill', 'drill_duty', 'reserve_item',
        'reserve_movement', 'instruction', 'meeting', 'sanction', 'attachment', 'team',
        'budget_line', 'spending')),
    jurisdiction_id   uuid NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    subject_id        uuid,
    status            TEXT NOT NULL,
    due_at            timestamptz,
    updated_at        timestamptz NOT NULL,
    body              jsonb NOT NULL
);
CREATE INDEX records_scope ON records (kind, jurisdiction_path, id);
CREATE INDEX records_subject ON records (subject_id, kind) WHERE subject_id IS NOT NULL;
CREATE INDEX records_due ON records (kind, due_at) WHERE due_at IS NOT NULL;

-- Attachments' bytes (base64; sealed when they are personal) where a deployment keeps them in
-- the database (a PostgreSQL deployment's default; SQLite keeps them on disk beside it).
CREATE TABLE attachment_blobs (
    id    uuid PRIMARY KEY,
    data  TEXT NOT NULL
);

-- Their events are streams of these kinds.
ALTER TABLE events
    DROP CONSTRAINT events_stream_kind_check,
    ADD CONSTRAINT events_stream_kind_check CHECK (stream_kind IN ('incident', 'jurisdiction',
        'person', 'plan', 'callout', 'case', 'dispute', 'screening_round', 'report',
        'report_reminder', 'roster', 'purge', 'disclosure', 'delivery', 'release', 'drill',
        'drill_duty', 'reserve_item', 'instruction', 'meeting', 'sanction', 'attachment', 'team',
        'budget_line'));

ALTER TABLE streams
    DROP CONSTRAINT streams_kind_check,
    ADD CONSTRAINT streams_kind_check CHECK (kind IN ('incident', 'jurisdiction', 'person',
        'plan', 'callout', 'case', 'dispute', 'screening_round', 'report', 'report_reminder',
        'roster', 'purge', 'disclosure', 'delivery', 'release', 'drill', 'drill_duty',
        'reserve_item', 'instruction', 'meeting', 'sanction', 'attachment', 'team',
        'budget_line'));

-- The notices of drills, drill duties and reserves (and `release_published`, which 0024 left out
-- of the check: a release posted to a webhook failed on PostgreSQL).
ALTER TABLE outbox
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('call', 'escalated', 'task_overdue',
        'obligation_overdue', 'report_late', 'dispute_reported_upward', 'case_supervision',
        'petitioner_notice', 'extension_requested', 'case_overdue', 'upward_report',
        'upward_report_late', 'warning', 'release_published', 'drill_inject', 'drill_due',
        'stock_low', 'follow_up_overdue'));
