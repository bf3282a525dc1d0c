-- The task list is in due order: a large area walks the tasks by due time (a state first
-- when one is asked for) instead of reading its whole history and sorting it.
CREATE INDEX tasks_due ON tasks (due_at);
CREATE INDEX tasks_state_due ON tasks (state, due_at);
