-- The search index (the console's search box): one row per term of an incident, a case or a
-- dispute (yingji_domain::search::terms: pairs of neighbouring Chinese characters, words of
-- letters or digits), with the record's jurisdiction path for the subtree a search covers.
CREATE TABLE search_terms (
    term              TEXT NOT NULL,
    subject_kind      TEXT NOT NULL,
    subject_id        UUID NOT NULL,
    jurisdiction_path TEXT NOT NULL,
    PRIMARY KEY (term, subject_kind, subject_id)
);
CREATE INDEX search_terms_newest ON search_terms (term, subject_id);
