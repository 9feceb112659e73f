-- Vigie-maintained rollups for plain PostgreSQL (with TimescaleDB, continuous aggregates with
-- the same columns replace them: see services/timeseries/storage.ts). Hourly buckets are UTC
-- hours; daily buckets are Europe/Paris calendar days (daily and yearly traffic figures such as
-- TMJA are counted in local calendar days; DST days have 23 and 25 hours), stored as the
-- timestamptz of local midnight.
create table rollup_hourly (
  device_id   text             not null,
  metric      text             not null,
  channel     text             not null,
  bucket      timestamptz      not null,
  n           bigint           not null,
  sum         double precision not null,
  min         double precision not null,
  max         double precision not null,
  first_time  timestamptz      not null,
  first_value double precision not null,
  last_time   timestamptz      not null,
  last_value  double precision not null,
  primary key (device_id, metric, channel, bucket)
);
create index rollup_hourly_bucket_idx on rollup_hourly (bucket);

create table rollup_daily (like rollup_hourly including all);
create index rollup_daily_metric_bucket_idx on rollup_daily (metric, bucket);

-- Hours whose rollup is stale: filled by a statement trigger on observations (so COPY, late
-- data and redelivery all count), drained by the rollup worker, which recomputes each hour
-- and the local day holding it from raw rows.
create table rollup_dirty (
  device_id text        not null,
  metric    text        not null,
  channel   text        not null,
  hour      timestamptz not null,
  primary key (device_id, metric, channel, hour)
);
