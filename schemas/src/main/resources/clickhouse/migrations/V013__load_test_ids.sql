-- The explicit load-test id a run was started with (metadata.loadTest; '' for runs of the load test of their
-- plan name in their project, whose id is derived from those two).
ALTER TABLE runs ADD COLUMN load_test String
