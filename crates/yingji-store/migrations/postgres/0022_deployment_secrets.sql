-- Secrets that belong to the deployment, not to one process (issue 21): the console's CSRF key
-- and the key that signs acknowledgement links. Each is made once, by whichever process starts
-- first, sealed with the data key (`value` is `sealed1:…`), so that every process of one
-- database — and the same process after a restart — accepts what another issued.
CREATE TABLE deployment_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
