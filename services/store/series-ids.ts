/**
 * Series ids: (device, metric, channel) to the small integer that observation rows carry.
 * Created on first sight and cached for the life of the process (series are never deleted,
 * so a cached id never goes stale; the cache holds one entry per series the process has
 * written, a few hundred thousand at département scale).
 *
 * Misses are created in their own autocommitted statement, before and outside the batch
 * transaction: an id cached from a transaction that later rolled back would point at nothing.
 * Two processes creating the same series meet on the unique key: `on conflict do nothing`,
 * then both read the one committed row back.
 */
import type pg from 'pg';

export class SeriesIds {
  private readonly ids = new Map<string, number>();

  /** A JSON array: no character of an id (a NUL that slipped past validation included) can collide. */
  static key(deviceId: string, metric: string, channel: string): string {
    return JSON.stringify([deviceId, metric, channel]);
  }

  get size(): number {
    return this.ids.size;
  }

  /** Ids for every key (keys from `SeriesIds.key`), creating the missing series. */
  async resolve(pool: pg.Pool, keys: Iterable<string>): Promise<Map<string, number>> {
    const missing = new Set<string>();
    for (const k of keys) if (!this.ids.has(k)) missing.add(k);
    if (missing.size > 0) await this.create(pool, [...missing].sort());
    return this.ids;
  }

  private async create(pool: pg.Pool, keys: string[]): Promise<void> {
    const parts = keys.map((k) => JSON.parse(k) as [string, string, string]);
    const params = [parts.map((p) => p[0]), parts.map((p) => p[1]), parts.map((p) => p[2])];
    // Sorted keys: two processes creating overlapping sets lock the key entries in one order.
    await pool.query(
      `insert into series (device_id, metric, channel)
       select * from unnest($1::text[], $2::text[], $3::text[]) order by 1, 2, 3
       on conflict do nothing`,
      params,
    );
    const { rows } = await pool.query<{ id: number; device_id: string; metric: string; channel: string }>(
      `select s.id, s.device_id, s.metric, s.channel
         from unnest($1::text[], $2::text[], $3::text[]) as u(d, m, c)
         join series s on s.device_id = u.d and s.metric = u.m and s.channel = u.c`,
      params,
    );
    for (const r of rows) this.ids.set(SeriesIds.key(r.device_id, r.metric, r.channel), r.id);
    const missing = keys.find((k) => !this.ids.has(k));
    // Not expected (the insert either stores a key or fails): refuse the batch as content, so
    // the running sink isolates the message rather than storing rows without their series.
    if (missing) throw Object.assign(new Error(`series ${missing} could not be created`), { code: '22000' });
  }
}
