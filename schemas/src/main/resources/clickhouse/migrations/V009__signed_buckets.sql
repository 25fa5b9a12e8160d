-- Trend buckets below zero (HistogramLayout: the index of a negative value is minus the index of its
-- magnitude), for user Trend metrics that go negative as k6 allows. hist_idx becomes signed: every index
-- stored before (0..7295) keeps its value, so old rows read as they did; indexes still ascend with the
-- values they hold, so sumMap and the running sums of the percentile columns stay in value order. The
-- percentile bucket columns of V008 become signed with it (same expressions). MODIFY of a column to the
-- type it already has does nothing, so the migration applies again cleanly.
ALTER TABLE metric_1s
    MODIFY COLUMN hist_idx Array(Int16),
    MODIFY COLUMN bucket_p50 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    MODIFY COLUMN bucket_p90 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    MODIFY COLUMN bucket_p95 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    MODIFY COLUMN bucket_p99 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
ALTER TABLE metric_10s
    MODIFY COLUMN hist_idx Array(Int16),
    MODIFY COLUMN bucket_p50 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    MODIFY COLUMN bucket_p90 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    MODIFY COLUMN bucket_p95 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    MODIFY COLUMN bucket_p99 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
ALTER TABLE metric_1m
    MODIFY COLUMN hist_idx Array(Int16),
    MODIFY COLUMN bucket_p50 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    MODIFY COLUMN bucket_p90 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    MODIFY COLUMN bucket_p95 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    MODIFY COLUMN bucket_p99 Int16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
