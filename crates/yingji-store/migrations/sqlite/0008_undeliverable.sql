-- PostgreSQL's migration 0008 adds the delivery state `undeliverable` (a notice nobody can
-- receive, kept for the owning desk) to its CHECK constraint. SQLite does not check delivery
-- states: nothing to change. The migration exists on both backends so that their migration
-- lists, which backups record, stay the same.
SELECT 1;
