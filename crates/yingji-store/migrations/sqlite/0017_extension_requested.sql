-- Cases whose extension request (延期申请) waits for a decision: the approver's desk lists them
-- ("my work") without reading every open case.
ALTER TABLE cases ADD COLUMN extension_requested INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET extension_requested = 1
    WHERE json_extract(body, '$.extension.state') = 'requested';
CREATE INDEX cases_extension_requested ON cases (jurisdiction_path) WHERE extension_requested = 1;
