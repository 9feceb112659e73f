-- Marks the hours touched by a statement as stale. A statement-level trigger with a transition
-- table costs one extra insert per commit, not per row; rows skipped by `on conflict do
-- nothing` (redelivery) are not in new_rows and mark nothing.
create or replace function vigie_mark_rollups_dirty() returns trigger language plpgsql as $$
begin
  insert into rollup_dirty (device_id, metric, channel, hour)
  select distinct device_id, metric, channel, date_trunc('hour', time, 'UTC') from new_rows
  on conflict do nothing;
  return null;
end
$$;

-- Real-time rollups on plain PostgreSQL (what TimescaleDB's real-time aggregation does for
-- continuous aggregates): materialized buckets that are not stale, plus stale hours
-- aggregated from raw rows on the fly. rollup_dirty is small (only what the worker has not
-- reached yet), so the raw part stays cheap.
create or replace view series_hourly as
select h.device_id, h.metric, h.channel, h.bucket, h.n, h.sum, h.min, h.max, h.first_time, h.first_value, h.last_time, h.last_value
  from rollup_hourly h
 where not exists (select 1 from rollup_dirty d
                    where d.device_id = h.device_id and d.metric = h.metric and d.channel = h.channel and d.hour = h.bucket)
union all
select o.device_id, o.metric, o.channel, d.hour, count(*), sum(o.value), min(o.value), max(o.value),
       min(o.time), (array_agg(o.value order by o.time))[1], max(o.time), (array_agg(o.value order by o.time desc))[1]
  from rollup_dirty d
  join observations o on o.device_id = d.device_id and o.metric = d.metric and o.channel = d.channel
                     and o.time >= d.hour and o.time < d.hour + interval '1 hour'
 group by o.device_id, o.metric, o.channel, d.hour;

create or replace view series_daily as
with stale as (
  select distinct device_id, metric, channel, date_trunc('day', hour, 'Europe/Paris') as day from rollup_dirty
)
select r.device_id, r.metric, r.channel, r.bucket, r.n, r.sum, r.min, r.max, r.first_time, r.first_value, r.last_time, r.last_value
  from rollup_daily r
 where not exists (select 1 from stale s
                    where s.device_id = r.device_id and s.metric = r.metric and s.channel = r.channel and s.day = r.bucket)
union all
select h.device_id, h.metric, h.channel, s.day, sum(h.n)::bigint, sum(h.sum), min(h.min), max(h.max),
       min(h.first_time), (array_agg(h.first_value order by h.first_time))[1],
       max(h.last_time), (array_agg(h.last_value order by h.last_time desc))[1]
  from stale s
  join series_hourly h on h.device_id = s.device_id and h.metric = s.metric and h.channel = s.channel
                      and h.bucket >= s.day and h.bucket < s.day + interval '26 hours'
                      and date_trunc('day', h.bucket, 'Europe/Paris') = s.day
 group by h.device_id, h.metric, h.channel, s.day;
