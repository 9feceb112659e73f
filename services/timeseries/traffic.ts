/**
 * Traffic KPIs of a period per station, direction or lane (docs/time-series.md, "Traffic KPIs"):
 * - total and heavy (PL, > 3.5 t) counts, %PL = heavy / total;
 * - flow in veh/h = vehicles / observed hours (observed hours = distinct periods x period);
 * - mean speed weighted by the vehicles of each period, over periods that have both a speed
 *   and vehicles (a missing speed is never averaged; zero flow is "no traffic");
 * - V85 from individual vehicle records, else from light-vehicle speed-class counts
 *   (definitions and free-flow rules in services/timeseries/v85.ts); a station that reports only
 *   period mean speeds gets `v85Estimate`, flagged, never `v85Kmh`;
 * - occupancy: mean over periods;
 * - morning (05-12 h) and evening (14-21 h) peak hours: the local hour of day with the most
 *   vehicles on average over working days (all days when the period has none).
 * Yearly TMJA/TMJO are in services/timeseries/tmja.ts.
 */
import type pg from 'pg';
import { LOCAL_ZONE } from '../../schemas/time-zone.ts';
import { holidaysBetween } from '../../schemas/french-holidays.ts';
import { FREE_FLOW_MAX_OCCUPANCY, FREE_FLOW_MIN_HEADWAY_S, V85_PERCENT, v85FromClasses, type SpeedClassCount } from './v85.ts';

export { FREE_FLOW_MAX_OCCUPANCY };
export { tmja, type TmjaRow } from './tmja.ts';

export type TrafficGrouping = 'station' | 'direction' | 'lane';

export interface V85Basis {
  source: 'vehicles' | 'speedClasses';
  /** Free-flowing light vehicles the V85 rests on. */
  lightVehicles: number;
  /** Vehicles of the same input not used: heavy, following (short headway), unclassified, or counted in periods not shown to be free-flowing. */
  excludedVehicles: number;
  /** Speed classes only: the 85th percentile falls in the open top class, so V85 is at least this (and `v85Kmh` is null). */
  atLeastKmh?: number;
}

export interface V85Estimate {
  kmh: number;
  /** Always 'mean-speeds-only': the station reports period mean speeds, from which no V85 can be computed. */
  flag: 'mean-speeds-only';
  periods: number;
  vehicles: number;
}

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
  v85: V85Basis | null;
  v85Estimate: V85Estimate | null;
  occupancyPercent: number | null;
  observedHours: number;
  morningPeak: { hour: number; vehicles: number } | null;
  eveningPeak: { hour: number; vehicles: number } | null;
}

interface Group {
  cols: string;
  key: string;
  names: string[];
}

function grouping(by: TrafficGrouping): Group {
  if (by === 'lane') return { key: `p.device_id, p.channel`, cols: `p.device_id, p.channel`, names: ['device_id', 'channel'] };
  if (by === 'direction') return { key: `p.device_id, p.direction`, cols: `p.device_id, p.direction`, names: ['device_id', 'direction'] };
  return { key: `p.device_id`, cols: `p.device_id`, names: ['device_id'] };
}

/**
 * Lane to direction: the device tag `directions` ("lane1:increasing,lane2:decreasing"), else
 * the device's road direction, else "both". `lane` is the SQL expression of the lane.
 */
const directionJoin = (lane: string) => `
    left join lateral (
      select split_part(pair, ':', 2) as direction
        from unnest(string_to_array(d.tags->>'directions', ',')) as pair
       where split_part(pair, ':', 1) = ${lane}
       limit 1
    ) dir on true`;
const DIRECTION = `coalesce(dir.direction, d.road->>'direction', 'both')`;
/** $1 from, $2 to, $3 devices (null: every registered traffic counter). */
const RANGE = `o.time >= $1 and o.time < $2 and ($3::text[] is null or o.device_id = any($3))`;
const KIND = `($3::text[] is not null or d.kind = 'traffic-counter')`;

const PERIODS_SQL = `
  select o.device_id, o.channel, o.time, ${DIRECTION} as direction,
         coalesce(d.period_seconds, 360) as period_seconds,
         max(o.value) filter (where o.metric = 'vehicle_count') as c,
         max(o.value) filter (where o.metric = 'heavy_vehicle_count') as h,
         max(o.value) filter (where o.metric = 'mean_speed') as s,
         max(o.value) filter (where o.metric = 'occupancy') as occ
    from observations o
    left join devices d on d.id = o.device_id ${directionJoin('o.channel')}
   where o.metric in ('vehicle_count', 'heavy_vehicle_count', 'mean_speed', 'occupancy') and ${RANGE} and ${KIND}
   group by o.device_id, o.channel, o.time, dir.direction, d.road, d.period_seconds`;

/** One row per vehicle record: its lane, passage time, speed, headway and class. */
const VEHICLES_SQL = `
  select o.device_id, o.channel, o.time, ${DIRECTION} as direction,
         max(o.value) filter (where o.metric = 'vehicle_speed') as s,
         max(o.value) filter (where o.metric = 'vehicle_headway') as hw,
         max(o.value) filter (where o.metric = 'vehicle_heavy') as hv
    from observations o
    left join devices d on d.id = o.device_id ${directionJoin('o.channel')}
   where o.metric in ('vehicle_speed', 'vehicle_headway', 'vehicle_heavy') and ${RANGE} and ${KIND}
   group by o.device_id, o.channel, o.time, dir.direction, d.road`;

/** One row per period and speed class: lane and bounds from the channel (schemas/native-telemetry.ts), free flow from the lane's occupancy. */
const CLASSES_SQL = `
  select k.device_id, k.lane as channel, k.time, ${DIRECTION} as direction, k.lo, k.hi, k.n,
         occ.value < $4 as free
    from (select o.device_id, o.time, o.value as n,
                 substring(o.channel from '^(.*):[0-9.]+(?:-[0-9.]+|\\+)$') as lane,
                 substring(o.channel from ':([0-9.]+)(?:-[0-9.]+|\\+)$')::float8 as lo,
                 substring(o.channel from ':[0-9.]+-([0-9.]+)$')::float8 as hi
            from observations o
           where o.metric = 'light_speed_class_count' and ${RANGE}) k
    left join devices d on d.id = k.device_id ${directionJoin('k.lane')}
    left join observations occ on occ.device_id = k.device_id and occ.metric = 'occupancy' and occ.channel = k.lane and occ.time = k.time
   where k.lane is not null and ${KIND}`;

export async function trafficKpis(pool: pg.Pool, q: { from: Date; to: Date; devices?: string[]; by: TrafficGrouping }): Promise<TrafficKpiRow[]> {
  const g = grouping(q.by);
  const using = g.names.join(', ');
  const range = [q.from.toISOString(), q.to.toISOString(), q.devices ?? null];
  const base = await pool.query(
    `with p as (${PERIODS_SQL}),
    base as (
      select ${g.cols},
             coalesce(sum(c), 0) as total, coalesce(sum(h), 0) as heavy,
             count(distinct p.time) * max(p.period_seconds) / 3600.0 as hours,
             sum(c * s) filter (where c > 0 and s is not null) / nullif(sum(c) filter (where c > 0 and s is not null), 0) as speed,
             avg(occ) as occupancy
        from p group by ${g.key}
    ),
    -- Mean-speed-only estimate: 85th percentile of period mean speeds weighted by vehicles, over
    -- periods shown to be free-flowing (occupancy known and below the threshold).
    speeds as (
      select ${g.cols}, s, sum(c) over (partition by ${g.key} order by s rows unbounded preceding) as cum,
             sum(c) over (partition by ${g.key}) as tot
        from p where c > 0 and s is not null and occ < $5
    ),
    estimate as (
      select ${g.cols}, min(s) filter (where 100 * cum >= ${V85_PERCENT} * tot) as est, count(*) as est_periods, max(tot) as est_vehicles
        from speeds p group by ${g.key}
    ),
    hourly as (
      select ${g.cols}, (p.time at time zone '${LOCAL_ZONE}')::date as day, extract(hour from p.time at time zone '${LOCAL_ZONE}')::int as hour, sum(c) as n
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
    select b.*, e.est, e.est_periods, e.est_vehicles, k.morning, k.evening
      from base b
      left join estimate e using (${using})
      left join peaks k using (${using})`,
    [...range, holidaysBetween(q.from, q.to), FREE_FLOW_MAX_OCCUPANCY],
  );
  const vehicles = await pool.query(
    `with p as (
       select *, (s is not null and hv = 0 and hw >= $4) as free from (${VEHICLES_SQL}) r
     ),
     ranked as (
       select ${g.cols}, s, row_number() over (partition by ${g.key} order by s) as rn, count(*) over (partition by ${g.key}) as n
         from p where free
     ),
     v85 as (select ${g.cols}, min(s) filter (where 100 * rn >= ${V85_PERCENT} * n) as v85 from ranked p group by ${g.key})
     select ${g.cols}, count(*) as records, count(*) filter (where free) as used, v.v85
       from p left join v85 v using (${using})
      group by ${g.key}, v.v85`,
    [...range, FREE_FLOW_MIN_HEADWAY_S],
  );
  const classes = await pool.query(
    `select ${g.cols}, p.lo, p.hi, coalesce(sum(p.n) filter (where p.free), 0) as used, sum(p.n) as counted
       from (${CLASSES_SQL}) p group by ${g.key}, p.lo, p.hi`,
    [...range, FREE_FLOW_MAX_OCCUPANCY],
  );

  const keyOf = (r: Record<string, unknown>) => JSON.stringify(g.names.map((n) => r[n] ?? null));
  const rows = new Map<string, TrafficKpiRow>();
  const row = (r: Record<string, unknown>): TrafficKpiRow => {
    const key = keyOf(r);
    let out = rows.get(key);
    if (!out) {
      out = {
        deviceId: r.device_id as string,
        ...(q.by === 'direction' ? { direction: r.direction as string } : {}),
        ...(q.by === 'lane' ? { channel: r.channel as string } : {}),
        totalCount: 0,
        heavyCount: 0,
        heavySharePercent: null,
        flowVehPerHour: null,
        meanSpeedKmh: null,
        v85Kmh: null,
        v85: null,
        v85Estimate: null,
        occupancyPercent: null,
        observedHours: 0,
        morningPeak: null,
        eveningPeak: null,
      };
      rows.set(key, out);
    }
    return out;
  };
  const peak = (a: number[][] | null) => (a && a[0] ? { hour: Number(a[0][0]), vehicles: round(Number(a[0][1])) } : null);
  const estimates = new Map<string, V85Estimate>();
  for (const r of base.rows) {
    const out = row(r);
    const total = Number(r.total);
    const heavy = Number(r.heavy);
    const hours = Number(r.hours);
    Object.assign(out, {
      totalCount: total,
      heavyCount: heavy,
      heavySharePercent: total > 0 ? round((100 * heavy) / total) : null,
      flowVehPerHour: hours > 0 ? round(total / hours) : null,
      meanSpeedKmh: r.speed === null ? null : round(Number(r.speed)),
      occupancyPercent: r.occupancy === null ? null : round(Number(r.occupancy)),
      observedHours: round(hours),
      morningPeak: peak(r.morning),
      eveningPeak: peak(r.evening),
    });
    if (r.est !== null && r.est !== undefined) {
      estimates.set(keyOf(r), { kmh: round(Number(r.est)), flag: 'mean-speeds-only', periods: Number(r.est_periods), vehicles: Number(r.est_vehicles) });
    }
  }
  for (const r of vehicles.rows) {
    const out = row(r);
    const used = Number(r.used);
    out.v85Kmh = r.v85 === null ? null : round(Number(r.v85));
    out.v85 = { source: 'vehicles', lightVehicles: used, excludedVehicles: Number(r.records) - used };
  }
  const byGroup = new Map<string, { r: Record<string, unknown>; classes: SpeedClassCount[]; counted: number }>();
  for (const r of classes.rows) {
    const key = keyOf(r);
    const entry = byGroup.get(key) ?? { r, classes: [] as SpeedClassCount[], counted: 0 };
    entry.classes.push({ from: Number(r.lo), to: r.hi === null ? null : Number(r.hi), count: Number(r.used) });
    entry.counted += Number(r.counted);
    byGroup.set(key, entry);
  }
  for (const { r, classes: cls, counted } of byGroup.values()) {
    const out = row(r);
    if (out.v85) continue; // individual records are exact: they win over classes
    const used = cls.reduce((s, c) => s + c.count, 0);
    const v = v85FromClasses(cls);
    out.v85Kmh = v?.kmh === null || v === null ? null : round(v.kmh);
    out.v85 = { source: 'speedClasses', lightVehicles: used, excludedVehicles: counted - used, ...(v?.atLeastKmh !== undefined ? { atLeastKmh: v.atLeastKmh } : {}) };
  }
  for (const [key, est] of estimates) {
    const out = rows.get(key)!;
    if (!out.v85) out.v85Estimate = est;
  }
  return [...rows.values()].sort((a, b) => compare(a.deviceId, b.deviceId) || compare(a.direction ?? a.channel ?? '', b.direction ?? b.channel ?? ''));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
