-- The search index, stored in its search order (WITHOUT ROWID, keyed by term then the record's
-- time-ordered id): a search over a large area walks a term's records newest first in the
-- table itself. A search in a small area (a township, a county) reads the term's rows of that
-- subtree through search_terms_scope instead (Store::search chooses by the number of rows the
-- area holds). Both carry every column a search reads, so neither touches another b-tree.
CREATE TABLE search_terms_0016 (
    term              TEXT NOT NULL,
    subject_id        TEXT NOT NULL,
    subject_kind      TEXT NOT NULL,
    jurisdiction_path TEXT NOT NULL,
    PRIMARY KEY (term, subject_id, subject_kind)
) WITHOUT ROWID;
INSERT INTO search_terms_0016 (term, subject_id, subject_kind, jurisdiction_path)
    SELECT term, subject_id, subject_kind, jurisdiction_path FROM search_terms;
DROP TABLE search_terms;
ALTER TABLE search_terms_0016 RENAME TO search_terms;
CREATE INDEX search_terms_scope ON search_terms (term, jurisdiction_path, subject_id);
