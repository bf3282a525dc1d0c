-- A record that cannot be rewritten unnoticed (issue 18 item 5); see the SQLite migration of
-- the same number for what each part is for.
ALTER TABLE streams
    ADD COLUMN jurisdiction_id uuid,
    ADD COLUMN head_sig TEXT,
    ADD COLUMN checkpointed BIGINT NOT NULL DEFAULT 0;

UPDATE streams SET jurisdiction_id = e.jurisdiction_id
    FROM events e WHERE e.stream_id = streams.id AND e.stream_seq = 1;

CREATE INDEX streams_to_checkpoint ON streams (id) WHERE version <> checkpointed;
CREATE INDEX streams_jurisdiction ON streams (jurisdiction_id, id);

CREATE TABLE audit_checkpoints (
    id        BIGINT PRIMARY KEY,
    at        TEXT NOT NULL,
    heads     BIGINT NOT NULL,
    streams   BIGINT NOT NULL,
    digest    TEXT NOT NULL,
    prev_sig  TEXT NOT NULL,
    sig       TEXT NOT NULL
);

CREATE TABLE audit_checkpoint_heads (
    checkpoint_id   BIGINT NOT NULL REFERENCES audit_checkpoints (id),
    stream_id       uuid NOT NULL,
    jurisdiction_id uuid,
    version         BIGINT NOT NULL,
    head_hash       TEXT NOT NULL,
    PRIMARY KEY (checkpoint_id, stream_id)
);
CREATE INDEX audit_checkpoint_heads_stream ON audit_checkpoint_heads (stream_id, checkpoint_id);

-- Checkpoints, like events, are append-only.
CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION yj_events_append_only();
CREATE TRIGGER audit_checkpoint_heads_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoint_heads
    FOR EACH ROW EXECUTE FUNCTION yj_events_append_only();
