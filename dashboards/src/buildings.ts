/**
 * Buildings: temperature and CO2 per zone with the occupied hours as bands, comfort and air
 * quality per zone (the ICONE confinement index), energy and water per day and per week from
 * the cumulative counters, boiler state and faults. Definitions follow
 * services/timeseries/buildings.ts (the API's figures).
 */
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { frenchHolidays } from '../../services/timeseries/holidays.ts';
import { dashboard, valueMap } from './common.ts';
import { sql } from './postgres-query.ts';
import { agg, tieredSql } from './tiered.ts';
import { BUILDING_OF, ZONE_OF, building, rollups, zone } from './variables.ts';

const ZONES = `d.domain = 'buildings' and ${BUILDING_OF} in ($building) and ${ZONE_OF} in ($zone)`;
const BUILDINGS = `d.domain = 'buildings' and ${BUILDING_OF} in ($building)`;
const ZONE_LABEL = `${BUILDING_OF} || ' / ' || ${ZONE_OF}`;
const HOLIDAYS = `'{${Array.from({ length: 21 }, (_, i) => frenchHolidays(2020 + i)).flat().join(',')}}'::date[]`;

/** School timetable when no occupancy sensor says otherwise: Monday-Friday 08:00-18:00 Europe/Paris, not public holidays. */
const occupiedAt = (t: string) =>
  `(extract(isodow from ${t} at time zone 'Europe/Paris') < 6 and extract(hour from ${t} at time zone 'Europe/Paris') between 8 and 17 and not ((${t} at time zone 'Europe/Paris')::date = any(${HOLIDAYS})))`;

const timetableSql = `
  select extract(epoch from g) as "time", case when ${occupiedAt('g')} then 1 else 0 end as "occupied (timetable)"
    from generate_series(date_trunc('hour', $__timeFrom()::timestamptz), $__timeTo()::timestamptz, interval '1 hour') g
   order by 1`;

const BAND = [
  { id: 'custom.drawStyle', value: 'line' },
  { id: 'custom.lineInterpolation', value: 'stepAfter' },
  { id: 'custom.lineWidth', value: 0 },
  { id: 'custom.fillOpacity', value: 12 },
  { id: 'custom.axisPlacement', value: 'hidden' },
  { id: 'max', value: 1 },
  { id: 'min', value: 0 },
  { id: 'unit', value: 'none' },
  { id: 'color', value: { mode: 'fixed', fixedColor: 'gray' } },
];

function zoneSeries(title: string, metric: string, unit: string) {
  return new TimeseriesPanel()
    .title(title)
    .description('Grey bands: occupied hours, from the zone occupancy sensors and from the school timetable (Monday-Friday 08:00-18:00, not public holidays).')
    .unit(unit)
    .span(12)
    .height(9)
    .overrideByRegexp('^occupied', BAND)
    .withTarget(sql(tieredSql({ metrics: [metric], value: agg.avg, label: ZONE_LABEL, where: ZONES }), 'time_series', 'A'))
    .withTarget(sql(tieredSql({ metrics: ['occupancy_state'], value: agg.max, label: `'occupied ' || ${ZONE_LABEL}`, where: ZONES }), 'time_series', 'B'))
    .withTarget(sql(timetableSql, 'time_series', 'C'));
}

/**
 * Per zone over the range, occupied time from the timetable; each reading counts for one period.
 * The local time is computed once per reading and the holidays joined by hash (materialised
 * steps: an inlined flag would be re-evaluated by every FILTER clause).
 */
const comfortSql = `
  with r as materialized (
    select ${BUILDING_OF} as building, ${ZONE_OF} as zone, x.metric, x.value, x.time at time zone 'Europe/Paris' as lt
      from observations x join devices d on d.id = x.device_id
     where $__timeFilter(x.time) and x.metric in ('air_temperature', 'relative_humidity', 'co2') and ${ZONES}
  ), o as materialized (
    select r.building, r.zone, r.metric, r.value,
           (extract(isodow from r.lt) < 6 and extract(hour from r.lt) between 8 and 17 and h.day is null) as occupied
      from r left join unnest(${HOLIDAYS}) as h(day) on h.day = r.lt::date
  ), s as (
    select building, zone,
           avg(value) filter (where metric = 'air_temperature' and occupied) as temperature_occupied,
           min(value) filter (where metric = 'air_temperature') as temperature_min,
           max(value) filter (where metric = 'air_temperature') as temperature_max,
           avg(value) filter (where metric = 'relative_humidity') as humidity,
           avg(value) filter (where metric = 'co2' and occupied) as co2_occupied,
           max(value) filter (where metric = 'co2') as co2_max,
           (count(*) filter (where metric = 'co2' and occupied and value > 1000))::float8 / nullif(count(*) filter (where metric = 'co2' and occupied), 0) as a1000,
           (count(*) filter (where metric = 'co2' and occupied and value > 1700))::float8 / nullif(count(*) filter (where metric = 'co2' and occupied), 0) as a1700
      from o group by 1, 2
  )
  select building, zone, temperature_occupied, temperature_min, temperature_max, humidity, co2_occupied, co2_max,
         100 * a1000 as share_above_1000, 100 * a1700 as share_above_1700,
         round((2.5 / log(2) * log(1 + (a1000 - a1700) + 3 * a1700))::numeric, 1)::float8 as icone
    from s order by 1, 2`;

/**
 * Consumption from a cumulative counter per Europe/Paris day (or ISO week), from the daily
 * rollup: the rise inside the day (with a reset inside it: the rise before it, max - first,
 * plus the new count, last) plus the step from the previous day's last reading (a drop there is
 * a reset: the day's first reading is the count since). Never negative. dashboards.test.ts checks
 * it against GET /api/v1/buildings/consumption across a reset; a counter rollover (the `counterMax`
 * tag the API honours) reads as a reset here.
 */
function consumptionSql(metric: 'energy' | 'water_volume', period: 'day' | 'week') {
  const time = period === 'day' ? 'bucket' : `date_trunc('week', bucket at time zone 'Europe/Paris') at time zone 'Europe/Paris'`;
  return `
    with days as (
      select ${BUILDING_OF} as building, x.device_id, x.channel, x.bucket, x.first_value, x.last_value, x.max
        from \${daily} x join devices d on d.id = x.device_id
       where x.metric = '${metric}' and ${BUILDINGS}
         and x.bucket >= $__timeFrom()::timestamptz - interval '${period === 'day' ? '2 days' : '9 days'}' and x.bucket <= $__timeTo()::timestamptz
    ), deltas as (
      select building, bucket,
             case when last_value >= first_value then last_value - first_value else (max - first_value) + last_value end
             + coalesce(case when first_value >= lag(last_value) over w then first_value - lag(last_value) over w else first_value end, 0) as consumption,
             lag(last_value) over w is not null as has_previous
        from days window w as (partition by device_id, channel order by bucket)
    )
    select extract(epoch from ${time}) as "time", building as metric, sum(consumption) as value
      from deltas
     where ${period === 'day' ? '$__timeFilter(bucket)' : `${time} >= date_trunc('week', $__timeFrom()::timestamptz at time zone 'Europe/Paris') at time zone 'Europe/Paris' and bucket <= $__timeTo()::timestamptz`}
     group by 1, 2 order by 1, 2`;
}

const consumption = (title: string, metric: 'energy' | 'water_volume', period: 'day' | 'week', unit: string) =>
  new TimeseriesPanel()
    .title(title)
    .description('From the cumulative counters, per Europe/Paris day or ISO week, resets included; a counter rollover (counterMax tag) is handled by GET /api/v1/buildings/consumption only.')
    .unit(unit)
    .span(12)
    .height(8)
    .withTarget(sql(consumptionSql(metric, period)));

const ONOFF = (off: string, on: string, onColor: string) => [
  { value: 0, text: off, color: 'green' },
  { value: 1, text: on, color: onColor },
];

export function buildingsDashboard() {
  return dashboard('vigie-buildings', 'Vigie — buildings', ['buildings'])
    .variables([building(), zone(), ...rollups()])
    .withPanel(zoneSeries('Air temperature per zone (°C)', 'air_temperature', 'celsius'))
    .withPanel(zoneSeries('CO2 per zone (ppm)', 'co2', 'ppm'))
    .withPanel(
      new TablePanel()
        .title('Comfort and air quality per zone over the range')
        .description('Occupied time from the school timetable. ICONE = 8.3 log10(1 + f1 + 3 f2) (CSTB), f1 share of occupied CO2 readings in 1000-1700 ppm, f2 above 1700 ppm: 0 none to 5 extreme confinement.')
        .span(24)
        .height(8)
        .withTarget(sql(comfortSql, 'table')),
    )
    .withPanel(consumption('Energy per day (kWh)', 'energy', 'day', 'kwatth'))
    .withPanel(consumption('Energy per week (kWh)', 'energy', 'week', 'kwatth'))
    .withPanel(consumption('Water per day (m³)', 'water_volume', 'day', 'm3'))
    .withPanel(consumption('Water per week (m³)', 'water_volume', 'week', 'm3'))
    .withPanel(
      new StateTimelinePanel()
        .title('Boiler state')
        .span(12)
        .height(7)
        .mappings([valueMap(ONOFF('stopped', 'running', 'orange'))])
        .withTarget(sql(tieredSql({ metrics: ['boiler_state'], value: agg.max, label: 'd.id', where: BUILDINGS }))),
    )
    .withPanel(
      new StateTimelinePanel()
        .title('Equipment faults')
        .description('A fault at any moment of an interval marks the interval.')
        .span(12)
        .height(7)
        .mappings([valueMap(ONOFF('ok', 'fault', 'red'))])
        .withTarget(sql(tieredSql({ metrics: ['fault'], value: agg.max, label: 'd.id', where: BUILDINGS }))),
    );
}

