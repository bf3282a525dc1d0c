-- Information releases (WF-13, issue 22): a release's state as its events leave it; the public
-- page and the CAP feed read the published ones, newest first.
CREATE TABLE releases (
    id                TEXT PRIMARY KEY,
    jurisdiction_id   TEXT NOT NULL REFERENCES jurisdictions (id),
    jurisdiction_path TEXT NOT NULL,
    status            TEXT NOT NULL,
    published_at      TEXT,
    updated_at        TEXT NOT NULL,
    body              TEXT NOT NULL
);
CREATE INDEX releases_scope ON releases (jurisdiction_path, id);
CREATE INDEX releases_published ON releases (published_at) WHERE published_at IS NOT NULL;
