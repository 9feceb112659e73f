-- Re-runnable objects: re-applied whenever this file's checksum changes.
-- A convenience view for SQL users and Grafana: observations with their device's context.
create or replace view observations_with_device as
select o.time, o.device_id, d.name as device_name, d.kind, d.domain, d.site,
       o.metric, o.channel, o.value, o.quality, o.received_at
from observations o
left join devices d on d.id = o.device_id;
