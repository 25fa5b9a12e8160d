-- Marks users put on runs through the API (DELETE-free: a new version replaces the old; readers use FINAL).
-- A run marked baseline is what its load test's later runs are compared with (regression gates), and is
-- exempt from retention.
CREATE TABLE IF NOT EXISTS run_marks (
    test_run_id  String,
    baseline     UInt8,
    marked_by    String,
    updated_at   DateTime('UTC'),
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY test_run_id;
-- Every run deleted (by DELETE /runs/{id} or by retention), with why and what it was: a deletion is never
-- silent, and a run's id stays explainable after its data is gone.
CREATE TABLE IF NOT EXISTS run_deletions (
    test_run_id  String,
    name         String,
    project      String,
    status       String,
    created_at   DateTime('UTC'),
    reason       String,
    deleted_by   String,
    deleted_at   DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (deleted_at, test_run_id);
