-- Reports owed upward (issue 17 item 3): a submitted report is delivered as an `upward_report`
-- notice, a late one reminds as `upward_report_late`.
ALTER TABLE outbox
    DROP CONSTRAINT outbox_kind_check,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('call', 'escalated', 'task_overdue',
        'obligation_overdue', 'report_late', 'dispute_reported_upward', 'case_supervision',
        'petitioner_notice', 'extension_requested', 'case_overdue', 'upward_report',
        'upward_report_late'));
