-- PostgreSQL's own types: ids are uuid, times timestamptz, calendar days date, flags boolean and
-- JSON bodies jsonb (millisecond columns such as next_due_ms stay bigint). Columns with a closed
-- set of values get CHECK constraints. The event log is append-only in the database itself.
-- Existing rows are converted in place (USING casts); the migration runs in one transaction, so
-- a value that does not convert stops it with nothing changed.
--
-- incidents.body is json, not jsonb: every report and every command on an incident rewrites its
-- ~3 KB body, and parsing that into jsonb costs PostgreSQL about 35 µs per body (50-120 µs more
-- than text or json on the intake insert, measured on a busy 2-core machine) where a whole report
-- costs it about 300 µs of CPU; json only validates it (about 5 µs) and keeps it as written.
-- `body::jsonb` still queries it.
--
-- Kept as text on purpose:
-- - events.at and events.payload: the hash chain covers their exact text (jsonb would reorder
--   keys and respace, a timestamptz would print the time back in another form);
-- - idempotency.response: a repeated request is answered with these exact bytes;
-- - events.kind: every domain module adds its own event types (the chain guards the rows).

-- How the store reads a typed column: as the text it writes. Ids in canonical form, times as
-- fixed-width UTC text with microseconds (what `fmt_ts` writes, so text order is time order and
-- both backends answer byte for byte the same), days as YYYY-MM-DD, JSON as jsonb prints it.
-- On SQLite the store reads the column itself (`sql.rs` drops the call).
CREATE FUNCTION yj_text(uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT $1::text $$;
CREATE FUNCTION yj_text(timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
CREATE FUNCTION yj_text(date) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT to_char($1, 'YYYY-MM-DD') $$;
CREATE FUNCTION yj_text(jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT $1::text $$;
CREATE FUNCTION yj_text(json) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT $1::text $$;

-- A foreign key needs both of its columns of one type: set the foreign keys aside while the
-- columns change, and put them back as they were.
CREATE TEMPORARY TABLE yj_foreign_keys ON COMMIT DROP AS
    SELECT c.conrelid::regclass::text AS tbl, c.conname::text AS name,
           pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE c.contype = 'f' AND n.nspname = current_schema();
DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM yj_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.name);
    END LOOP;
END $$;

ALTER TABLE events
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN stream_id TYPE uuid USING stream_id::uuid,
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN actor_id TYPE uuid USING actor_id::uuid,
    ADD CONSTRAINT events_stream_kind_check CHECK (stream_kind IN ('incident', 'jurisdiction',
        'person', 'plan', 'callout', 'case', 'dispute', 'screening_round', 'report',
        'report_reminder', 'roster', 'purge', 'disclosure'));

ALTER TABLE streams
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ADD CONSTRAINT streams_kind_check CHECK (kind IN ('incident', 'jurisdiction', 'person',
        'plan', 'callout', 'case', 'dispute', 'screening_round', 'report', 'report_reminder',
        'roster', 'purge', 'disclosure'));

ALTER TABLE jurisdictions
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN parent_id TYPE uuid USING parent_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ADD CONSTRAINT jurisdictions_kind_check CHECK (kind IN ('province', 'city', 'county',
        'township', 'street', 'village', 'community', 'body'));

ALTER TABLE people
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;

ALTER TABLE post_holders
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ALTER COLUMN deputy DROP DEFAULT,
    ALTER COLUMN deputy TYPE boolean USING deputy <> 0,
    ALTER COLUMN deputy SET DEFAULT FALSE;

ALTER TABLE plans
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN loaded_at TYPE timestamptz USING loaded_at::timestamptz;

ALTER TABLE incidents
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN drill TYPE boolean USING drill <> 0,
    ALTER COLUMN reported_at TYPE timestamptz USING reported_at::timestamptz,
    ALTER COLUMN updated_at TYPE timestamptz USING updated_at::timestamptz,
    ALTER COLUMN body TYPE json USING body::json,
    ADD CONSTRAINT incidents_kind_check CHECK (kind IN ('early_sign', 'event', 'escalation')),
    ADD CONSTRAINT incidents_status_check CHECK (status IN ('reported', 'verified', 'unfounded',
        'active', 'ended', 'reviewed', 'closed'));

ALTER TABLE tasks
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN incident_id TYPE uuid USING incident_id::uuid,
    ALTER COLUMN due_at TYPE timestamptz USING due_at::timestamptz,
    ALTER COLUMN overdue TYPE boolean USING overdue <> 0,
    ALTER COLUMN drill TYPE boolean USING drill <> 0,
    ALTER COLUMN assignees TYPE jsonb USING assignees::jsonb,
    ADD CONSTRAINT tasks_state_check CHECK (state IN ('open', 'acknowledged', 'started', 'done',
        'cancelled'));

ALTER TABLE task_assignees
    ALTER COLUMN task_id TYPE uuid USING task_id::uuid,
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid;

ALTER TABLE idempotency
    ALTER COLUMN actor_id TYPE uuid USING actor_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;

ALTER TABLE outbox
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN event_id TYPE uuid USING event_id::uuid,
    ALTER COLUMN payload TYPE jsonb USING payload::jsonb,
    ALTER COLUMN next_at TYPE timestamptz USING next_at::timestamptz,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN done_at TYPE timestamptz USING done_at::timestamptz,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('call', 'escalated', 'task_overdue',
        'obligation_overdue', 'report_late', 'dispute_reported_upward', 'case_supervision',
        'petitioner_notice', 'extension_requested', 'case_overdue')),
    ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'expanded', 'skipped'));

ALTER TABLE deliveries
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN outbox_id TYPE uuid USING outbox_id::uuid,
    ALTER COLUMN incident_id TYPE uuid USING incident_id::uuid,
    ALTER COLUMN call_id TYPE uuid USING call_id::uuid,
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ALTER COLUMN drill TYPE boolean USING drill <> 0,
    ALTER COLUMN lease TYPE uuid USING lease::uuid,
    ALTER COLUMN sent_at TYPE timestamptz USING sent_at::timestamptz,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('inapp', 'webhook', 'wecom',
        'dingtalk', 'feishu', 'email', 'sms')),
    ADD CONSTRAINT deliveries_state_check CHECK (state IN ('pending', 'sending', 'sent', 'dead'));

ALTER TABLE person_channels
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ADD CONSTRAINT person_channels_channel_check CHECK (channel IN ('webhook', 'wecom',
        'dingtalk', 'feishu', 'email', 'sms'));

ALTER TABLE rosters
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN body TYPE jsonb USING body::jsonb,
    ALTER COLUMN updated_at TYPE timestamptz USING updated_at::timestamptz;

ALTER TABLE callouts
    ALTER COLUMN incident_id TYPE uuid USING incident_id::uuid,
    ALTER COLUMN body TYPE jsonb USING body::jsonb;

ALTER TABLE call_recipients
    ALTER COLUMN call_id TYPE uuid USING call_id::uuid,
    ALTER COLUMN incident_id TYPE uuid USING incident_id::uuid,
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ALTER COLUMN called_at TYPE timestamptz USING called_at::timestamptz,
    ALTER COLUMN acked_at TYPE timestamptz USING acked_at::timestamptz,
    ADD CONSTRAINT call_recipients_reached_as_check CHECK (reached_as IN ('holder', 'deputy',
        'above', 'post', 'parent_office')),
    ADD CONSTRAINT call_recipients_ack_channel_check CHECK (ack_channel IN ('api', 'inapp',
        'sms', 'link'));

ALTER TABLE cases
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN is_open TYPE boolean USING is_open <> 0,
    ALTER COLUMN received_at TYPE timestamptz USING received_at::timestamptz,
    ALTER COLUMN accepted_on TYPE date USING accepted_on::date,
    ALTER COLUMN due_on TYPE date USING due_on::date,
    ALTER COLUMN overdue TYPE boolean USING overdue <> 0,
    ALTER COLUMN extended TYPE boolean USING extended <> 0,
    ALTER COLUMN updated_at TYPE timestamptz USING updated_at::timestamptz,
    ALTER COLUMN body TYPE jsonb USING body::jsonb,
    ADD CONSTRAINT cases_status_check CHECK (status IN ('registered', 'proposed', 'approved',
        'handling', 'replied', 'closed')),
    ADD CONSTRAINT cases_channel_check CHECK (channel IN ('letter', 'phone', 'online', 'fax',
        'visit')),
    ADD CONSTRAINT cases_form_check CHECK (form IN ('single', 'collective')),
    ADD CONSTRAINT cases_category_check CHECK (category IN ('administrative', 'judicial',
        'other')),
    ADD CONSTRAINT cases_supervision_step_check CHECK (supervision_step IN ('chase',
        'report_demanded', 'joint_investigation'));

ALTER TABLE case_petitioners
    ALTER COLUMN case_id TYPE uuid USING case_id::uuid,
    ALTER COLUMN purged_at TYPE timestamptz USING purged_at::timestamptz;

ALTER TABLE case_counters
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid;

ALTER TABLE case_stats
    ADD CONSTRAINT case_stats_category_check CHECK (category IN ('administrative', 'judicial',
        'other', 'unclassified')),
    ADD CONSTRAINT case_stats_channel_check CHECK (channel IN ('letter', 'phone', 'online',
        'fax', 'visit'));

ALTER TABLE screening_rounds
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN opened_at TYPE timestamptz USING opened_at::timestamptz,
    ADD CONSTRAINT screening_rounds_cadence_check CHECK (cadence IN ('monthly', 'daily'));

ALTER TABLE screening_submissions
    ALTER COLUMN round_id TYPE uuid USING round_id::uuid,
    ALTER COLUMN unit_id TYPE uuid USING unit_id::uuid,
    ALTER COLUMN nil TYPE boolean USING nil <> 0,
    ALTER COLUMN submitted_by TYPE uuid USING submitted_by::uuid,
    ALTER COLUMN submitted_at TYPE timestamptz USING submitted_at::timestamptz;

ALTER TABLE disputes
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN round_id TYPE uuid USING round_id::uuid,
    ALTER COLUMN reported_upward TYPE boolean USING reported_upward <> 0,
    ALTER COLUMN registered_at TYPE timestamptz USING registered_at::timestamptz,
    ALTER COLUMN updated_at TYPE timestamptz USING updated_at::timestamptz,
    ALTER COLUMN body TYPE jsonb USING body::jsonb,
    ADD CONSTRAINT disputes_status_check CHECK (status IN ('registered', 'mediating',
        'resolved', 'unresolved', 'closed')),
    ADD CONSTRAINT disputes_risk_check CHECK (risk IN ('low', 'medium', 'high', 'major'));

ALTER TABLE report_submissions
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN due_at TYPE timestamptz USING due_at::timestamptz,
    ALTER COLUMN nil TYPE boolean USING nil <> 0,
    ALTER COLUMN submitted_by TYPE uuid USING submitted_by::uuid,
    ALTER COLUMN submitted_at TYPE timestamptz USING submitted_at::timestamptz;

ALTER TABLE report_reminders
    ALTER COLUMN due_at TYPE timestamptz USING due_at::timestamptz,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ADD CONSTRAINT report_reminders_kind_check CHECK (kind IN ('late'));

ALTER TABLE accounts
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ALTER COLUMN disabled DROP DEFAULT,
    ALTER COLUMN disabled TYPE boolean USING disabled <> 0,
    ALTER COLUMN disabled SET DEFAULT FALSE,
    ALTER COLUMN password_changed_at TYPE timestamptz USING password_changed_at::timestamptz,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;

ALTER TABLE sessions
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN revoked DROP DEFAULT,
    ALTER COLUMN revoked TYPE boolean USING revoked <> 0,
    ALTER COLUMN revoked SET DEFAULT FALSE;

ALTER TABLE api_tokens
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN revoked DROP DEFAULT,
    ALTER COLUMN revoked TYPE boolean USING revoked <> 0,
    ALTER COLUMN revoked SET DEFAULT FALSE;

ALTER TABLE sign_in_failures
    ALTER COLUMN id TYPE uuid USING id::uuid;

ALTER TABLE role_grants
    ALTER COLUMN person_id TYPE uuid USING person_id::uuid,
    ALTER COLUMN jurisdiction_id TYPE uuid USING jurisdiction_id::uuid,
    ALTER COLUMN granted_at TYPE timestamptz USING granted_at::timestamptz;

DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM yj_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.name, fk.def);
    END LOOP;
END $$;

-- The event log is append-only: no row of it can be changed or removed (nor the table emptied).
-- `yingji audit verify` still finds edits made by someone who drops this trigger first.
CREATE FUNCTION yj_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION yj_events_append_only();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION yj_events_append_only();
