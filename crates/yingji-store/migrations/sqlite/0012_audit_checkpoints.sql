-- A record that cannot be rewritten unnoticed (issue 18 item 5).
--
-- Every stream head is signed (`head_sig`, an HMAC with a key derived from the operator's data
-- key, which is never in the database): a chain recomputed after an edit, or a head moved back
-- after the newest events were deleted, no longer matches its signature.
-- Signed checkpoints record, every minute, the heads that moved since the last one; each
-- checkpoint signs its rows and the checkpoint before it, so a whole stream deleted, a stream
-- cut back below a checkpointed version, or a checkpoint removed is reported by
-- `yingji audit verify`.
ALTER TABLE streams ADD COLUMN jurisdiction_id TEXT;
ALTER TABLE streams ADD COLUMN head_sig TEXT;
-- The version the last checkpoint recorded (0: none yet).
ALTER TABLE streams ADD COLUMN checkpointed INTEGER NOT NULL DEFAULT 0;

UPDATE streams SET jurisdiction_id = (
    SELECT e.jurisdiction_id FROM events e WHERE e.stream_id = streams.id AND e.stream_seq = 1);

CREATE INDEX streams_to_checkpoint ON streams (id) WHERE version <> checkpointed;
CREATE INDEX streams_jurisdiction ON streams (jurisdiction_id, id);

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    -- Rows of this checkpoint, and streams recorded by all checkpoints up to this one.
    heads     INTEGER NOT NULL,
    streams   INTEGER NOT NULL,
    digest    TEXT NOT NULL,
    prev_sig  TEXT NOT NULL,
    sig       TEXT NOT NULL
);

CREATE TABLE audit_checkpoint_heads (
    checkpoint_id   INTEGER NOT NULL REFERENCES audit_checkpoints (id),
    stream_id       TEXT NOT NULL,
    jurisdiction_id TEXT,
    version         INTEGER NOT NULL,
    head_hash       TEXT NOT NULL,
    PRIMARY KEY (checkpoint_id, stream_id)
);
CREATE INDEX audit_checkpoint_heads_stream ON audit_checkpoint_heads (stream_id, checkpoint_id);

-- Checkpoints, like events, are append-only.
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused');
END;
CREATE TRIGGER audit_checkpoint_heads_no_change BEFORE UPDATE ON audit_checkpoint_heads
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused');
END;
CREATE TRIGGER audit_checkpoint_heads_no_delete BEFORE DELETE ON audit_checkpoint_heads
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused');
END;
