/**
 * Traffic KPIs from per-period lane counts (DOMAIN.md, "Traffic counting stations"):
 * - total and heavy (PL, > 3.5 t) counts, %PL = heavy / total;
 * - flow in veh/h = vehicles / observed hours (observed hours = distinct periods x period);
 * - mean speed weighted by the vehicles of each period, over periods that have both a speed
 *   and vehicles (a missing speed is never averaged; zero flow is "no traffic");
 * - V85: stations report period mean speeds, not each vehicle, so V85 is estimated as the
 *   85th percentile of period mean speeds weighted by their vehicle counts, over free-flowing
 *   periods (occupancy below VIGIE congestion threshold, 15 %, DOMAIN.md);
 * - occupancy: mean over periods;
 * - morning (05-12 h) and evening (14-21 h) peak hours: the local hour of day with the most
 *   vehicles on average over working days (all days when the period has none);
 * - TMJA = yearly count / days in the year (both directions); TMJO = mean daily count over
 *   working days (Monday-Friday, not public holidays) with data.
 * Days are Europe/Paris calendar days (23/25-hour DST days included).
 */
import type pg from 'pg';
import { rollupRelation } from './series.ts';
import { holidaysBetween } from './holidays.ts';

export type TrafficGrouping = 'station' | 'direction' | 'lane';

/** Free-flow guard for V85 (DOMAIN.md: congestion needs occupancy > 15-20 %). */
export const FREE_FLOW_MAX_OCCUPANCY = 15;
const TZ = 'Europe/Paris';

export interface TrafficKpiRow {
  deviceId: string;
  direction?: string;
  channel?: string;
  totalCount: number;
  heavyCount: number;
  heavySharePercent: number | null;
  flowVehPerHour: number | null;
  meanSpeedKmh: number | null;
  v85Kmh: number | null;
  occupancyPercent: number | null;
  observedHours: number;
  morningPeak: { hour: number; vehicles: number } | null;
  eveningPeak: { hour: number; vehicles: number } | null;
}

function groupExprs(by: TrafficGrouping): { key: string; cols: string } {
  if (by === 'lane') return { key: `p.device_id, p.channel`, cols: `p.device_id, p.channel` };
  if (by === 'direction') return { key: `p.device_id, p.direction`, cols: `p.device_id, p.direction` };
  return { key: `p.device_id`, cols: `p.device_id` };
}

/**
 * Lane to direction: the device tag `directions` ("lane1:increasing,lane2:decreasing"), else
 * the device's road direction, else "both".
 */
const PERIODS_SQL = `
  select o.device_id, o.channel, o.time,
         coalesce(dir.direction, d.road->>'direction', 'both') as direction,
         coalesce(d.period_seconds, 360) as period_seconds,
         max(o.value) filter (where o.metric = 'vehicle_count') as c,
         max(o.value) filter (where o.metric = 'heavy_vehicle_count') as h,
         max(o.value) filter (where o.metric = 'mean_speed') as s,
         max(o.value) filter (where o.metric = 'occupancy') as occ
    from observations o
    left join devices d on d.id = o.device_id
    left join lateral (
      select split_part(pair, ':', 2) as direction
        from unnest(string_to_array(d.tags->>'directions', ',')) as pair
       where split_part(pair, ':', 1) = o.channel
       limit 1
    ) dir on true
   where o.metric in ('vehicle_count', 'heavy_vehicle_count', 'mean_speed', 'occupancy')
     and o.time >= $1 and o.time < $2 and ($3::text[] is null or o.device_id = any($3))
     and ($3::text[] is not null or d.kind = 'traffic-counter')
   group by o.device_id, o.channel, o.time, dir.direction, d.road, d.period_seconds`;

export async function trafficKpis(pool: pg.Pool, q: { from: Date; to: Date; devices?: string[]; by: TrafficGrouping }): Promise<TrafficKpiRow[]> {
  const g = groupExprs(q.by);
  const holidays = holidaysBetween(q.from, q.to);
  const sql = `
    with p as (${PERIODS_SQL}),
    base as (
      select ${g.cols},
             coalesce(sum(c), 0) as total, coalesce(sum(h), 0) as heavy,
             count(distinct p.time) * max(p.period_seconds) / 3600.0 as hours,
             sum(c * s) filter (where c > 0 and s is not null) / nullif(sum(c) filter (where c > 0 and s is not null), 0) as speed,
             avg(occ) as occupancy
        from p group by ${g.key}
    ),
    speeds as (
      select ${g.cols}, s, sum(c) over (partition by ${g.key} order by s rows unbounded preceding) as cum,
             sum(c) over (partition by ${g.key}) as tot
        from p where c > 0 and s is not null and coalesce(occ, 0) < ${FREE_FLOW_MAX_OCCUPANCY}
    ),
    v85 as (select ${g.cols}, min(s) filter (where cum >= 0.85 * tot) as v85 from speeds p group by ${g.key}),
    hourly as (
      select ${g.cols}, (p.time at time zone '${TZ}')::date as day, extract(hour from p.time at time zone '${TZ}')::int as hour, sum(c) as n
        from p where c is not null group by ${g.key}, day, hour
    ),
    typed as (
      select *, (extract(isodow from day) < 6 and not (day = any($4::date[]))) as working from hourly p
    ),
    profile as (
      select ${g.cols}, hour, avg(n) as vehicles
        from typed p
       where working or not exists (select 1 from typed w where w.working)
       group by ${g.key}, hour
    ),
    peaks as (
      select ${g.cols},
             (array_agg(array[hour, vehicles] order by vehicles desc, hour) filter (where hour >= 5 and hour < 12))[1:1] as morning,
             (array_agg(array[hour, vehicles] order by vehicles desc, hour) filter (where hour >= 14 and hour < 21))[1:1] as evening
        from profile p group by ${g.key}
    )
    select b.*, v.v85, k.morning, k.evening
      from base b
      left join v85 v using (${g.cols.replace(/p\./g, '')})
      left join peaks k using (${g.cols.replace(/p\./g, '')})
     order by ${g.cols.replace(/p\./g, 'b.')}`;
  const { rows } = await pool.query(sql, [q.from.toISOString(), q.to.toISOString(), q.devices ?? null, holidays]);
  const peak = (a: number[][] | null) => (a && a[0] ? { hour: Number(a[0][0]), vehicles: round(Number(a[0][1])) } : null);
  return rows.map((r) => {
    const total = Number(r.total);
    const heavy = Number(r.heavy);
    const hours = Number(r.hours);
    return {
      deviceId: r.device_id,
      ...(q.by === 'direction' ? { direction: r.direction } : {}),
      ...(q.by === 'lane' ? { channel: r.channel } : {}),
      totalCount: total,
      heavyCount: heavy,
      heavySharePercent: total > 0 ? round((100 * heavy) / total) : null,
      flowVehPerHour: hours > 0 ? round(total / hours) : null,
      meanSpeedKmh: r.speed === null ? null : round(Number(r.speed)),
      v85Kmh: r.v85 === null || r.v85 === undefined ? null : round(Number(r.v85)),
      occupancyPercent: r.occupancy === null ? null : round(Number(r.occupancy)),
      observedHours: round(hours),
      morningPeak: peak(r.morning),
      eveningPeak: peak(r.evening),
    };
  });
}

export interface TmjaRow {
  deviceId: string;
  year: number;
  totalCount: number;
  daysInYear: number;
  daysWithData: number;
  tmja: number;
  tmjo: number | null;
  workingDaysWithData: number;
}

/** TMJA/TMJO of a calendar year, from the daily rollups (one row per station and day). */
export async function tmja(pool: pg.Pool, timescale: boolean, q: { year: number; devices?: string[] }): Promise<TmjaRow[]> {
  const from = `${q.year}-01-01`;
  const to = `${q.year + 1}-01-01`;
  const holidays = holidaysBetween(new Date(`${from}T00:00:00Z`), new Date(`${to}T00:00:00Z`));
  const { rows } = await pool.query(
    `with days as (
       select r.device_id, (r.bucket at time zone '${TZ}')::date as day, sum(r.sum) as n
         from ${rollupRelation('daily', timescale)} r
         ${q.devices ? '' : `join devices d on d.id = r.device_id and d.kind = 'traffic-counter'`}
        where r.metric = 'vehicle_count'
          and r.bucket >= ($1::timestamp at time zone '${TZ}') and r.bucket < ($2::timestamp at time zone '${TZ}')
          ${q.devices ? 'and r.device_id = any($4)' : ''}
        group by 1, 2
     )
     select device_id, sum(n) as total, count(*) as days,
            avg(n) filter (where extract(isodow from day) < 6 and not (day = any($3::date[]))) as tmjo,
            count(*) filter (where extract(isodow from day) < 6 and not (day = any($3::date[]))) as working
       from days group by device_id order by device_id`,
    q.devices ? [from, to, holidays, q.devices] : [from, to, holidays],
  );
  const daysInYear = (Date.UTC(q.year + 1, 0, 1) - Date.UTC(q.year, 0, 1)) / 86400_000;
  return rows.map((r) => ({
    deviceId: r.device_id,
    year: q.year,
    totalCount: Number(r.total),
    daysInYear,
    daysWithData: Number(r.days),
    tmja: round(Number(r.total) / daysInYear),
    tmjo: r.tmjo === null ? null : round(Number(r.tmjo)),
    workingDaysWithData: Number(r.working),
  }));
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
