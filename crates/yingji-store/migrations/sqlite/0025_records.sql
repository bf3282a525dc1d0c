-- The records of the rest of the plan (issue 23): drills, reserve items and their movements,
-- leader instructions, meetings, commendation and accountability records, attachments. One
-- table, a `kind` per sort of record: each row is a record's state as its events leave it (or,
-- for a movement, the movement itself). `subject_id` links a record to what it is about (an
-- incident, a case, a drill…); `due_at` is when the ticker must next look at it.
CREATE TABLE records (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    jurisdiction_id   TEXT NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    subject_id        TEXT,
    status            TEXT NOT NULL,
    due_at            TEXT,
    updated_at        TEXT NOT NULL,
    body              TEXT NOT NULL
);
CREATE INDEX records_scope ON records (kind, jurisdiction_path, id);
CREATE INDEX records_subject ON records (subject_id, kind) WHERE subject_id IS NOT NULL;
CREATE INDEX records_due ON records (kind, due_at) WHERE due_at IS NOT NULL;

-- Attachments' bytes (base64; sealed when they are personal) where a deployment keeps them in
-- the database (a PostgreSQL deployment's default; SQLite keeps them on disk beside it).
CREATE TABLE attachment_blobs (
    id    TEXT PRIMARY KEY,
    data  TEXT NOT NULL
);
