-- Aggregates per series per second (HistogramLayout buckets for trends; rate, counter and gauge
-- fields for the other types). writer_id identifies the writer of a partial bucket (e.g. a job
-- subtask and its checkpoint), so that a replayed insert of the same rows collapses to one row under
-- ReplacingMergeTree while partial buckets of different writers are kept and summed by readers.
-- Retention: drop whole days with ALTER TABLE ... DROP PARTITION (18.16 has no TTL).
CREATE TABLE IF NOT EXISTS metric_1s (
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
PARTITION BY toYYYYMMDD(ts)
ORDER BY (test_run_id, analysis_id, metric, series_id, ts, writer_id)
