-- PostgreSQL's migration 0009 adds the task state `closed` and the acknowledgement channel
-- `task` to its CHECK constraints. SQLite does not check them: nothing to change. The migration
-- exists on both backends so that their migration lists, which backups record, stay the same.
SELECT 1;
