/**
 * Inserting observation fixtures straight into the store, through the `observations` and
 * `latest_observations` views (their insert triggers resolve series and mark stale rollup hours,
 * as the ingest does).
 */
import type pg from 'pg';

export interface Row {
  device: string;
  metric: string;
  channel?: string;
  time: Date | string;
  value: number;
}

export async function insertRows(pool: pg.Pool, rows: Row[]): Promise<void> {
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
}

/** Every `stepMinutes` from `from` (inclusive) to `to` (exclusive). */
export function every(from: string, to: string, stepMinutes: number): Date[] {
  const out: Date[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += stepMinutes * 60_000) out.push(new Date(t));
  return out;
}
