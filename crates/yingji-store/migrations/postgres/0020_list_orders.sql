-- Every list answers "this subtree, this state, in order, first N" from an index (issue 20).

-- A person's own tasks in due order: each assignment carries its task's state and due time
-- (kept by the same upsert that writes the task), so "my open tasks" walks one index range.
ALTER TABLE task_assignees ADD COLUMN state TEXT;
ALTER TABLE task_assignees ADD COLUMN due_at timestamptz;
UPDATE task_assignees x SET state = t.state, due_at = t.due_at FROM tasks t WHERE t.id = x.task_id;
CREATE INDEX task_assignees_state_due ON task_assignees (person_id, state, due_at, task_id);
CREATE INDEX task_assignees_due ON task_assignees (person_id, due_at, task_id);

-- Deliveries newest first: walked by creation time; one incident's, one state's in a subtree.
CREATE INDEX deliveries_created ON deliveries (created_at, id);
CREATE INDEX deliveries_incident ON deliveries (incident_id, created_at, id);
CREATE INDEX deliveries_state_scope ON deliveries (state, jurisdiction_path, created_at, id);

-- Disputes of one state in a subtree, newest first.
CREATE INDEX disputes_status_scope ON disputes (status, jurisdiction_path, id);
