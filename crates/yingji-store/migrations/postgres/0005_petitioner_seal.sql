-- Petitioners' personal data sealed at rest (issue 7): petitioner_contact, petitioner_address and
-- the new petitioner_id_number hold `sealed1:<key id>:<hex>` values (ChaCha20-Poly1305, bound to
-- the row). `purged_at` marks rows whose sealed values `yingji purge` erased after the retention
-- period; the case, its events and its statistics stay.
ALTER TABLE case_petitioners ADD COLUMN petitioner_id_number TEXT;
ALTER TABLE case_petitioners ADD COLUMN purged_at TEXT;
