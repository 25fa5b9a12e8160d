-- A by-name row that also stands for the one series it was made of. When, in a second, a name has data from
-- one series only (each name has one tag set, as in most tests and in the reverse load test's shapes), its
-- by-name row (analysis "<analysis>~name") and that series' row (analysis "<analysis>") held the same
-- numbers: half of metric_1s, and of ClickHouse's inserts and merges, were copies. The aggregate job now writes
-- only the by-name row then, with raw_series set to the series' id; readers of the series (analysis
-- "<analysis>") add the by-name rows whose raw_series is not 0, read as that series (MetricReader). 0: a row
-- that stands for no series (every row stored before this migration, every total's and rollup's row).
ALTER TABLE metric_1s ADD COLUMN raw_series UInt64 DEFAULT 0
