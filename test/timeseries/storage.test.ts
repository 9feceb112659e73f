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

t.test('the conversion keeps the columns, keys, indexes, triggers and views other migrations put on observations', async (t) => {
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
  await p.query(`create table seen (device_id text)`);
  await p.query(`create function remember() returns trigger language plpgsql as $$ begin insert into seen values (new.device_id); return null; end $$`);
  await p.query(`create trigger remember_obs after insert on observations for each row execute function remember()`);
  await p.query(`create view my_counts as select device_id, count(*) as n from observations group by 1`);
  // As a later once-migration would: a column with a default, and an index.
  await p.query(`alter table observations add column source text not null default 'mqtt'`);
  await p.query(`create index observations_source_idx on observations (source)`);
  await p.query(`insert into observations values ('before', 'co2', '', now(), now(), 1, 0)`);
  const c = await p.connect();
  try {
    await convertToPartitioned(c);
    await convertToPartitioned(c); // idempotent
  } finally {
    c.release();
  }
  await p.query(`insert into observations values ('after', 'co2', '', now(), now(), 2, 0)`);
  t.same((await p.query(`select device_id from seen order by 1`)).rows, [{ device_id: 'after' }, { device_id: 'before' }], 'the trigger follows the table');
  t.same((await p.query(`select device_id, n::int from my_counts order by 1`)).rows, [{ device_id: 'after', n: 1 }, { device_id: 'before', n: 1 }], 'the view is re-created over the partitioned table');
  t.equal((await p.query(`select relkind from pg_class where relname = 'observations'`)).rows[0].relkind, 'p');
  t.same((await p.query(`select device_id, source from observations order by 1`)).rows, [{ device_id: 'after', source: 'mqtt' }, { device_id: 'before', source: 'mqtt' }], 'a column added later carries over, with its default');
  const { rows: idx } = await p.query(`select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'observations'::regclass order by 1`);
  t.same(idx.map((r) => r.name), ['observations_device_time_idx', 'observations_pkey', 'observations_source_idx', 'observations_time_idx'], 'the key and every index keep their names');
  await p.query(`insert into observations values ('after', 'co2', '', (select time from observations where device_id = 'after'), now(), 3, 0) on conflict do nothing`);
  t.equal((await p.query(`select count(*)::int as n from observations where device_id = 'after'`)).rows[0].n, 1, 'the primary key still makes inserts idempotent');
});
