-- Crypto-shredding (issue 18 item 6): one random 256-bit key per data subject (a petition case
-- for its petitioners), wrapped (sealed) with the data key ring. Personal values of the subject
-- are sealed with it (`subject1:<key id>:<hex>`), in rows and in events; `yingji purge` deletes
-- the key, so every copy of those values left anywhere (dead tuples, backups taken after the
-- purge, the event log) can no longer be opened.
CREATE TABLE subject_keys (
    id           uuid PRIMARY KEY,
    subject_kind text NOT NULL CHECK (subject_kind IN ('case', 'incident', 'dispute')),
    subject_id   uuid NOT NULL,
    wrapped_key  text NOT NULL,
    created_at   timestamptz NOT NULL,
    UNIQUE (subject_kind, subject_id)
);
