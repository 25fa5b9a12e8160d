-- One row per state change of a test run; ReplacingMergeTree keeps the highest version, so readers use
-- FINAL (or argMax) to see the current state. Written by the run-state sink from loadtest.runs.
CREATE TABLE IF NOT EXISTS runs (
    test_run_id  String,
    version      UInt64,
    status       String,
    name         String,
    project      String,
    tag_keys     Array(String),
    tag_values   Array(String),
    plan_hash    String,
    plan_json    String,
    created_at   DateTime('UTC'),
    started_at   DateTime('UTC'),
    ended_at     DateTime('UTC'),
    reason       String,
    verdict      String,
    updated_at   DateTime('UTC')
) ENGINE = ReplacingMergeTree(version)
ORDER BY test_run_id
