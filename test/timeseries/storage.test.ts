/**
 * Plain-PostgreSQL storage: observation rows (observation_values) become monthly partitions (idempotent inserts kept),
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
      `select c.relname as name, (select count(*)::int from observation_values o where o.tableoid = c.oid) as n
         from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'observation_values'::regclass order by 1`,
    )
  ).rows;

t.test('observation_values is partitioned by month around now, with a default partition', async (t) => {
  t.equal(tp.platform.timescale, false);
  const { rows } = await pool.query(`select relkind from pg_class where relname = 'observation_values'`);
  t.equal(rows[0].relkind, 'p');
  const names = (await partitions()).map((p) => p.name);
  t.ok(names.includes('observation_values_default'));
  const now = new Date();
  t.ok(names.includes(`observation_values_y${now.getUTCFullYear()}m${String(now.getUTCMonth() + 1).padStart(2, '0')}`), 'current month');
  const views = await pool.query(`select count(*)::int as n from pg_views where viewname in ('series_hourly', 'series_daily', 'observations_with_device', 'observations', 'latest_observations')`);
  t.equal(views.rows[0].n, 5, 'repeatable views re-created over the partitioned table');
});

t.test('late data in the default partition is adopted by its month; retention drops months', async (t) => {
  await insertRows(pool, [
    { device: 'p1', metric: 'co2', time: '2019-03-10T10:00:00Z', value: 1 },
    { device: 'p1', metric: 'co2', time: '2019-03-20T10:00:00Z', value: 2 },
    { device: 'p1', metric: 'co2', time: '2021-07-01T00:00:00Z', value: 3 },
  ]);
  // Redelivery stays idempotent on the partitioned table.
  await insertRows(pool, [{ device: 'p1', metric: 'co2', time: '2019-03-10T10:00:00Z', value: 1 }]);
  t.same((await partitions()).find((p) => p.name === 'observation_values_default')?.n, 3, 'late rows wait in the default partition');
  const now = new Date('2022-01-15T00:00:00Z');
  const c = await pool.connect();
  try {
    const first = await maintainPartitions(c, now, 0);
    t.ok(first.created.includes('observation_values_y2019m03') && first.created.includes('observation_values_y2021m07'));
    let parts = await partitions();
    t.equal(parts.find((p) => p.name === 'observation_values_y2019m03')?.n, 2);
    t.equal(parts.find((p) => p.name === 'observation_values_default')?.n, 0, 'nothing left behind');
    // Keep one year: March 2019 ends before the cut-off and goes as a whole; July 2021 stays.
    const second = await maintainPartitions(c, now, 365);
    t.ok(second.dropped.includes('observation_values_y2019m03'));
    t.notOk(second.dropped.includes('observation_values_y2021m07'));
    parts = await partitions();
    t.notOk(parts.find((p) => p.name === 'observation_values_y2019m03'));
    t.equal(parts.find((p) => p.name === 'observation_values_y2021m07')?.n, 1);
    const again = await maintainPartitions(c, now, 365);
    t.same(again, { created: [], dropped: [], defaultRowsExpired: 0 }, 'idempotent');
  } finally {
    c.release();
  }
});

t.test('the conversion keeps the columns, keys, indexes, triggers and views other migrations put on observation_values', async (t) => {
  const pg = (await import('pg')).default;
  const pino = (await import('pino')).default;
  const { createTestDatabase } = await import('../helpers/database.ts');
  const { migrate } = await import('../../services/store/migrate.ts');
  const { convertToPartitioned } = await import('../../services/timeseries/partitions.ts');
  const db = await createTestDatabase();
  const p = new pg.Pool({ connectionString: db.url });
  t.teardown(async () => {
    await p.end();
    await db.drop();
  });
  await migrate(p, { logger: pino({ level: 'silent' }) });
  await p.query(`create table seen (series_id int)`);
  await p.query(`create function remember() returns trigger language plpgsql as $$ begin insert into seen values (new.series_id); return null; end $$`);
  await p.query(`create trigger remember_obs after insert on observation_values for each row execute function remember()`);
  await p.query(`create view my_counts as select series_id, count(*) as n from observation_values group by 1`);
  // As a later once-migration would: a column with a default, and an index.
  await p.query(`alter table observation_values add column source text not null default 'mqtt'`);
  await p.query(`create index observation_values_source_idx on observation_values (source)`);
  await p.query(`insert into observations (device_id, metric, channel, time, received_at, value, quality) values ('before', 'co2', '', now(), now(), 1, 0)`);
  const c = await p.connect();
  try {
    await convertToPartitioned(c);
    await convertToPartitioned(c); // idempotent
  } finally {
    c.release();
  }
  await p.query(`insert into observations (device_id, metric, channel, time, received_at, value, quality) values ('after', 'co2', '', now(), now(), 2, 0)`);
  const ids = async (device: string) => (await p.query(`select id from series where device_id = $1`, [device])).rows[0].id as number;
  const [before, after] = [await ids('before'), await ids('after')];
  t.same((await p.query(`select series_id from seen order by 1`)).rows, [{ series_id: before }, { series_id: after }], 'the trigger follows the table');
  t.same((await p.query(`select series_id, n::int from my_counts order by 1`)).rows, [{ series_id: before, n: 1 }, { series_id: after, n: 1 }], 'the view is re-created over the partitioned table');
  t.equal((await p.query(`select relkind from pg_class where relname = 'observation_values'`)).rows[0].relkind, 'p');
  t.same((await p.query(`select series_id, source from observation_values order by 1`)).rows, [{ series_id: before, source: 'mqtt' }, { series_id: after, source: 'mqtt' }], 'a column added later carries over, with its default');
  const { rows: idx } = await p.query(`select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'observation_values'::regclass order by 1`);
  t.same(idx.map((r) => r.name), ['observation_values_pkey', 'observation_values_source_idx'], 'the key and every index keep their names');
  await p.query(`insert into observations (device_id, metric, channel, time, received_at, value, quality) values ('after', 'co2', '', (select time from observations where device_id = 'after'), now(), 3, 0) on conflict do nothing`);
  t.equal((await p.query(`select count(*)::int as n from observations where device_id = 'after'`)).rows[0].n, 1, 'the primary key still makes inserts idempotent');
  t.same((await p.query(`select device_id, value from observations order by 1`)).rows, [{ device_id: 'after', value: 2 }, { device_id: 'before', value: 1 }], 'the observations view reads the partitioned table');
});
