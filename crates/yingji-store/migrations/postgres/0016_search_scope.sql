-- A search over a large area walks a term's records newest first (search_terms_newest); a
-- search in a small area (a township, a county) reads the term's rows of that subtree directly
-- (search_terms_scope; Store::search chooses by the number of rows the area holds). Both
-- carry every column a search reads, so a search is an index-only scan.
DROP INDEX search_terms_newest;
CREATE INDEX search_terms_newest ON search_terms (term, subject_id) INCLUDE (jurisdiction_path, subject_kind);
CREATE INDEX search_terms_scope ON search_terms (term, jurisdiction_path, subject_id) INCLUDE (subject_kind);
