-- A plan's revision duty per period (`[review] every`, its reminders) and the representatives
-- of a gathering (their names and contacts sealed with the incident's subject key).
ALTER TABLE records
    DROP CONSTRAINT records_kind_check,
    ADD CONSTRAINT records_kind_check CHECK (kind IN ('drill', 'drill_duty', 'reserve_item',
        'reserve_movement', 'instruction', 'meeting', 'sanction', 'attachment', 'team',
        'budget_line', 'spending', 'revision_duty', 'representative'));

ALTER TABLE events
    DROP CONSTRAINT events_stream_kind_check,
    ADD CONSTRAINT events_stream_kind_check CHECK (stream_kind IN ('incident', 'jurisdiction',
        'person', 'plan', 'callout', 'case', 'dispute', 'screening_round', 'report',
        'report_reminder', 'roster', 'purge', 'disclosure', 'delivery', 'release', 'drill',
        'drill_duty', 'reserve_item', 'instruction', 'meeting', 'sanction', 'attachment', 'team',
        'budget_line', 'revision_duty', 'representative'));

ALTER TABLE streams
    DROP CONSTRAINT streams_kind_check,
    ADD CONSTRAINT streams_kind_check CHECK (kind IN ('incident', 'jurisdiction', 'person',
        'plan', 'callout', 'case', 'dispute', 'screening_round', 'report', 'report_reminder',
        'roster', 'purge', 'disclosure', 'delivery', 'release', 'drill', 'drill_duty',
        'reserve_item', 'instruction', 'meeting', 'sanction', 'attachment', 'team',
        'budget_line', 'revision_duty', 'representative'));

ALTER TABLE outbox
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('call', 'escalated', 'task_overdue',
        'obligation_overdue', 'report_late', 'dispute_reported_upward', 'case_supervision',
        'petitioner_notice', 'extension_requested', 'case_overdue', 'upward_report',
        'upward_report_late', 'warning', 'release_published', 'drill_inject', 'drill_due',
        'stock_low', 'follow_up_overdue', 'revision_due'));
