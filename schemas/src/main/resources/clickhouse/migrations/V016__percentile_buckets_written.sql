-- The percentile bucket columns (V008, V009, V015) become DEFAULT instead of MATERIALIZED, with the same
-- expressions: the aggregate job now writes them itself (MetricRowBinary, computed as the expression does),
-- and ClickHouse evaluates the expression only for a row inserted without them (tools, hand inserts). Four
-- array lambdas per row were two fifths of ClickHouse's CPU per insert on 18.16 (measured: 1 M rows, 5.2 s
-- of CPU with the expressions, 3.1 s with the values given). Rows stored before keep the values they have.
-- Unlike MATERIALIZED columns, DEFAULT columns are part of SELECT *; nothing of ours selects * from them.
-- MODIFY of a column to what it already is does nothing, so the migration applies again cleanly.
ALTER TABLE metric_1s
    MODIFY COLUMN bucket_p50 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    MODIFY COLUMN bucket_p90 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    MODIFY COLUMN bucket_p95 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    MODIFY COLUMN bucket_p99 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
ALTER TABLE metric_10s
    MODIFY COLUMN bucket_p50 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    MODIFY COLUMN bucket_p90 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    MODIFY COLUMN bucket_p95 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    MODIFY COLUMN bucket_p99 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
ALTER TABLE metric_1m
    MODIFY COLUMN bucket_p50 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    MODIFY COLUMN bucket_p90 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    MODIFY COLUMN bucket_p95 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    MODIFY COLUMN bucket_p99 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
ALTER TABLE metric_run
    MODIFY COLUMN bucket_p50 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    MODIFY COLUMN bucket_p90 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    MODIFY COLUMN bucket_p95 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    MODIFY COLUMN bucket_p99 Int16 DEFAULT hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
