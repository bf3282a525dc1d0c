-- Warnings reach people (issue 17 item 6): issuing or lifting a warning (预警) writes a
-- `warning` notice to the people the plan names for its level.
ALTER TABLE outbox
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('call', 'escalated', 'task_overdue',
        'obligation_overdue', 'report_late', 'dispute_reported_upward', 'case_supervision',
        'petitioner_notice', 'extension_requested', 'case_overdue', 'upward_report',
        'upward_report_late', 'warning'));
