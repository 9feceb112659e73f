-- The observation relations of the previous layout, as views over the narrow tables
-- (once/050_narrow_observations.sql), for SQL users, dashboards and tools: same names, same
-- columns. Reading them costs a join on `series` (by its key); `received_at` costs a join on
-- `ingest_batches` only when selected (a left join on a primary key is removed otherwise).
create or replace view observations as
select s.device_id, s.metric, s.channel, v.time, b.received_at, v.value, coalesce(v.quality, 0)::smallint as quality
  from observation_rows v
  join series s on s.id = v.series_id
  left join ingest_batches b on b.id = v.batch_id;

create or replace view latest_observations as
select s.device_id, s.metric, s.channel, l.time, l.received_at, l.value, l.quality
  from latest_values l
  join series s on s.id = l.series_id;

-- The id of a series, created on first sight (concurrency-safe: the unique key decides).
create or replace function vigie_series_id(d text, m text, c text) returns integer language plpgsql as $$
declare
  sid integer;
begin
  select id into sid from series where device_id = d and metric = m and channel = c;
  if sid is null then
    insert into series (device_id, metric, channel) values (d, m, c) on conflict do nothing returning id into sid;
    if sid is null then
      select id into sid from series where device_id = d and metric = m and channel = c;
    end if;
  end if;
  return sid;
end
$$;

-- Inserting into the views (fixtures, imports written for the previous layout): one row at a
-- time, idempotent like the ingest; each row gets its own batch for its receive time. Bulk
-- loads should COPY into observation_values instead (bench/storage.ts does). A row older than
-- observation_seal.sealed_before goes to its sealed month (once/070_sealed_months.sql) the way
-- services/store/write-batch.ts routes it: the seal lock (LOCK_CLASS 0x56494749, SEAL_LOCK 10
-- in services/cluster/keys.ts) in shared mode, then the series lock (SEALED_SERIES_CLASS
-- 0x56534552) and an insert of a key not stored yet; each statement of this volatile function
-- takes a new snapshot, so it sees what a concurrent writer of the same key committed.
create or replace function vigie_observations_insert() returns trigger language plpgsql as $$
declare
  sid integer := vigie_series_id(new.device_id, new.metric, coalesce(new.channel, ''));
  bid integer;
  sealed timestamptz;
begin
  perform pg_advisory_xact_lock_shared(1447642953, 10);
  select sealed_before into sealed from observation_seal;
  insert into ingest_batches (received_at) values (coalesce(new.received_at, now())) returning id into bid;
  if new.time >= coalesce(sealed, '-infinity') then
    insert into observation_values (time, value, series_id, batch_id, quality)
    values (new.time, new.value, sid, bid, nullif(coalesce(new.quality, 0), 0))
    on conflict do nothing;
  else
    perform pg_advisory_xact_lock(1448297810, sid);
    insert into observation_values_sealed (time, value, series_id, batch_id, quality)
    select new.time, new.value, sid, bid, nullif(coalesce(new.quality, 0), 0)
     where not exists (select 1 from observation_values_sealed x where x.series_id = sid and x.time = new.time);
  end if;
  -- Plain PostgreSQL rollups are recomputed from the hours marked stale; with TimescaleDB the
  -- continuous aggregates follow by themselves.
  if found and to_regclass('cagg_series_hourly') is null then
    -- The mark carries the row's time: a pending mark after it must not let the worker merge
    -- only the hour's tail (once/080_rollup_tails.sql).
    insert into rollup_dirty (series_id, hour, from_time) values (sid, date_trunc('hour', new.time, 'UTC'), new.time)
    on conflict (series_id, hour) do update set from_time = least(rollup_dirty.from_time, excluded.from_time);
  end if;
  return new;
end
$$;
create or replace trigger observations_insert instead of insert on observations
  for each row execute function vigie_observations_insert();

create or replace function vigie_latest_insert() returns trigger language plpgsql as $$
begin
  insert into latest_values (series_id, time, received_at, value, quality)
  values (vigie_series_id(new.device_id, new.metric, coalesce(new.channel, '')), new.time, coalesce(new.received_at, now()), new.value, coalesce(new.quality, 0))
  on conflict (series_id) do update
    set time = excluded.time, received_at = excluded.received_at, value = excluded.value, quality = excluded.quality
    where excluded.time >= latest_values.time;
  return new;
end
$$;
create or replace trigger latest_observations_insert instead of insert on latest_observations
  for each row execute function vigie_latest_insert();
