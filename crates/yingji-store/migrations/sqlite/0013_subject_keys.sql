-- Crypto-shredding (issue 18 item 6): one random 256-bit key per data subject (a petition case
-- for its petitioners), wrapped (sealed) with the data key ring. Personal values of the subject
-- are sealed with it (`subject1:<key id>:<hex>`), in rows and in events; `yingji purge` deletes
-- the key, so every copy of those values left anywhere (free pages, WAL, backups taken after the
-- purge, the event log) can no longer be opened.
CREATE TABLE subject_keys (
    id           TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('case', 'incident', 'dispute')),
    subject_id   TEXT NOT NULL,
    wrapped_key  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (subject_kind, subject_id)
);
