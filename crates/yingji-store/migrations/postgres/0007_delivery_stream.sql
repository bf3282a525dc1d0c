-- A dead delivery put back in the queue is recorded as a `delivery_retried` event in the
-- delivery's own stream (kind `delivery`): who put it back and when, and what tells live pages
-- in scope that the delivery moved.
ALTER TABLE events
    DROP CONSTRAINT events_stream_kind_check,
    ADD CONSTRAINT events_stream_kind_check CHECK (stream_kind IN ('incident', 'jurisdiction',
        'person', 'plan', 'callout', 'case', 'dispute', 'screening_round', 'report',
        'report_reminder', 'roster', 'purge', 'disclosure', 'delivery'));

ALTER TABLE streams
    DROP CONSTRAINT streams_kind_check,
    ADD CONSTRAINT streams_kind_check CHECK (kind IN ('incident', 'jurisdiction', 'person',
        'plan', 'callout', 'case', 'dispute', 'screening_round', 'report', 'report_reminder',
        'roster', 'purge', 'disclosure', 'delivery'));
