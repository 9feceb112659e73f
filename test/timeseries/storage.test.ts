/**
 * Plain-PostgreSQL storage: observations become monthly partitions (idempotent inserts kept),
 * late rows parked in the default partition are adopted by their month, and retention drops
 * whole months (never a delete over the table).
 */
import t from 'tap';
import { maintainPartitions } from '../../services/timeseries/partitions.ts';
import { insertRows } from '../helpers/observations.ts';
import { startTestPlatform } from '../helpers/platform.ts';

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
const pool = tp.platform.pool;
const partitions = async () =>
  (
    await pool.query<{ name: string; n: number }>(
      `select c.relname as name, (select count(*)::int from observations o where o.tableoid = c.oid) as n
         from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'observations'::regclass order by 1`,
    )
  ).rows;

t.test('observations is partitioned by month around now, with a default partition', async (t) => {
  t.equal(tp.platform.timescale, false);
  const { rows } = await pool.query(`select relkind from pg_class where relname = 'observations'`);
  t.equal(rows[0].relkind, 'p');
  const names = (await partitions()).map((p) => p.name);
  t.ok(names.includes('observations_default'));
  const now = new Date();
  t.ok(names.includes(`observations_y${now.getUTCFullYear()}m${String(now.getUTCMonth() + 1).padStart(2, '0')}`), 'current month');
  const views = await pool.query(`select count(*)::int as n from pg_views where viewname in ('series_hourly', 'series_daily', 'observations_with_device')`);
  t.equal(views.rows[0].n, 3, 'repeatable views re-created over the partitioned table');
});

t.test('late data in the default partition is adopted by its month; retention drops months', async (t) => {
  await insertRows(pool, [
    { device: 'p1', metric: 'co2', time: '2019-03-10T10:00:00Z', value: 1 },
    { device: 'p1', metric: 'co2', time: '2019-03-20T10:00:00Z', value: 2 },
    { device: 'p1', metric: 'co2', time: '2021-07-01T00:00:00Z', value: 3 },
  ]);
  // Redelivery stays idempotent on the partitioned table.
  await insertRows(pool, [{ device: 'p1', metric: 'co2', time: '2019-03-10T10:00:00Z', value: 1 }]);
  t.same((await partitions()).find((p) => p.name === 'observations_default')?.n, 3, 'late rows wait in the default partition');
  const now = new Date('2022-01-15T00:00:00Z');
  const c = await pool.connect();
  try {
    const first = await maintainPartitions(c, now, 0);
    t.ok(first.created.includes('observations_y2019m03') && first.created.includes('observations_y2021m07'));
    let parts = await partitions();
    t.equal(parts.find((p) => p.name === 'observations_y2019m03')?.n, 2);
    t.equal(parts.find((p) => p.name === 'observations_default')?.n, 0, 'nothing left behind');
    // Keep one year: March 2019 ends before the cut-off and goes as a whole; July 2021 stays.
    const second = await maintainPartitions(c, now, 365);
    t.ok(second.dropped.includes('observations_y2019m03'));
    t.notOk(second.dropped.includes('observations_y2021m07'));
    parts = await partitions();
    t.notOk(parts.find((p) => p.name === 'observations_y2019m03'));
    t.equal(parts.find((p) => p.name === 'observations_y2021m07')?.n, 1);
    const again = await maintainPartitions(c, now, 365);
    t.same(again, { created: [], dropped: [], defaultRowsExpired: 0 }, 'idempotent');
  } finally {
    c.release();
  }
});
