-- Information releases (WF-13, issue 22): a release's state as its events leave it; the public
-- page and the CAP feed read the published ones, newest first.
CREATE TABLE releases (
    id                uuid PRIMARY KEY,
    jurisdiction_id   uuid NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'rejected', 'published')),
    published_at      timestamptz,
    updated_at        timestamptz NOT NULL,
    body              jsonb NOT NULL
);
CREATE INDEX releases_scope ON releases (jurisdiction_path, id);
CREATE INDEX releases_published ON releases (published_at) WHERE published_at IS NOT NULL;

-- A release's events are a stream of kind `release`.
ALTER TABLE events
    DROP CONSTRAINT events_stream_kind_check,
    ADD CONSTRAINT events_stream_kind_check CHECK (stream_kind IN ('incident', 'jurisdiction',
        'person', 'plan', 'callout', 'case', 'dispute', 'screening_round', 'report',
        'report_reminder', 'roster', 'purge', 'disclosure', 'delivery', 'release'));

ALTER TABLE streams
    DROP CONSTRAINT streams_kind_check,
    ADD CONSTRAINT streams_kind_check CHECK (kind IN ('incident', 'jurisdiction', 'person',
        'plan', 'callout', 'case', 'dispute', 'screening_round', 'report', 'report_reminder',
        'roster', 'purge', 'disclosure', 'delivery', 'release'));
