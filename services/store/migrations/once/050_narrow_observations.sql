-- Narrow observation storage. A row used to carry three text keys, a receive time and a
-- quality (about 235 bytes per observation with its three indexes); it now carries a small
-- series id, the observed time, the value, the id of the commit that brought it and the
-- quality only when it is not 0 (a null costs no data byte: the null bitmap fits in the tuple
-- header for up to 8 columns). The old relations stay readable under their names as views
-- (repeatable/000_observation_views.sql), so SQL users, dashboards and exports keep working.

-- One row per (device, metric, channel): created on first sight by the ingest (insert ... on
-- conflict do nothing, then read back, outside the batch transaction so a rolled-back batch
-- never leaves a cached id without its row) and never deleted.
create table series (
  id         integer generated always as identity primary key,
  device_id  text not null,
  metric     text not null,
  channel    text not null default '',
  created_at timestamptz not null default now(),
  constraint series_key unique (device_id, metric, channel)
);
create index series_metric_idx on series (metric, device_id);

-- The receive time is kept per commit, not per row: every observation of a batch shares the
-- receive time of the batch's newest message (the API's `receivedAt` of a raw observation).
-- On plain PostgreSQL the batch also lists the (series, UTC hour) pairs it touched, until the
-- rollup worker has moved them to rollup_dirty: stale hours cost the commit two array
-- parameters of this one row, not an index insertion per pair (and no lock the worker holds).
create table ingest_batches (
  id           integer generated always as identity primary key,
  received_at  timestamptz not null,
  stale_series integer[],
  stale_hours  timestamptz[]
);
create index ingest_batches_stale_idx on ingest_batches (id) where stale_series is not null;

-- Columns ordered for alignment (8 + 8 + 4 + 4 bytes, then the rarely present quality).
-- One primary key serves both idempotency (redelivery is `on conflict do nothing`) and range
-- scans of one series; there is no other index.
create table observation_values (
  time      timestamptz      not null,
  value     double precision not null,
  series_id integer          not null,
  batch_id  integer          not null,
  -- Quality flags (schemas/quality.ts); null means 0 (no flag).
  quality   smallint,
  constraint observation_values_pkey primary key (series_id, time)
);

-- Latest value per series, upserted once per batch (newest wins). Half-empty pages leave
-- room for HOT updates (no index entry per update: only the key is indexed).
create table latest_values (
  series_id   integer          primary key,
  time        timestamptz      not null,
  received_at timestamptz      not null,
  value       double precision not null,
  quality     smallint         not null default 0
) with (fillfactor = 50);

-- Copy what the previous layout holds. Old rollups keyed by text become keyed by series.
alter table observations rename to observations_v1;
alter table latest_observations rename to latest_observations_v1;

insert into series (device_id, metric, channel)
select device_id, metric, channel from (
  select device_id, metric, channel from observations_v1
  union
  select device_id, metric, channel from latest_observations_v1
) k order by 1, 2, 3;

create temp table v1_batches on commit drop as
select received_at, row_number() over (order by received_at) as n
  from (select distinct received_at from observations_v1) r;
insert into ingest_batches (received_at) overriding system value
select received_at from v1_batches order by n;
-- The identity restarts after the copied ids.
select setval(pg_get_serial_sequence('ingest_batches', 'id'), coalesce((select max(id) from ingest_batches), 0) + 1, false);

insert into observation_values (time, value, series_id, batch_id, quality)
select o.time, o.value, s.id, b.id, nullif(o.quality, 0)
  from observations_v1 o
  join series s on s.device_id = o.device_id and s.metric = o.metric and s.channel = o.channel
  join ingest_batches b on b.received_at = o.received_at;

insert into latest_values (series_id, time, received_at, value, quality)
select s.id, l.time, l.received_at, l.value, l.quality
  from latest_observations_v1 l
  join series s on s.device_id = l.device_id and s.metric = l.metric and s.channel = l.channel;

-- TimescaleDB continuous aggregates of the previous layout read observations_v1: they go
-- with it and are re-created over observation_values at start (services/store/timescale.ts).
drop materialized view if exists cagg_hourly cascade;
drop materialized view if exists cagg_daily cascade;
drop table observations_v1 cascade;
drop table latest_observations_v1 cascade;

alter table rollup_hourly rename to rollup_hourly_v1;
alter table rollup_daily rename to rollup_daily_v1;
alter table rollup_dirty rename to rollup_dirty_v1;

create table rollup_hourly (
  series_id   integer          not null,
  bucket      timestamptz      not null,
  n           bigint           not null,
  sum         double precision not null,
  min         double precision not null,
  max         double precision not null,
  first_time  timestamptz      not null,
  first_value double precision not null,
  last_time   timestamptz      not null,
  last_value  double precision not null,
  primary key (series_id, bucket)
);
create table rollup_daily (like rollup_hourly including all);

-- Hours whose rollup is stale (plain PostgreSQL only): moved here from ingest_batches by the
-- rollup worker, or marked by inserts through the observations view.
create table rollup_dirty (
  series_id integer     not null,
  hour      timestamptz not null,
  primary key (series_id, hour)
);

insert into rollup_hourly
select s.id, r.bucket, r.n, r.sum, r.min, r.max, r.first_time, r.first_value, r.last_time, r.last_value
  from rollup_hourly_v1 r join series s on s.device_id = r.device_id and s.metric = r.metric and s.channel = r.channel;
insert into rollup_daily
select s.id, r.bucket, r.n, r.sum, r.min, r.max, r.first_time, r.first_value, r.last_time, r.last_value
  from rollup_daily_v1 r join series s on s.device_id = r.device_id and s.metric = r.metric and s.channel = r.channel;
insert into rollup_dirty
select s.id, r.hour from rollup_dirty_v1 r join series s on s.device_id = r.device_id and s.metric = r.metric and s.channel = r.channel;

drop table rollup_hourly_v1 cascade;
drop table rollup_daily_v1 cascade;
drop table rollup_dirty_v1 cascade;
drop function if exists vigie_mark_rollups_dirty() cascade;
