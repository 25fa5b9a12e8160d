-- The whole run state (RunState JSON: plan, metadata, status history, errors, verdict) of each row, so that
-- a reader gets a run's history from its current row: ReplacingMergeTree keeps only the highest version.
ALTER TABLE runs ADD COLUMN state_json String
