-- Re-runnable objects: re-applied whenever this file's checksum changes.
-- A convenience view for SQL users and Grafana: observations with their device's context.
create or replace view observations_with_device as
select v.time, s.device_id, d.name as device_name, d.kind, d.domain, d.site,
       s.metric, s.channel, v.value, coalesce(v.quality, 0)::smallint as quality, b.received_at
from observation_rows v
join series s on s.id = v.series_id
left join ingest_batches b on b.id = v.batch_id
left join devices d on d.id = s.device_id;
