-- Records waiting to enter the search index (issue 20, leaner writes). A record's terms are
-- written here, in one row, in the same transaction as the record; the indexer moves many
-- records' terms into search_terms in one transaction, where each term's index page is
-- written once for all of them instead of once per record. A search reads the rows still
-- waiting in its subtree as well, so a record is found as soon as it is written.
CREATE TABLE search_pending (
    seq               BIGSERIAL PRIMARY KEY,
    subject_kind      TEXT NOT NULL,
    subject_id        UUID NOT NULL,
    jurisdiction_path TEXT NOT NULL,
    -- The record's terms, one per line.
    terms             TEXT NOT NULL
);
