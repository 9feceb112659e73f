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

export interface SeriesKey {
  deviceId: string;
  metric: string;
  channel: string;
}

export class SeriesIds {
  /** device -> metric -> channel -> id: looked up without building a key string per observation. */
  private readonly ids = new Map<string, Map<string, Map<string, number>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The cached id, or undefined. */
  get(deviceId: string, metric: string, channel: string): number | undefined {
    return this.ids.get(deviceId)?.get(metric)?.get(channel);
  }

  /** The id of each key, in order, creating the missing series. */
  async idsOf(pool: pg.Pool, keys: readonly SeriesKey[]): Promise<number[]> {
    const out = new Array<number>(keys.length);
    let missing: SeriesKey[] | null = null;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const id = this.get(k.deviceId, k.metric, k.channel);
      if (id === undefined) (missing ??= []).push(k);
      else out[i] = id;
    }
    if (missing) {
      await this.create(pool, missing);
      for (let i = 0; i < keys.length; i++) if (out[i] === undefined) out[i] = this.get(keys[i]!.deviceId, keys[i]!.metric, keys[i]!.channel)!;
    }
    return out;
  }

  private set(deviceId: string, metric: string, channel: string, id: number): void {
    let metrics = this.ids.get(deviceId);
    if (!metrics) this.ids.set(deviceId, (metrics = new Map()));
    let channels = metrics.get(metric);
    if (!channels) metrics.set(metric, (channels = new Map()));
    if (!channels.has(channel)) this.count++;
    channels.set(channel, id);
  }

  private async create(pool: pg.Pool, keys: SeriesKey[]): Promise<void> {
    // Distinct and sorted: two processes creating overlapping sets lock the key entries in one order.
    const distinct = new Map<string, SeriesKey>();
    for (const k of keys) distinct.set(JSON.stringify([k.deviceId, k.metric, k.channel]), k);
    const parts = [...distinct.values()].sort((a, b) => cmp(a.deviceId, b.deviceId) || cmp(a.metric, b.metric) || cmp(a.channel, b.channel));
    const params = [parts.map((p) => p.deviceId), parts.map((p) => p.metric), parts.map((p) => p.channel)];
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
    for (const r of rows) this.set(r.device_id, r.metric, r.channel, r.id);
    const missing = parts.find((k) => this.get(k.deviceId, k.metric, k.channel) === undefined);
    // Not expected (the insert either stores a key or fails): refuse the batch as content, so
    // the running sink isolates the message rather than storing rows without their series.
    if (missing) throw Object.assign(new Error(`series ${JSON.stringify(missing)} could not be created`), { code: '22000' });
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
