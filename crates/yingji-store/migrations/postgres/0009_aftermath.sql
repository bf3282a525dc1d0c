-- Aftermath (issue 17 item 4): a task closed without being done when the response ends or the
-- report proves unfounded has the state `closed`; a task's acknowledgement answers the person's
-- call for it, with the acknowledgement channel `task`.
ALTER TABLE tasks
    DROP CONSTRAINT tasks_state_check,
    ADD CONSTRAINT tasks_state_check CHECK (state IN ('open', 'acknowledged', 'started', 'done',
        'cancelled', 'closed'));

ALTER TABLE call_recipients
    DROP CONSTRAINT call_recipients_ack_channel_check,
    ADD CONSTRAINT call_recipients_ack_channel_check CHECK (ack_channel IN ('api', 'inapp',
        'sms', 'link', 'task'));
