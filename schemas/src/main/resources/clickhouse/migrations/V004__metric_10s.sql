-- Rollup of metric_1s to ten seconds, written by the aggregate job alongside metric_1s (not a materialized
-- view: a view would count an insert repeated after a restart twice, while these rows carry the same
-- writer_id semantics as metric_1s and collapse under ReplacingMergeTree). A long run reads these so
-- that a panel of ~1,000 points scans ~1,000 rows per series whatever the run's length.
CREATE TABLE IF NOT EXISTS metric_10s (
    test_run_id  String,
    analysis_id  String,
    metric       String,
    series_id    UInt64,
    ts           DateTime('UTC'),
    writer_id    String,
    count        UInt64,
    sum          Float64,
    min          Float64,
    max          Float64,
    last         Float64,
    non_zero     UInt64,
    hist_idx     Array(UInt16),
    hist_cnt     Array(UInt64)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (test_run_id, analysis_id, metric, series_id, ts, writer_id)
