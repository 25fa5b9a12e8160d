-- Performance insights raised while runs go (the threshold job's insights operator, from loadtest.insights):
-- one row per insight; a rule raises once per run and subject, so a replayed insert is the same row again
-- and ReplacingMergeTree collapses it.
CREATE TABLE IF NOT EXISTS insights (
    test_run_id  String,
    rule         String,
    subject      String,
    severity     String,
    title        String,
    message      String,
    from_ms      Int64,
    to_ms        Int64,
    value_keys   Array(String),
    value_values Array(Float64),
    at_ms        Int64
) ENGINE = ReplacingMergeTree()
ORDER BY (test_run_id, rule, subject);
