/**
 * The instant ice-risk level of each road-weather station in SQL, the same rules as
 * services/roads/ice-risk.ts (`assessIceRisk`, default thresholds: 2 °C pre-alert margin,
 * falling faster than -0.5 °C/h, stale after two periods) on the same inputs as
 * services/timeseries/roads.ts (latest values; trend = regression slope of the surface
 * temperature over the hour before its last reading). The NTCIP 1204 essSurfaceStatus roles
 * come from the same table (`SURFACE_STATE_ROLE`); dashboards.test.ts checks both agree.
 * Levels: -1 unknown, 0 none, 1 pre-alert, 2 frost, 3 snow, 4 ice.
 */
import { DEFAULT_ICE_RISK_OPTIONS, MOISTURE_STATES, SURFACE_STATE_ROLE } from '../../services/roads/ice-risk.ts';
import { ROUTE_OF } from './variables.ts';

export const ICE_LEVELS: Array<{ value: number; text: string; color: string }> = [
  { value: -1, text: 'unknown', color: 'text' },
  { value: 0, text: 'none', color: 'green' },
  { value: 1, text: 'pre-alert', color: 'yellow' },
  { value: 2, text: 'frost', color: 'orange' },
  { value: 3, text: 'snow', color: 'purple' },
  { value: 4, text: 'ice', color: 'red' },
];

const { preAlertMarginC, fallingThresholdPerHour, stalePeriods } = DEFAULT_ICE_RISK_OPTIONS;
const ROLE = `case s.state::int ${Object.entries(SURFACE_STATE_ROLE)
  .map(([code, role]) => `when ${code} then '${role}'`)
  .join(' ')} end`;

export const iceRiskSql = `
  with s as (
    select d.id, coalesce(d.name, d.id) as name, ${ROUTE_OF} as route, d.lat, d.lon, coalesce(d.period_seconds, 360) as period,
           max(l.value) filter (where l.metric = 'surface_temperature') as surface,
           max(l.time) filter (where l.metric = 'surface_temperature') as surface_time,
           max(l.value) filter (where l.metric = 'freezing_point') as freezing,
           max(l.value) filter (where l.metric = 'dew_point') as dew,
           max(l.value) filter (where l.metric = 'surface_state') as state,
           max(l.time) filter (where l.metric = 'surface_state') as state_time,
           max(l.value) filter (where l.metric = 'water_film') as film,
           max(l.value) filter (where l.metric = 'precipitation_rate') as precip
      from devices d left join latest_observations l on l.device_id = d.id and l.channel = ''
     where d.kind = 'road-weather-station' and d.id in ($station)
     group by d.id
  ), r as (
    select s.*,
           ${ROLE} as role,
           round((s.surface - coalesce(s.freezing, 0))::numeric, 2) as margin,
           (coalesce(s.state in (${MOISTURE_STATES.join(', ')}), false) or coalesce(s.film > 0, false) or coalesce(s.precip > 0, false)) as moist,
           extract(epoch from now() - coalesce(s.surface_time, s.state_time)) > ${stalePeriods} * s.period as stale,
           round(((select regr_slope(o.value, extract(epoch from o.time)) * 3600
                     from observations o
                    where o.device_id = s.id and o.metric = 'surface_temperature' and o.channel = ''
                      and o.time > s.surface_time - interval '1 hour' and o.time <= s.surface_time))::numeric, 2) as trend
      from s
  )
  select r.id as station, r.name, r.route, r.lat as latitude, r.lon as longitude,
         r.surface, r.freezing, r.dew, r.state as surface_state, r.margin::float8 as margin, r.trend::float8 as trend_per_hour,
         case
           when coalesce(r.stale, false) then -1
           when r.surface is null then case r.role when 'ice' then 4 when 'snow' then 3 when 'frost' then 2 else -1 end
           when r.margin <= 0 and r.moist then 4
           when r.role = 'ice' then 4
           when r.role = 'snow' then 3
           when r.role = 'frost' then 2
           when r.surface <= 0 and r.dew is not null and r.surface <= r.dew then 2
           when r.role = 'dew' and r.surface <= 0 then 2
           when r.moist and r.margin <= ${preAlertMarginC} and r.trend <= ${fallingThresholdPerHour} then 1
           when r.role = 'watch' then 1
           else 0
         end as ice_risk,
         coalesce(r.surface_time, r.state_time) as "time"
    from r
   order by ice_risk desc, r.id`;
