/**
 * Building figures:
 * - consumption from cumulative counters (kWh, m³): the positive delta between consecutive
 *   readings, attributed to the bucket of the later reading, as long as the meter could have
 *   delivered it: at most its rate (tag `maxPowerKw` for energy, `maxFlowM3h` for water, else
 *   the defaults below) times the time between the readings. A negative delta is a rollover
 *   when the device has a `counterMax` tag, the previous reading was in its top 10 % and
 *   `max - previous + new` is deliverable; a reset only when the new reading is itself
 *   deliverable since zero (the counter restarted). Anything else (a jump beyond the rate, a
 *   drop that is neither) is counted as `implausible` and not summed, so one forged reading,
 *   or a simulator restarting slightly below its last value, cannot add 128,000 kWh in an
 *   hour. Never negative consumption.
 * - comfort and air quality per zone: temperature, humidity, CO2, and the share of occupied
 *   time above 1000 and 1700 ppm with the ICONE confinement index (CSTB: 8.3 x log10(1 + f1 +
 *   3 f2), f1 = share in 1000-1700 ppm, f2 = share above 1700 ppm) used for French schools.
 *   Occupied time comes from the zone's occupancy sensor, else the school timetable
 *   (Monday-Friday 08:00-18:00 local, not public holidays). Each reading stands for the time
 *   until the next one, capped at two periods (a gap is not occupied time).
 */
import type pg from 'pg';
import { METRICS } from '../../schemas/index.ts';
import { holidaysBetween } from '../../schemas/french-holidays.ts';

export type CounterMetric = 'energy' | 'water_volume';
export type ConsumptionBucket = 'hour' | 'day' | 'week' | 'month';

export interface ConsumptionResult {
  building: string;
  metric: CounterMetric;
  unit: string;
  bucket: ConsumptionBucket;
  tz: string;
  resets: number;
  rollovers: number;
  /** Steps not summed: more than the meter can deliver in the interval, or a drop that is no reset or rollover. */
  implausible: number;
  points: Array<{ time: string; consumption: number | null }>;
  devices: Array<{ deviceId: string; channel: string; consumption: number }>;
}

const WRAP_FRACTION = 0.9;
/**
 * Most a meter delivers per hour when its device declares nothing: generous for the public
 * buildings of a département (a large college draws well under 1 MW; a DN 100 water service
 * carries about 100 m³/h), yet far below a forged jump.
 */
export const DEFAULT_MAX_RATE_PER_HOUR: Record<CounterMetric, number> = { energy: 5000, water_volume: 200 };
const RATE_TAG: Record<CounterMetric, string> = { energy: 'maxPowerKw', water_volume: 'maxFlowM3h' };

export async function consumption(
  pool: pg.Pool,
  q: { building: string; metric: CounterMetric; bucket: ConsumptionBucket; from: Date; to: Date; tz: string; devices?: string[] },
): Promise<ConsumptionResult> {
  const { rows: buckets } = await pool.query<{ b: Date }>(
    `select g at time zone $3 as b
       from generate_series(date_trunc($1, $2::timestamptz, $3) at time zone $3,
                            ($4::timestamptz at time zone $3) - interval '1 microsecond', ('1 ' || $1)::interval) as g`,
    [q.bucket, q.from.toISOString(), q.tz, q.to.toISOString()],
  );
  const rangeFrom = buckets[0]?.b ?? q.from;
  const { rows: endRow } = await pool.query<{ e: Date }>(`select (($1::timestamptz at time zone $2) + ('1 ' || $3)::interval) at time zone $2 as e`, [
    (buckets[buckets.length - 1]?.b ?? q.from).toISOString(),
    q.tz,
    q.bucket,
  ]);
  const rangeTo = endRow[0]!.e;
  // Narrow rows read series by series, so the window sorts one series' times, not text keys;
  // each reading's bucket is found by binary search in the bucket starts (width_bucket), not by
  // a time-zone conversion per row.
  const starts = buckets.length > 0 ? buckets.map((b) => b.b.toISOString()) : [rangeFrom.toISOString()];
  const { rows } = await pool.query(
    `with meters as (
       select id, nullif(tags->>'counterMax', '')::float8 as counter_max,
              coalesce(nullif(tags->>$6, '')::float8, $7::float8) as max_rate
         from devices where building->>'building' = $1
          and ($8::text[] is null or id = any($8))
     ), ser as (
       select s.id, s.device_id, s.channel, m.counter_max, m.max_rate from series s join meters m on m.id = s.device_id where s.metric = $2
     ), deltas as (
       -- Per series (lateral queries on its key), the window runs over one series' readings;
       -- the last reading before the range gives the first one its opening delta.
       select ser.id as series_id, d.time, d.value,
              coalesce(d.lag_value, o.value) as prev,
              case when d.lag_value is null then o.time else d.lag_time end as prev_time
         from ser
         left join lateral (
           -- Hot rows first: sealed months (observation_values_sealed) are older than every hot
           -- partition, and their BRIN gives no order, so the sealed branch runs only when the
           -- hot one has nothing (an Append under a limit of 1 stops at the first row).
           (select p.time, p.value from observation_values p where p.series_id = ser.id and p.time < $3 order by p.time desc limit 1)
           union all
           (select p.time, p.value from observation_values_sealed p where p.series_id = ser.id and p.time < $3 order by p.time desc limit 1)
           limit 1
         ) o on true
         cross join lateral (
           select v.time, v.value, lag(v.value) over w as lag_value, lag(v.time) over w as lag_time
             from observation_rows v
            where v.series_id = ser.id and v.time >= $3 and v.time < $4
           window w as (order by v.time)
         ) d
     ), steps as (
       select d.series_id, d.time,
              -- What the meter can deliver between the two readings.
              ser.max_rate * extract(epoch from d.time - d.prev_time) / 3600.0 as allowance,
              case when d.prev is null then null
                   when d.value >= d.prev then d.value - d.prev
                   when ser.counter_max is not null and d.prev >= ${WRAP_FRACTION} * ser.counter_max then ser.counter_max - d.prev + d.value
                   else d.value end as candidate,
              case when d.prev is null or d.value >= d.prev then null
                   when ser.counter_max is not null and d.prev >= ${WRAP_FRACTION} * ser.counter_max then 'rollover'
                   else 'reset' end as kind
         from deltas d join ser on ser.id = d.series_id
     ), consumed as (
       select series_id, time,
              case when candidate <= allowance then candidate end as used,
              case when candidate > allowance then 'implausible' else kind end as event
         from steps
     )
     select ser.device_id, ser.channel, ($5::timestamptz[])[width_bucket(c.time, $5::timestamptz[])] as b, sum(c.used) as used,
            count(*) filter (where c.event = 'reset') as resets, count(*) filter (where c.event = 'rollover') as rollovers,
            count(*) filter (where c.event = 'implausible') as implausible
       from consumed c join ser on ser.id = c.series_id
      where c.used is not null or c.event = 'implausible'
      group by 1, 2, 3 order by 1, 2, 3`,
    [q.building, q.metric, rangeFrom.toISOString(), rangeTo.toISOString(), starts, RATE_TAG[q.metric], DEFAULT_MAX_RATE_PER_HOUR[q.metric], q.devices ?? null],
  );
  const byBucket = new Map<number, number>();
  const byDevice = new Map<string, { deviceId: string; channel: string; consumption: number }>();
  let resets = 0;
  let rollovers = 0;
  let implausible = 0;
  for (const r of rows) {
    implausible += Number(r.implausible);
    if (r.used === null) continue; // only implausible steps in this bucket: nothing to sum
    const used = Number(r.used);
    const t = (r.b as Date).getTime();
    byBucket.set(t, (byBucket.get(t) ?? 0) + used);
    const key = `${r.device_id}\u0000${r.channel}`;
    const d = byDevice.get(key) ?? { deviceId: r.device_id, channel: r.channel, consumption: 0 };
    d.consumption = round(d.consumption + used);
    byDevice.set(key, d);
    resets += Number(r.resets);
    rollovers += Number(r.rollovers);
  }
  return {
    building: q.building,
    metric: q.metric,
    unit: METRICS[q.metric].unit,
    bucket: q.bucket,
    tz: q.tz,
    resets,
    rollovers,
    implausible,
    points: buckets.map(({ b }) => ({ time: b.toISOString(), consumption: byBucket.has(b.getTime()) ? round(byBucket.get(b.getTime())!) : null })),
    devices: [...byDevice.values()],
  };
}

export interface ZoneComfort {
  zone: string;
  occupancySource: 'sensor' | 'schedule' | 'mixed';
  occupiedHours: number;
  temperature: { avg: number | null; min: number | null; max: number | null; occupiedAvg: number | null };
  humidityAvg: number | null;
  co2: { avg: number | null; max: number | null; occupiedAvg: number | null };
  shareAbove1000: number | null;
  shareAbove1700: number | null;
  icone: number | null;
}

/** Per zone, and the whole building first (zone `*`). */
/** `devices`: only these (domain scoping); a building none of whose devices is visible reads as unknown. */
export async function comfort(pool: pg.Pool, q: { building: string; from: Date; to: Date; devices?: string[] }): Promise<ZoneComfort[]> {
  const holidays = holidaysBetween(q.from, q.to);
  const { rows } = await pool.query(
    `with zones as (
       select id, coalesce(building->>'zone', id) as zone, coalesce(period_seconds, 300) as period
         from devices where building->>'building' = $1 and ($5::text[] is null or id = any($5))
     ), r as (
       select z.zone, z.period, o.time, o.metric, o.value
         from observations o join zones z on z.id = o.device_id
        where o.metric in ('co2', 'air_temperature', 'relative_humidity', 'occupancy_state')
          and o.time >= $2::timestamptz - interval '1 day' and o.time < $3
     ), g as (
       -- Each row joins the run started by the latest occupancy reading at or before it.
       select r.*, count(*) filter (where metric = 'occupancy_state') over (partition by zone order by time, metric <> 'occupancy_state' rows unbounded preceding) as run,
              bool_or(metric = 'occupancy_state') over (partition by zone) as has_sensor
         from r
     ), o as (
       select g.*, coalesce(extract(epoch from (lead(time) over (partition by zone, metric order by time) - time)), period) as gap,
              max(value) filter (where metric = 'occupancy_state') over (partition by zone, run) as occ_value
         from g
     ), w as (
       select zone, metric, value, has_sensor,
              least(gap, 2 * period) as weight,
              case when has_sensor then coalesce(occ_value, 0) = 1
                   else extract(isodow from time at time zone 'Europe/Paris') < 6
                        and (time at time zone 'Europe/Paris')::time >= '08:00' and (time at time zone 'Europe/Paris')::time < '18:00'
                        and not ((time at time zone 'Europe/Paris')::date = any($4::date[])) end as occupied
         from o where time >= $2 and metric <> 'occupancy_state'
     )
     select zone, bool_or(has_sensor) as has_sensor, bool_and(has_sensor) as all_sensors,
            sum(weight) filter (where metric = 'co2' and occupied) / 3600.0 as occupied_hours,
            avg(value) filter (where metric = 'air_temperature') as t_avg,
            min(value) filter (where metric = 'air_temperature') as t_min,
            max(value) filter (where metric = 'air_temperature') as t_max,
            sum(value * weight) filter (where metric = 'air_temperature' and occupied) / nullif(sum(weight) filter (where metric = 'air_temperature' and occupied), 0) as t_occ,
            avg(value) filter (where metric = 'relative_humidity') as rh_avg,
            avg(value) filter (where metric = 'co2') as co2_avg,
            max(value) filter (where metric = 'co2') as co2_max,
            sum(value * weight) filter (where metric = 'co2' and occupied) / nullif(sum(weight) filter (where metric = 'co2' and occupied), 0) as co2_occ,
            coalesce(sum(weight) filter (where metric = 'co2' and occupied and value > 1000), 0) / nullif(sum(weight) filter (where metric = 'co2' and occupied), 0) as above1000,
            coalesce(sum(weight) filter (where metric = 'co2' and occupied and value > 1700), 0) / nullif(sum(weight) filter (where metric = 'co2' and occupied), 0) as above1700
       -- One row per zone, plus the whole building (zone null) over all its zones' time.
       from w group by grouping sets ((zone), ()) order by zone nulls first`,
    [q.building, q.from.toISOString(), q.to.toISOString(), holidays, q.devices ?? null],
  );
  const n = (v: unknown) => (v === null || v === undefined ? null : round(Number(v)));
  return rows.map((r) => {
    const a1000 = r.above1000 === null ? null : Number(r.above1000);
    const a1700 = r.above1700 === null ? null : Number(r.above1700);
    const icone = a1000 === null || a1700 === null ? null : Math.round(10 * (2.5 / Math.log10(2)) * Math.log10(1 + (a1000 - a1700) + 3 * a1700)) / 10;
    return {
      zone: r.zone ?? '*',
      occupancySource: r.all_sensors ? 'sensor' : r.has_sensor ? 'mixed' : 'schedule',
      occupiedHours: n(r.occupied_hours) ?? 0,
      temperature: { avg: n(r.t_avg), min: n(r.t_min), max: n(r.t_max), occupiedAvg: n(r.t_occ) },
      humidityAvg: n(r.rh_avg),
      co2: { avg: n(r.co2_avg), max: n(r.co2_max), occupiedAvg: n(r.co2_occ) },
      shareAbove1000: a1000 === null ? null : round(100 * a1000),
      shareAbove1700: a1700 === null ? null : round(100 * a1700),
      icone,
    };
  });
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
