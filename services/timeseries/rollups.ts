/**
 * The plain-PostgreSQL rollup worker's SQL: recompute the stale hours recorded in
 * rollup_dirty from raw rows (so late and redelivered data lands in the right bucket), then the
 * Europe/Paris days that hold them from the hourly rollups. Each pass is one transaction that
 * claims its keys with `for update skip locked`, so several Vigie processes share the work and
 * a crash leaves the keys stale, never lost.
 */
import type pg from 'pg';
import { refreshAggregate } from '../store/timescale.ts';
import { withTransaction } from '../store/transaction.ts';

export async function refreshDirtyRollups(pool: pg.Pool, limit = 5000): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ device_id: string; metric: string; channel: string; hour: Date }>(
      `select device_id, metric, channel, hour from rollup_dirty order by hour limit $1 for update skip locked`,
      [limit],
    );
    if (rows.length === 0) {
      return 0;
    }
    const keys = [rows.map((r) => r.device_id), rows.map((r) => r.metric), rows.map((r) => r.channel), rows.map((r) => r.hour.toISOString())];
    await client.query(
      `create temp table if not exists vigie_rollup_keys (device_id text, metric text, channel text, hour timestamptz) on commit delete rows`,
    );
    await client.query(`insert into vigie_rollup_keys select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])`, keys);
    // Hours that lost all their rows (retention) disappear; the others are replaced.
    await client.query(
      `delete from rollup_hourly h using vigie_rollup_keys k
        where h.device_id = k.device_id and h.metric = k.metric and h.channel = k.channel and h.bucket = k.hour`,
    );
    await client.query(
      `insert into rollup_hourly
       select o.device_id, o.metric, o.channel, k.hour, count(*), sum(o.value), min(o.value), max(o.value),
              min(o.time), (array_agg(o.value order by o.time))[1], max(o.time), (array_agg(o.value order by o.time desc))[1]
         from vigie_rollup_keys k
         join observations o on o.device_id = k.device_id and o.metric = k.metric and o.channel = k.channel
                            and o.time >= k.hour and o.time < k.hour + interval '1 hour'
        group by o.device_id, o.metric, o.channel, k.hour`,
    );
    // Data-modifying CTEs share one snapshot (an insert would not see the delete): two statements.
    await client.query(
      `create temp table if not exists vigie_rollup_days (device_id text, metric text, channel text, day timestamptz) on commit delete rows`,
    );
    await client.query(
      `insert into vigie_rollup_days select distinct device_id, metric, channel, date_trunc('day', hour, 'Europe/Paris') from vigie_rollup_keys`,
    );
    await client.query(
      `delete from rollup_daily r using vigie_rollup_days d
        where r.device_id = d.device_id and r.metric = d.metric and r.channel = d.channel and r.bucket = d.day`,
    );
    await client.query(
      `insert into rollup_daily
       select h.device_id, h.metric, h.channel, d.day, sum(h.n), sum(h.sum), min(h.min), max(h.max),
              min(h.first_time), (array_agg(h.first_value order by h.first_time))[1],
              max(h.last_time), (array_agg(h.last_value order by h.last_time desc))[1]
         from vigie_rollup_days d
         join rollup_hourly h on h.device_id = d.device_id and h.metric = d.metric and h.channel = d.channel
                             and h.bucket >= d.day and h.bucket < d.day + interval '26 hours'
                             and date_trunc('day', h.bucket, 'Europe/Paris') = d.day
        group by h.device_id, h.metric, h.channel, d.day`,
    );
    await client.query(
      `delete from rollup_dirty r using vigie_rollup_keys k
        where r.device_id = k.device_id and r.metric = k.metric and r.channel = k.channel and r.hour = k.hour`,
    );
    return rows.length;
  });
}

/**
 * Full rebuild from raw rows, for bulk loads (the query benchmark, imports): one pass with
 * set-based aggregation instead of millions of dirty keys.
 */
export async function rebuildRollups(pool: pg.Pool): Promise<void> {
  return withTransaction(pool, async (client) => {
    await client.query('truncate rollup_hourly, rollup_daily, rollup_dirty');
    await client.query(
      `insert into rollup_hourly
       select device_id, metric, channel, date_trunc('hour', time, 'UTC'), count(*), sum(value), min(value), max(value),
              min(time), (array_agg(value order by time))[1], max(time), (array_agg(value order by time desc))[1]
         from observations group by 1, 2, 3, 4`,
    );
    await client.query(
      `insert into rollup_daily
       select device_id, metric, channel, date_trunc('day', bucket, 'Europe/Paris'), sum(n), sum(sum), min(min), max(max),
              min(first_time), (array_agg(first_value order by first_time))[1], max(last_time), (array_agg(last_value order by last_time desc))[1]
         from rollup_hourly group by 1, 2, 3, 4`,
    );
  });
}

/** TimescaleDB: re-materialize a range explicitly (late data older than the policy window). */
export async function refreshContinuousAggregates(pool: pg.Pool, from: Date, to: Date): Promise<void> {
  // refresh_continuous_aggregate cannot run inside a transaction block: plain pool queries.
  await refreshAggregate(pool, 'cagg_hourly', from, to);
  // A day either side: the local days holding `from` and `to` lie wholly inside the window.
  await refreshAggregate(pool, 'cagg_daily', new Date(from.getTime() - 86400_000), new Date(to.getTime() + 86400_000));
}
