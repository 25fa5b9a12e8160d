-- Every threshold state the threshold job published on loadtest.thresholds (changes and final results),
-- so that the API serves a run's current and final threshold states without replaying the topic.
-- Current state: argMax(state, (final, at_ms)) per threshold. A repeated insert collapses on the key.
CREATE TABLE IF NOT EXISTS thresholds (
    test_run_id  String,
    analysis_id  String,
    threshold    String,
    state        String,
    value        Float64,
    final        UInt8,
    at_ms        UInt64
) ENGINE = ReplacingMergeTree()
ORDER BY (test_run_id, analysis_id, threshold, at_ms, final)
