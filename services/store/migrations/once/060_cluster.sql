-- Scaling out (docs/operations.md, "Scaling out"): several Vigie processes on one database behave as one
-- platform. The commit feed, its consumers' positions, the alert event log that live streams
-- replay from, and the notification outbox. Run once; never edit after release.

-- Every committed ingest batch's observations, compactly (services/cluster/commit-log.ts),
-- appended in the batch's own transaction. `seq` follows commit order: appends take a
-- transaction-level advisory lock, so no reader ever sees seq n+1 before seq n.
create table commit_log (
  seq           bigserial   primary key,
  committed_at  timestamptz not null default clock_timestamp(),
  observations  integer     not null,
  payload       json        not null
);
create index commit_log_time_idx on commit_log (committed_at);

-- Durable positions in the feed. `epoch` fences a consumer: the lease holder bumps it when it
-- takes over, and every write of the consumer checks it, so a holder that lost its lease
-- without knowing it cannot write behind the new one.
create table commit_consumers (
  name        text        primary key,
  seq         bigint      not null default 0,
  epoch       bigint      not null default 0,
  updated_at  timestamptz not null default now()
);
insert into commit_consumers (name, seq) values ('alerting', 0);

-- Alert events in the order the live stream serves them (ids are SSE event ids, valid on
-- every process); `event_id` is the stable id notifications carry for deduplication.
create table alert_stream (
  id        bigserial   primary key,
  event_id  uuid        not null default gen_random_uuid() unique,
  type      text        not null,
  alert_id  bigint      not null,
  at        timestamptz not null default now(),
  body      json        not null
);
create index alert_stream_at_idx on alert_stream (at);

-- Notifications to deliver, written in the same transaction as the alert change that caused
-- them; delivered at least once by the notification lease holder (services/alerting/notify/outbox.ts).
create table alert_outbox (
  id               bigserial   primary key,
  event_id         uuid        not null,
  alert_id         bigint      not null references alerts (id) on delete cascade,
  event            text        not null,
  target           jsonb       not null,
  target_key       text        not null,
  body             text        not null,
  attempts         integer     not null default 0,
  next_attempt_at  timestamptz not null default now(),
  delivered_at     timestamptz,
  given_up_at      timestamptz,
  last_error       text,
  created_at       timestamptz not null default now()
);
create index alert_outbox_pending_idx on alert_outbox (next_attempt_at, id) where delivered_at is null and given_up_at is null;
create index alert_outbox_alert_idx on alert_outbox (alert_id, target_key, id) where delivered_at is null and given_up_at is null;
