/**
 * The plain-PostgreSQL rollup worker's SQL: bring the stale hours recorded in rollup_dirty up to
 * date from raw rows (so late and redelivered data lands in the right bucket), then recompute
 * the Europe/Paris days that hold them from the hourly rollups. An hour whose new rows all
 * follow its materialized last_time (the usual case: data arrives in order) merges just those
 * rows, so a busy hour costs its new rows, not a re-read of the hour at every pass
 * (once/080_rollup_tails.sql); any other hour is recomputed whole. Each pass is one transaction
 * that claims its keys with `for update skip locked`, so several Vigie processes share the work
 * and a crash leaves the keys stale, never lost.
 */
import type pg from 'pg';
import { refreshAggregate } from '../store/timescale.ts';
import { withTransaction } from '../store/transaction.ts';

/**
 * Moves the stale hours listed by committed ingest batches into rollup_dirty (claimed with
 * `skip locked`, so concurrent workers take different batches). Returns the batches claimed.
 */
export async function claimStaleBatches(pool: pg.Pool, limit = 200): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      `select id from ingest_batches where stale_series is not null order by id limit $1 for update skip locked`,
      [limit],
    );
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    await client.query(
      `insert into rollup_dirty (series_id, hour, from_time)
       select u.series_id, u.hour, min(coalesce(u.from_time, '-infinity'))
         from ingest_batches b, unnest(b.stale_series, b.stale_hours, b.stale_from) as u(series_id, hour, from_time)
        where b.id = any($1::int4[]) and u.series_id is not null
        group by 1, 2 order by 1, 2
       on conflict (series_id, hour) do update set from_time = least(rollup_dirty.from_time, excluded.from_time)`,
      [ids],
    );
    await client.query(`update ingest_batches set stale_series = null, stale_hours = null, stale_from = null where id = any($1::int4[])`, [ids]);
    return ids.length;
  });
}

export async function refreshDirtyRollups(pool: pg.Pool, limit = 5000): Promise<number> {
  while ((await claimStaleBatches(pool)) > 0);
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ series_id: number; hour: Date; from_time: Date | number }>(
      `select series_id, hour, from_time from rollup_dirty order by hour limit $1 for update skip locked`,
      [limit],
    );
    if (rows.length === 0) {
      return 0;
    }
    // `after`: the hour's materialized last_time when every new row follows it (merge the
    // tail), null when the hour must be recomputed whole (no rollup yet, or a row at or before
    // last_time: late data, a redelivery, a mark from before stale times were recorded).
    await client.query(`create temp table if not exists vigie_rollup_keys (series_id int4, hour timestamptz, after timestamptz) on commit delete rows`);
    await client.query(
      `insert into vigie_rollup_keys
       select u.series_id, u.hour, case when u.from_time > h.last_time then h.last_time end
         from unnest($1::int4[], $2::timestamptz[], $3::timestamptz[]) as u(series_id, hour, from_time)
         left join rollup_hourly h on h.series_id = u.series_id and h.bucket = u.hour`,
      [rows.map((r) => r.series_id), rows.map((r) => r.hour.toISOString()), rows.map((r) => (r.from_time instanceof Date ? r.from_time.toISOString() : '-infinity'))],
    );
    // Tails: rows after last_time (every one of them is new to the rollup) merged in. The
    // rows are read after `after` was, so a row committed in between is merged now and its
    // own mark (at or before the new last_time) makes the next pass recompute the hour.
    await client.query(
      `update rollup_hourly h
          set n = h.n + t.n, sum = h.sum + t.sum, min = least(h.min, t.min), max = greatest(h.max, t.max),
              last_time = t.last_time, last_value = t.last_value
         from (select k.series_id, k.hour, count(*) as n, sum(o.value) as sum, min(o.value) as min, max(o.value) as max,
                      max(o.time) as last_time, (array_agg(o.value order by o.time desc))[1] as last_value
                 from vigie_rollup_keys k
                 join observation_rows o on o.series_id = k.series_id and o.time > k.after and o.time < k.hour + interval '1 hour'
                where k.after is not null
                group by k.series_id, k.hour) t
        where h.series_id = t.series_id and h.bucket = t.hour`,
    );
    // Whole hours: those that lost all their rows disappear; the others are replaced.
    await client.query(`delete from rollup_hourly h using vigie_rollup_keys k where k.after is null and h.series_id = k.series_id and h.bucket = k.hour`);
    await client.query(
      `insert into rollup_hourly
       select k.series_id, k.hour, count(*), sum(o.value), min(o.value), max(o.value),
              min(o.time), (array_agg(o.value order by o.time))[1], max(o.time), (array_agg(o.value order by o.time desc))[1]
         from vigie_rollup_keys k
         join observation_rows o on o.series_id = k.series_id and o.time >= k.hour and o.time < k.hour + interval '1 hour'
        where k.after is null
        group by k.series_id, k.hour`,
    );
    // Data-modifying CTEs share one snapshot (an insert would not see the delete): two statements.
    await client.query(`create temp table if not exists vigie_rollup_days (series_id int4, day timestamptz) on commit delete rows`);
    await client.query(`insert into vigie_rollup_days select distinct series_id, date_trunc('day', hour, 'Europe/Paris') from vigie_rollup_keys`);
    await client.query(`delete from rollup_daily r using vigie_rollup_days d where r.series_id = d.series_id and r.bucket = d.day`);
    await client.query(
      `insert into rollup_daily
       select d.series_id, d.day, sum(h.n), sum(h.sum), min(h.min), max(h.max),
              min(h.first_time), (array_agg(h.first_value order by h.first_time))[1],
              max(h.last_time), (array_agg(h.last_value order by h.last_time desc))[1]
         from vigie_rollup_days d
         join rollup_hourly h on h.series_id = d.series_id
                             and h.bucket >= d.day and h.bucket < d.day + interval '26 hours'
                             and date_trunc('day', h.bucket, 'Europe/Paris') = d.day
        group by d.series_id, d.day`,
    );
    await client.query(`delete from rollup_dirty r using vigie_rollup_keys k where r.series_id = k.series_id and r.hour = k.hour`);
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
    await client.query('update ingest_batches set stale_series = null, stale_hours = null, stale_from = null where stale_series is not null');
    await client.query(
      `insert into rollup_hourly
       select series_id, date_trunc('hour', time, 'UTC'), count(*), sum(value), min(value), max(value),
              min(time), (array_agg(value order by time))[1], max(time), (array_agg(value order by time desc))[1]
         from observation_rows group by 1, 2`,
    );
    await client.query(
      `insert into rollup_daily
       select series_id, date_trunc('day', bucket, 'Europe/Paris'), sum(n), sum(sum), min(min), max(max),
              min(first_time), (array_agg(first_value order by first_time))[1], max(last_time), (array_agg(last_value order by last_time desc))[1]
         from rollup_hourly group by 1, 2`,
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
