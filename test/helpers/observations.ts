/**
 * Inserting observation fixtures straight into the store, through the `observations` and
 * `latest_observations` views (their insert triggers resolve series ids), with what the ingest's
 * commit sets off in each storage mode: on plain PostgreSQL the touched hours are marked stale;
 * with TimescaleDB, rows older than the refresh-policy window get the explicit aggregate
 * refresh the timeseries module runs for late data (services/timeseries/maintenance.ts).
 */
import type pg from 'pg';
import { DEFAULT_POLICIES, refreshAggregate } from '../../services/store/timescale.ts';
import { refreshContinuousAggregates, refreshDirtyRollups } from '../../services/timeseries/rollups.ts';

export interface Row {
  device: string;
  metric: string;
  channel?: string;
  time: Date | string;
  value: number;
}

/** True when the database runs the TimescaleDB storage mode (its continuous aggregates exist). */
export async function isTimescale(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ ts: boolean }>(`select to_regclass('cagg_series_hourly') is not null as ts`);
  return rows[0]!.ts;
}

export async function insertRows(pool: pg.Pool, rows: Row[], rollupLateDays = DEFAULT_POLICIES.rollupLateDays): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const part = rows.slice(i, i + 5000);
    await pool.query(
      `insert into observations (device_id, metric, channel, time, received_at, value, quality)
       select d, m, c, t, now(), v, 0 from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::float8[]) as u(d, m, c, t, v)
       on conflict do nothing`,
      [part.map((r) => r.device), part.map((r) => r.metric), part.map((r) => r.channel ?? ''), part.map((r) => new Date(r.time).toISOString()), part.map((r) => r.value)],
    );
  }
  // latest_observations feeds the size guard and "now" views, as the ingest would (its insert
  // trigger keeps the newest value per series).
  await pool.query(
    `insert into latest_observations (device_id, metric, channel, time, received_at, value, quality)
     select distinct on (device_id, metric, channel) device_id, metric, channel, time, received_at, value, quality
       from observations where device_id = any($1) order by device_id, metric, channel, time desc`,
    [[...new Set(rows.map((r) => r.device))]],
  );
  if (await isTimescale(pool)) {
    const limit = Date.now() - rollupLateDays * 86400_000;
    let min = Infinity;
    let max = -Infinity;
    for (const r of rows) {
      const t = new Date(r.time).getTime();
      if (t >= limit) continue;
      min = Math.min(min, t);
      max = Math.max(max, t);
    }
    if (min <= max) {
      const hour = 3600_000;
      await refreshContinuousAggregates(pool, new Date(Math.floor(min / hour) * hour), new Date(Math.floor(max / hour) * hour + hour));
    }
  }
}

/**
 * Brings the rollups up to date, as the background work eventually does: the plain rollup
 * worker drains every dirty hour; with TimescaleDB, everything up to an hour ago (the policies'
 * end offset) is materialized.
 */
export async function settleRollups(pool: pg.Pool): Promise<void> {
  if (await isTimescale(pool)) {
    for (const view of ['cagg_hourly', 'cagg_daily'] as const) await refreshAggregate(pool, view, null, new Date(Date.now() - 3600_000));
    return;
  }
  while ((await refreshDirtyRollups(pool)) > 0);
}

/** Every `stepMinutes` from `from` (inclusive) to `to` (exclusive). */
export function every(from: string, to: string, stepMinutes: number): Date[] {
  const out: Date[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += stepMinutes * 60_000) out.push(new Date(t));
  return out;
}
