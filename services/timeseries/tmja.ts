/**
 * TMJA (trafic moyen journalier annuel: annual average daily traffic, all lanes, both
 * directions) and TMJO (the same over working days) of a calendar year, from the daily rollups
 * (rollup_daily / cagg_daily: one row per station, lane and Europe/Paris day, with `n`, the
 * number of periods reported, and `sum`, the vehicles).
 *
 * Both are means over COMPLETE days only, never a yearly total / 365, so a station commissioned
 * in July or down for a week is not counted as carrying no traffic:
 * - a complete day is a Europe/Paris calendar day (23 hours on the spring DST change, 25 on the
 *   autumn one) on which EVERY lane of the station reported every period: n x period >= the
 *   day's length, for each lane (channel) the station reported `vehicle_count` on in that year;
 * - working days are Monday to Friday except French public holidays (services/timeseries/holidays.ts);
 * - the answer gives the days used (`completeDays`, `completeWorkingDays`), the coverage
 *   (complete days / days in the year) and a `status`: `complete` (every day complete), `partial`
 *   (TMJA given, flagged: fewer complete days, possibly of one season only), `insufficient`
 *   (fewer than TMJA_MIN_COMPLETE_DAYS complete days: TMJA and TMJO are null, refused).
 */
import type pg from 'pg';
import { LOCAL_ZONE } from '../../schemas/time-zone.ts';
import { holidaysBetween } from '../../schemas/french-holidays.ts';
import { rollupRelation } from './series.ts';

/**
 * Fewer complete days than this and no TMJA is given: about a quarter of a year (a Vigie
 * default, not a standard's figure; a mean of fewer days says more about the season than the year).
 */
export const TMJA_MIN_COMPLETE_DAYS = 90;

export type TmjaStatus = 'complete' | 'partial' | 'insufficient';

export interface TmjaRow {
  deviceId: string;
  year: number;
  /** Vehicles counted over the year, every day (complete or not). */
  totalCount: number;
  daysInYear: number;
  /** Days with at least one period reported. */
  daysWithData: number;
  completeDays: number;
  workingDaysInYear: number;
  completeWorkingDays: number;
  /** completeDays / daysInYear, 0..1. */
  coverage: number;
  /** Lanes (channels) that must all be complete for a day to count. */
  lanes: number;
  status: TmjaStatus;
  tmja: number | null;
  tmjo: number | null;
}

export async function tmja(pool: pg.Pool, timescale: boolean, q: { year: number; devices?: string[] }): Promise<TmjaRow[]> {
  const from = `${q.year}-01-01`;
  const to = `${q.year + 1}-01-01`;
  const holidays = holidaysBetween(new Date(`${from}T00:00:00Z`), new Date(`${to}T00:00:00Z`));
  const { rows } = await pool.query(
    `with lane_days as (
       select r.device_id, r.channel, (r.bucket at time zone '${LOCAL_ZONE}')::date as day, r.n, r.sum,
              extract(epoch from ((((r.bucket at time zone '${LOCAL_ZONE}') + interval '1 day') at time zone '${LOCAL_ZONE}') - r.bucket)) as seconds
         from ${rollupRelation('daily', timescale)} r
        where r.metric = 'vehicle_count'
          and r.bucket >= ($1::timestamp at time zone '${LOCAL_ZONE}') and r.bucket < ($2::timestamp at time zone '${LOCAL_ZONE}')
          and ($4::text[] is null or r.device_id = any($4))
          -- Resolved first, the series reach the rollups' (series_id, bucket) keys.
          and r.series_id = any(array(select id from series where metric = 'vehicle_count' and ($4::text[] is null or device_id = any($4))))
     ),
     stations as (
       select l.device_id, count(distinct l.channel) as lanes, coalesce(max(d.period_seconds), 360) as period
         from lane_days l left join devices d on d.id = l.device_id
        where $4::text[] is not null or d.kind = 'traffic-counter'
        group by l.device_id
     ),
     days as (
       select l.device_id, l.day, sum(l.sum) as vehicles,
              count(*) filter (where l.n * s.period >= l.seconds) = max(s.lanes) as complete,
              extract(isodow from l.day) < 6 and not (l.day = any($3::date[])) as working
         from lane_days l join stations s using (device_id)
        group by l.device_id, l.day
     )
     select d.device_id, s.lanes, sum(d.vehicles) as total, count(*) as days,
            count(*) filter (where d.complete) as complete_days,
            avg(d.vehicles) filter (where d.complete) as tmja,
            count(*) filter (where d.complete and d.working) as complete_working,
            avg(d.vehicles) filter (where d.complete and d.working) as tmjo
       from days d join stations s using (device_id)
      group by d.device_id, s.lanes order by d.device_id`,
    [from, to, holidays, q.devices ?? null],
  );
  const daysInYear = (Date.UTC(q.year + 1, 0, 1) - Date.UTC(q.year, 0, 1)) / 86400_000;
  const workingDaysInYear = countWorkingDays(q.year, new Set(holidays));
  return rows.map((r) => {
    const completeDays = Number(r.complete_days);
    const status: TmjaStatus = completeDays >= daysInYear ? 'complete' : completeDays >= TMJA_MIN_COMPLETE_DAYS ? 'partial' : 'insufficient';
    const refused = status === 'insufficient';
    return {
      deviceId: r.device_id,
      year: q.year,
      totalCount: Number(r.total),
      daysInYear,
      daysWithData: Number(r.days),
      completeDays,
      workingDaysInYear,
      completeWorkingDays: Number(r.complete_working),
      coverage: Math.round((completeDays / daysInYear) * 10000) / 10000,
      lanes: Number(r.lanes),
      status,
      tmja: refused || r.tmja === null ? null : round(Number(r.tmja)),
      tmjo: refused || r.tmjo === null ? null : round(Number(r.tmjo)),
    };
  });
}

function countWorkingDays(year: number, holidays: Set<string>): number {
  let n = 0;
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86400_000) {
    const d = new Date(t);
    const dow = d.getUTCDay();
    if (dow !== 0 && dow !== 6 && !holidays.has(d.toISOString().slice(0, 10))) n++;
  }
  return n;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
