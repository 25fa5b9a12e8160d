-- Each by-name trend series over its whole run so far, written by the aggregate job beside the rollups: the
-- row of a series is written again every 10 s of event time while it gets data, each time with a higher
-- version, and ReplacingMergeTree(version) keeps the last (readers take argMax by version per key, as
-- rows not merged yet may sit beside it). ts is where the row's part of the run starts: a series quiet
-- for two minutes is let go by the job, and data that comes for it later starts a new part (a new ts),
-- which readers add to the first; a late correction for a part already let go is a row of its own (its
-- writer_id names it, as in metric_1s). So a whole-run ranking of thousands of names reads one small row
-- per name, its percentile bucket stored (the columns of V008 and V009), instead of every minute's
-- histogram of every name.
CREATE TABLE IF NOT EXISTS metric_run (
    test_run_id  String,
    analysis_id  String,
    metric       String,
    series_id    UInt64,
    ts           DateTime('UTC'),
    writer_id    String,
    version      UInt64,
    count        UInt64,
    sum          Float64,
    min          Float64,
    max          Float64,
    last         Float64,
    non_zero     UInt64,
    hist_idx     Array(Int16),
    hist_cnt     Array(UInt64),
    bucket_p50   Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    bucket_p90   Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    bucket_p95   Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    bucket_p99   Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))]
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (test_run_id, analysis_id, metric, series_id, ts, writer_id)
