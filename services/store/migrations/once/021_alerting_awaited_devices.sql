-- Registered devices the alerting engine waits for a first report from. `since` is when it
-- first saw them registered, kept here so a restart does not reset their offline delay.
create table alert_awaited_devices (
  device_id  text        primary key,
  since      timestamptz not null
);
