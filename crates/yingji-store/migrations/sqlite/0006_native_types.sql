-- The event log is append-only in the database itself: a row once written can be neither
-- changed nor removed (`yingji audit verify` still finds edits made by someone who drops these
-- triggers first). SQLite keeps its column types (text, integer): PostgreSQL's migration 0006
-- gives ids, times, flags and JSON bodies their own types there.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;
