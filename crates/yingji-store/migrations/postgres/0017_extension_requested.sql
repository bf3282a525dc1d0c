-- Cases whose extension request (延期申请) waits for a decision: the approver's desk lists them
-- ("my work") without reading every open case.
ALTER TABLE cases ADD COLUMN extension_requested boolean NOT NULL DEFAULT false;
UPDATE cases SET extension_requested = true
    WHERE body -> 'extension' ->> 'state' = 'requested';
CREATE INDEX cases_extension_requested ON cases (jurisdiction_path) WHERE extension_requested;
