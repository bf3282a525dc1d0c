-- A search in a small area (a township, a county) reads the term's rows of that subtree
-- directly instead of walking the term's rows newest first across the province
-- (Store::search chooses by the number of rows the area holds).
CREATE INDEX search_terms_scope ON search_terms (term, jurisdiction_path, subject_id);
