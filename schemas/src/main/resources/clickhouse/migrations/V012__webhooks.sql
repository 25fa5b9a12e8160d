-- Webhooks per project (the query API's notifier sends run events to them) and every delivery attempt.
-- A webhook is deleted by a newer version with deleted = 1 (readers use FINAL).
CREATE TABLE IF NOT EXISTS webhooks (
    id          String,
    project     String,
    url         String,
    events      Array(String),
    format      String,
    secret      String,
    created_at  DateTime('UTC'),
    deleted     UInt8,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    webhook_id   String,
    test_run_id  String,
    event        String,
    attempt      UInt32,
    status_code  Int32,
    error        String,
    delivered    UInt8,
    at_ms        Int64
) ENGINE = MergeTree()
ORDER BY (webhook_id, at_ms);
