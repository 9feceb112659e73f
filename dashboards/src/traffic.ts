/**
 * Traffic: flow, speed and occupancy per station and lane (with the direction of the
 * station), heavy-vehicle share, V85, TMJA/TMJO per station, and a map of traffic states.
 * Definitions follow services/timeseries/traffic.ts (the API's KPIs).
 */
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { frenchHolidays } from '../../services/timeseries/holidays.ts';
import { FREE_FLOW_MAX_OCCUPANCY, V85_PERCENT } from '../../services/timeseries/v85.ts';
import { dashboard } from './common.ts';
import { stationsMap } from './geomap.ts';
import { sql } from './postgres-query.ts';
import { agg, tieredSql, type Tier } from './tiered.ts';
import { ROUTE_OF, rollups, route, station } from './variables.ts';

const STATIONS = `d.kind = 'traffic-counter' and d.id in ($station)`;
const LANE = `d.id || case when x.channel <> '' then ' ' || x.channel else '' end || coalesce(' (' || (d.road->>'direction') || ')', '')`;

/** French public holidays (services/timeseries/holidays.ts) over the years a dashboard can reasonably show. */
const HOLIDAYS = `'{${Array.from({ length: 21 }, (_, i) => frenchHolidays(2020 + i)).flat().join(',')}}'::date[]`;

export const TRAFFIC_STATES = [
  { value: -1, text: 'unknown', color: 'text' },
  { value: 0, text: 'free flow', color: 'green' },
  { value: 1, text: `congested (occupancy > ${FREE_FLOW_MAX_OCCUPANCY} %)`, color: 'red' },
];

const heavyShare = (t: Tier) => {
  const v = t === 'raw' ? 'x.value' : 'x.sum';
  return `100 * sum(${v}) filter (where x.metric = 'heavy_vehicle_count') / nullif(sum(${v}) filter (where x.metric = 'vehicle_count'), 0)`;
};

const trafficStateSql = `
  select d.id as station, coalesce(d.name, d.id) as name, ${ROUTE_OF} as route, d.road->>'direction' as direction,
         d.lat as latitude, d.lon as longitude,
         max(l.value) filter (where l.metric = 'occupancy') as occupancy,
         max(l.value) filter (where l.metric = 'mean_speed') as mean_speed,
         case
           when max(l.time) filter (where l.metric = 'occupancy') is null then -1
           when max(l.time) filter (where l.metric = 'occupancy') < now() - 2 * coalesce(d.period_seconds, 360) * interval '1 second' then -1
           when max(l.value) filter (where l.metric = 'occupancy') > ${FREE_FLOW_MAX_OCCUPANCY} then 1
           else 0
         end as traffic_state
    from devices d left join latest_observations l on l.device_id = d.id
   where ${STATIONS}
   group by d.id
   order by d.id`;

/** Raw periods are read: the panel covers at most the last days of the range. */
const V85_MAX_DAYS = 7;

/**
 * The API's mean-speed-only V85 estimate (services/timeseries/traffic.ts, flagged `mean-speeds-only`
 * there): the 85th percentile of period mean speeds weighted by their vehicles, over periods
 * shown to be free-flowing (occupancy known and below the threshold). The V85 proper, from vehicle
 * records or speed classes, is GET /api/v1/traffic/stations.
 */
const v85Sql = `
  with p as (
    select x.device_id, x.channel, x.time,
           max(x.value) filter (where x.metric = 'vehicle_count') as c,
           max(x.value) filter (where x.metric = 'mean_speed') as s,
           max(x.value) filter (where x.metric = 'occupancy') as occ
      from observations x join devices d on d.id = x.device_id
     where $__timeFilter(x.time) and x.time >= $__timeTo()::timestamptz - interval '${V85_MAX_DAYS} days'
       and x.metric in ('vehicle_count', 'mean_speed', 'occupancy') and ${STATIONS}
     group by 1, 2, 3
  ), speeds as (
    select device_id, s, c, sum(c) over (partition by device_id order by s rows unbounded preceding) as cum,
           sum(c) over (partition by device_id) as tot
      from p where c > 0 and s is not null and occ < ${FREE_FLOW_MAX_OCCUPANCY}
  )
  select device_id as station, min(s) filter (where 100 * cum >= ${V85_PERCENT} * tot) as v85_estimate,
         sum(s * c) / nullif(sum(c), 0) as mean_speed
    from speeds group by 1 order by 1`;

/** Daily counts from the daily rollup (Europe/Paris days): mean daily flow (the TMJA when the range is a calendar year), TMJO over working days. */
const dailySql = `
  with days as (
    select x.device_id, (x.bucket at time zone 'Europe/Paris')::date as day,
           sum(x.sum) filter (where x.metric = 'vehicle_count') as n,
           sum(x.sum) filter (where x.metric = 'heavy_vehicle_count') as heavy
      from \${daily} x join devices d on d.id = x.device_id
     where $__timeFilter(x.bucket) and x.metric in ('vehicle_count', 'heavy_vehicle_count') and ${STATIONS}
     group by 1, 2
  )
  select device_id as station, sum(n) as vehicles, count(*) filter (where n is not null) as days_with_data,
         avg(n) as mean_daily, avg(n) filter (where extract(isodow from day) < 6 and not (day = any(${HOLIDAYS}))) as tmjo,
         100 * sum(heavy) / nullif(sum(n), 0) as heavy_share
    from days group by 1 order by 1`;

export function trafficDashboard() {
  return dashboard('vigie-traffic', 'Vigie — traffic', ['roads', 'traffic'])
    .variables([route(), station('traffic-counter'), ...rollups()])
    .withPanel(
      new TimeseriesPanel()
        .title('Flow per lane (veh/h)')
        .unit('veh/h')
        .span(24)
        .height(9)
        .withTarget(sql(tieredSql({ metrics: ['vehicle_count'], value: agg.perHour, label: LANE, where: STATIONS }))),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Mean speed per lane (km/h)')
        .description('Mean of the period mean speeds reported by the station.')
        .unit('velocitykmh')
        .span(12)
        .height(8)
        .withTarget(sql(tieredSql({ metrics: ['mean_speed'], value: agg.avg, label: LANE, where: STATIONS }))),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Occupancy per lane (%)')
        .unit('percent')
        .span(12)
        .height(8)
        .withTarget(sql(tieredSql({ metrics: ['occupancy'], value: agg.avg, label: LANE, where: STATIONS }))),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Heavy-vehicle share (% PL, > 3.5 t)')
        .unit('percent')
        .span(12)
        .height(8)
        .withTarget(sql(tieredSql({ metrics: ['vehicle_count', 'heavy_vehicle_count'], value: heavyShare, label: 'd.id', where: STATIONS }))),
    )
    .withPanel(stationsMap('Stations by traffic state (now)', trafficStateSql, 'traffic_state', TRAFFIC_STATES).span(12).height(8))
    .withPanel(
      new TablePanel()
        .title(`V85 estimate per station (km/h; the range's last ${V85_MAX_DAYS} days at most)`)
        .description(`Estimate from period mean speeds (the API flags it mean-speeds-only): their 85th percentile weighted by vehicles, over periods with a known occupancy below ${FREE_FLOW_MAX_OCCUPANCY} %. The V85 proper needs vehicle records or speed classes: GET /api/v1/traffic/stations. Reads raw periods, so it covers at most the last ${V85_MAX_DAYS} days of the range.`)
        .unit('velocitykmh')
        .span(12)
        .height(8)
        .withTarget(sql(v85Sql, 'table')),
    )
    .withPanel(
      new TablePanel()
        .title('Daily traffic per station: TMJA / TMJO (veh/day)')
        .description('mean_daily is the TMJA when the range is a calendar year (Europe/Paris days); tmjo is the mean over working days (Monday to Friday, not French public holidays).')
        .span(12)
        .height(8)
        .withTarget(sql(dailySql, 'table')),
    );
}
