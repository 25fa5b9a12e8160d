-- The histogram bucket of each row's median, p(90), p(95) and p(99) (a value of hist_idx), computed by
-- ClickHouse from the row itself: on insert for new rows, on read for rows stored before this migration.
-- A panel whose every point is one stored row (a projection grouped by its own tags, a step equal to the
-- table's width) then reads two bytes per percentile instead of the whole histogram. The rank is the
-- one SparseHistogram.percentile looks for: ceil(count * nextDown(p) / 100), at least 1, on the running
-- sum of the bucket counts (the two-array lambda because 18.16 does not let a column expression's lambda
-- read another column). MATERIALIZED: no insert can set them, SELECT * does not return them.
ALTER TABLE metric_1s
    ADD COLUMN bucket_p50 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    ADD COLUMN bucket_p90 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    ADD COLUMN bucket_p95 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    ADD COLUMN bucket_p99 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
ALTER TABLE metric_10s
    ADD COLUMN bucket_p50 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    ADD COLUMN bucket_p90 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    ADD COLUMN bucket_p95 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    ADD COLUMN bucket_p99 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
ALTER TABLE metric_1m
    ADD COLUMN bucket_p50 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.49999999999999994))))],
    ADD COLUMN bucket_p90 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.8999999999999999))))],
    ADD COLUMN bucket_p95 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9499999999999998))))],
    ADD COLUMN bucket_p99 UInt16 MATERIALIZED hist_idx[arrayFirstIndex((x, r) -> x >= r, arrayCumSum(hist_cnt),
        arrayResize(emptyArrayFloat64(), length(hist_cnt), greatest(1., ceil(count * 0.9899999999999999))))];
