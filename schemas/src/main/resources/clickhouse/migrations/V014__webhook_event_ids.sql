-- Each delivery attempt names the event it delivers (a stable id per webhook, run and event), so that an API
-- process that restarts, or another one, does not send again what was delivered already.
ALTER TABLE webhook_deliveries ADD COLUMN event_id String
