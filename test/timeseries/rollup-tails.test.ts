/**
 * Plain-PostgreSQL rollups brought up to date by merging only the rows that follow an hour's
 * materialized last_time (services/timeseries/rollups.ts, once/080_rollup_tails.sql): after
 * every pass, whatever arrived in order, late, twice or through the observations view, the
 * hourly and daily rollups equal a recomputation from the raw rows.
 */
import t, { type Test } from 'tap';
import { writeBatch } from '../../services/store/write-batch.ts';
import { refreshDirtyRollups } from '../../services/timeseries/rollups.ts';
import type { Observation } from '../../schemas/index.ts';
import { migratedTestDatabase } from '../helpers/migrated-database.ts';

const { pool } = await migratedTestDatabase(t, 'rollup_tails', 'plain');

const HOUR = Date.parse('2026-03-02T10:00:00Z');
const obs = (device: string, minute: number, value: number): Observation => ({
  deviceId: device,
  metric: 'air_temperature',
  channel: '',
  time: new Date(HOUR + minute * 60_000),
  receivedAt: new Date(),
  value,
  quality: 0,
});
const write = (observations: Observation[]) => writeBatch(pool, { observations, deadLetters: [], devicesSeen: new Map() });

const ROLLUP = `n, sum, min, max, first_time, first_value, last_time, last_value`;
/** The rollups as stored, and as recomputed from every raw row: they must be equal. */
async function compare(t: Test, label: string): Promise<void> {
  while ((await refreshDirtyRollups(pool)) > 0);
  const stored = await pool.query(`select series_id, bucket, ${ROLLUP} from rollup_hourly order by 1, 2`);
  const fresh = await pool.query(
    `select series_id, date_trunc('hour', time, 'UTC') as bucket, count(*) as n, sum(value) as sum, min(value) as min, max(value) as max,
            min(time) as first_time, (array_agg(value order by time))[1] as first_value, max(time) as last_time, (array_agg(value order by time desc))[1] as last_value
       from observation_values group by 1, 2 order by 1, 2`,
  );
  t.same(stored.rows, fresh.rows, `${label}: hourly rollups equal a recomputation`);
  const daily = await pool.query(`select series_id, bucket, n, sum, min, max from rollup_daily order by 1, 2`);
  const freshDaily = await pool.query(
    `select series_id, date_trunc('day', time, 'Europe/Paris') as bucket, count(*) as n, sum(value) as sum, min(value) as min, max(value) as max
       from observation_values group by 1, 2 order by 1, 2`,
  );
  t.same(daily.rows, freshDaily.rows, `${label}: daily rollups too`);
}

t.test('in-order batches merge tails; late, redelivered and view-inserted rows recompute the hour', async (t) => {
  await write([obs('a', 0, 1), obs('a', 1, 2), obs('b', 0, 10)]);
  await compare(t, 'first batch');
  await write([obs('a', 2, 5), obs('a', 3, -1), obs('b', 5, 7)]);
  const { rows: marks } = await pool.query(`select from_time from rollup_dirty`);
  t.same(marks, [], 'nothing claimed yet: the marks wait in the batch row');
  await compare(t, 'in order');

  // Marked with an earlier time than the hour's last_time: recomputed whole.
  await write([obs('a', 1.5, 100)]);
  await compare(t, 'a late row');
  // A redelivery inserts nothing and changes nothing.
  await write([obs('a', 2, 5), obs('a', 3, -1)]);
  await compare(t, 'a redelivered batch');
  // Two batches claimed in one pass, one in order and one late for the same hour.
  await write([obs('b', 30, 3)]);
  await write([obs('b', 1, 4)]);
  await compare(t, 'in order and late in one pass');
  // The observations view marks its hour with the row's time.
  await pool.query(`insert into observations (device_id, metric, channel, time, value) values ('a', 'air_temperature', '', $1, 50)`, [new Date(HOUR + 1.75 * 60_000)]);
  await compare(t, 'a row through the view');
  await write([obs('a', 59, 9)]);
  await compare(t, 'then in order again');
});

t.test('a tail merge reads only the rows after last_time', async (t) => {
  const hour = Date.parse('2026-03-03T08:00:00Z');
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ ...obs('c', 0, from + i), time: new Date(hour + (from + i) * 1000) }));
  await write(rows(0, 100));
  while ((await refreshDirtyRollups(pool)) > 0);
  // Changed behind the ingest's back (no mark): only a re-read of the whole hour would see it.
  await pool.query(`update observation_values set value = 1e6 where time = $1`, [new Date(hour)]);
  await write(rows(100, 110));
  while ((await refreshDirtyRollups(pool)) > 0);
  const { rows: merged } = await pool.query(`select n, max, last_value from rollup_hourly where bucket = $1`, [new Date(hour)]);
  t.same(merged, [{ n: '110', max: 109, last_value: 109 }], 'the ten new rows were merged; the head of the hour was not re-read');
  await pool.query(`insert into rollup_dirty (series_id, hour) select series_id, bucket from rollup_hourly where bucket = $1`, [new Date(hour)]);
  while ((await refreshDirtyRollups(pool)) > 0);
  const { rows: whole } = await pool.query(`select n, max from rollup_hourly where bucket = $1`, [new Date(hour)]);
  t.same(whole, [{ n: '110', max: 1e6 }], 'a mark without a time recomputes the whole hour');
});
