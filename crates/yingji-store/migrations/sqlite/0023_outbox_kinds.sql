-- The outbox is expanded urgent kinds first (calls, warnings…), then reminders (issue 21): each
-- reads the pending rows of its kinds in creation order from this index, not behind the others.
CREATE INDEX outbox_pending_kind ON outbox (state, kind, created_at);
