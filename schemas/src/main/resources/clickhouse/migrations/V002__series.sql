-- Every series (test run, metric, sorted tag set) once, so that the API can list and filter series
-- without scanning aggregates. series_id is the stable 64-bit hash of the series key.
CREATE TABLE IF NOT EXISTS series (
    test_run_id  String,
    analysis_id  String,
    series_id    UInt64,
    metric       String,
    metric_type  String,
    tag_keys     Array(String),
    tag_values   Array(String),
    first_seen   DateTime('UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY (test_run_id, analysis_id, metric, series_id)
