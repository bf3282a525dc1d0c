-- PostgreSQL's migration 0007 adds the stream kind `delivery` (a dead delivery put back in the
-- queue is a `delivery_retried` event in the delivery's own stream) to its CHECK constraints.
-- SQLite does not check stream kinds: nothing to change. The migration exists on both backends
-- so that their migration lists, which backups record, stay the same.
SELECT 1;
