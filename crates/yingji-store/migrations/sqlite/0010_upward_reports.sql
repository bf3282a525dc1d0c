-- PostgreSQL's migration 0010 adds the outbox kinds `upward_report` and `upward_report_late` to
-- its CHECK constraint. SQLite does not check them: nothing to change. The migration exists on
-- both backends so that their migration lists, which backups record, stay the same.
SELECT 1;
