-- Real-time rollups on plain PostgreSQL (what TimescaleDB's real-time aggregation does for
-- continuous aggregates): materialized buckets that are not stale, plus stale hours
-- aggregated from raw rows on the fly. rollup_dirty is small (only what the worker has not
-- reached yet), so the raw part stays cheap. Stale hours are those in rollup_dirty and those
-- listed by ingest batches the worker has not claimed yet (services/store/write-batch.ts).
create or replace view rollup_stale as
select series_id, hour from rollup_dirty
union
select u.series_id, u.hour
  from ingest_batches b, unnest(b.stale_series, b.stale_hours) as u(series_id, hour)
 where b.stale_series is not null;

-- Each branch joins `series` itself, so a filter on device, metric or channel reaches the
-- rollup tables' keys (series_id, bucket) in both branches. `series_id` comes last: a query
-- that resolves its series first (series_id = any(array(select id from series ...))) reaches
-- the key directly, whatever join order the planner picks (services/timeseries/series.ts).
create or replace view series_hourly as
select s.device_id, s.metric, s.channel, h.bucket, h.n, h.sum, h.min, h.max, h.first_time, h.first_value, h.last_time, h.last_value, h.series_id
  from rollup_hourly h
  join series s on s.id = h.series_id
 where not exists (select 1 from rollup_stale d where d.series_id = h.series_id and d.hour = h.bucket)
union all
select s.device_id, s.metric, s.channel, d.hour, count(*), sum(o.value), min(o.value), max(o.value),
       min(o.time), (array_agg(o.value order by o.time))[1], max(o.time), (array_agg(o.value order by o.time desc))[1], d.series_id
  from rollup_stale d
  join series s on s.id = d.series_id
  join observation_rows o on o.series_id = d.series_id and o.time >= d.hour and o.time < d.hour + interval '1 hour'
 group by s.device_id, s.metric, s.channel, d.hour, d.series_id;

create or replace view series_daily as
with stale as (
  select distinct series_id, date_trunc('day', hour, 'Europe/Paris') as day from rollup_stale
)
select s.device_id, s.metric, s.channel, r.bucket, r.n, r.sum, r.min, r.max, r.first_time, r.first_value, r.last_time, r.last_value, r.series_id
  from rollup_daily r
  join series s on s.id = r.series_id
 where not exists (select 1 from stale st where st.series_id = r.series_id and st.day = r.bucket)
union all
select h.device_id, h.metric, h.channel, st.day, sum(h.n)::bigint, sum(h.sum), min(h.min), max(h.max),
       min(h.first_time), (array_agg(h.first_value order by h.first_time))[1],
       max(h.last_time), (array_agg(h.last_value order by h.last_time desc))[1], st.series_id
  from stale st
  join series_hourly h on h.series_id = st.series_id
                      and h.bucket >= st.day and h.bucket < st.day + interval '26 hours'
                      and date_trunc('day', h.bucket, 'Europe/Paris') = st.day
 group by h.device_id, h.metric, h.channel, st.day, st.series_id;
