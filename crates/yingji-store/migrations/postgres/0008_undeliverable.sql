-- A notice nobody can receive (no person holds the post, no channel) is kept as a delivery in
-- state `undeliverable`, with why, for the desk of the jurisdiction that owns it — never
-- dropped.
ALTER TABLE deliveries
    DROP CONSTRAINT deliveries_state_check,
    ADD CONSTRAINT deliveries_state_check CHECK (state IN ('pending', 'sending', 'sent', 'dead',
        'undeliverable'));
