-- PostgreSQL's migration 0011 adds the outbox kind `warning` to its CHECK constraint. SQLite
-- does not check it: nothing to change. The migration exists on both backends so that their
-- migration lists, which backups record, stay the same.
SELECT 1;
