-- Earlier petitions by the same person are found by the petitioner's name (the case page's
-- suggestions for linking a repeated petition, 重复信访).
CREATE INDEX case_petitioners_name ON case_petitioners (petitioner_name);
