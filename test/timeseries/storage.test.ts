/**
 * The storage layout of each mode, asserted for what it is:
 * - plain PostgreSQL: observation rows (observation_values) become monthly partitions (idempotent inserts kept), late
 *   rows parked in the default partition are adopted by their month, and retention drops whole
 *   months (never a delete over the table);
 * - TimescaleDB: a hypertable with compression, retention and continuous-aggregate policies
 *   as configured, idempotent inserts into compressed chunks, history beyond the refresh
 *   window materialized, and rollups that outlive retention.
 */
import pg from 'pg';
import pino from 'pino';
import t, { type Test } from 'tap';
import { loadConfig } from '../../services/config.ts';
import { migrate } from '../../services/store/migrate.ts';
import { refreshAggregate } from '../../services/store/timescale.ts';
import { maintainPartitions } from '../../services/timeseries/partitions.ts';
import { setupStorage } from '../../services/timeseries/storage.ts';
import { createTestDatabase, forEachStorageMode } from '../helpers/database.ts';
import { insertRows } from '../helpers/observations.ts';
import { startTestPlatform } from '../helpers/platform.ts';

const logger = pino({ level: 'silent' });

await forEachStorageMode(t, (t, mode) => (mode === 'plain' ? plainSuite(t) : timescaleSuite(t)));

async function plainSuite(t: Test): Promise<void> {
  const tp = await startTestPlatform({ storage: 'plain' });
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
}

async function timescaleSuite(t: Test): Promise<void> {
  const tp = await startTestPlatform({
    storage: 'timescale',
    env: { VIGIE_CHUNK_INTERVAL_DAYS: '7', VIGIE_COMPRESS_AFTER_DAYS: '30', VIGIE_RETENTION_DAYS: '400', VIGIE_ROLLUP_LATE_DAYS: '35' },
  });
  t.teardown(() => tp.stop());
  const pool = tp.platform.pool;

  t.test('observation_values is a hypertable with the configured compression, retention and aggregate policies', async (t) => {
    t.equal(tp.platform.timescale, true);
    const { rows: dims } = await pool.query(`select column_name, time_interval::text from timescaledb_information.dimensions where hypertable_name = 'observation_values'`);
    t.same(dims, [{ column_name: 'time', time_interval: '7 days' }], 'chunks of VIGIE_CHUNK_INTERVAL_DAYS on time');
    const { rows: comp } = await pool.query(`select segmentby, orderby from timescaledb_information.hypertable_compression_settings where hypertable = 'observation_values'::regclass`);
    t.same(comp, [{ segmentby: 'series_id', orderby: '"time" DESC' }], 'segmented by series');
    const { rows: jobs } = await pool.query(
      `select coalesce(hypertable_name, '') as on, proc_name, config, schedule_interval::text as every from timescaledb_information.jobs
        where proc_name in ('policy_compression', 'policy_retention', 'policy_refresh_continuous_aggregate') order by proc_name, config->>'mat_hypertable_id'`,
    );
    const byProc = (name: string) => jobs.filter((j) => j.proc_name === name);
    t.match(byProc('policy_compression'), [{ on: 'observation_values', config: { compress_after: '30 days' } }]);
    t.match(byProc('policy_retention'), [{ on: 'observation_values', config: { drop_after: '400 days' } }]);
    const refresh = byProc('policy_refresh_continuous_aggregate');
    t.equal(refresh.length, 2, 'one refresh policy per aggregate');
    for (const j of refresh) t.match(j, { config: { start_offset: '35 days', end_offset: '01:00:00' }, every: '00:05:00' });
    const { rows: caggs } = await pool.query(`select view_name, materialized_only from timescaledb_information.continuous_aggregates order by 1`);
    t.same(caggs, [
      { view_name: 'cagg_series_daily', materialized_only: false },
      { view_name: 'cagg_series_hourly', materialized_only: false },
    ]);
    const { rows: pending } = await pool.query(`select count(*)::int as n from ingest_batches where stale_series is not null`);
    t.same(pending, [{ n: 0 }], 'no stale hours for the Vigie rollup worker: the aggregates replace it');
  });

  t.test('a compressed chunk takes a late row and ignores a redelivered one', async (t) => {
    await insertRows(pool, [
      { device: 'cmp', metric: 'co2', time: '2026-01-05T10:00:00Z', value: 400 },
      { device: 'cmp', metric: 'co2', time: '2026-01-05T10:10:00Z', value: 500 },
    ]);
    await pool.query(`select compress_chunk(c) from show_chunks('observation_values', older_than => interval '30 days') c`);
    const { rows: chunks } = await pool.query(
      `select is_compressed from timescaledb_information.chunks where hypertable_name = 'observation_values' and range_start <= '2026-01-05T10:00:00Z' and range_end > '2026-01-05T10:00:00Z'`,
    );
    t.same(chunks, [{ is_compressed: true }], 'the January chunk is compressed');
    await insertRows(pool, [
      { device: 'cmp', metric: 'co2', time: '2026-01-05T10:00:00Z', value: 999 }, // redelivery: same key
      { device: 'cmp', metric: 'co2', time: '2026-01-05T10:20:00Z', value: 600 }, // late
    ]);
    const { rows } = await pool.query(`select time, value from observations where device_id = 'cmp' order by time`);
    t.same(rows.map((r) => r.value), [400, 500, 600], 'the redelivered row is ignored, the late one stored once');
    const r = await tp.get<{ series: Array<{ points: unknown[] }> }>(`/api/v1/series?device=cmp&metric=co2&from=2026-01-05T10:00:00Z&to=2026-01-05T11:00:00Z&bucket=1h&agg=count,max,last`);
    t.same(r.body.series[0]!.points, [{ time: '2026-01-05T10:00:00.000Z', count: 3, max: 600, last: 600 }], 'and the aggregates agree');
    // Sealed months are the plain-PostgreSQL counterpart of compression: nothing goes there.
    t.same((await pool.query(`select count(*)::int as n from observation_values_sealed`)).rows, [{ n: 0 }], 'the sealed table stays empty');
    t.same((await pool.query(`select count(*)::int as n from pg_inherits where inhparent = 'observation_values_sealed'::regclass`)).rows, [{ n: 1 }], 'only its default partition');
    t.equal((await pool.query(`select sealed_before from observation_seal`)).rows[0].sealed_before, -Infinity, 'nothing sealed');
  });

  t.test('history beyond the refresh window is materialized at start, and rollups outlive retention', async (t) => {
    const db = await createTestDatabase('tshist', 'timescale');
    const p = new pg.Pool({ connectionString: db.url, max: 2 });
    t.teardown(async () => {
      await p.end();
      await db.drop();
    });
    const start = (retention: number) =>
      migrate(p, {
        logger,
        after: async (c) => {
          const config = loadConfig({ DATABASE_URL: db.url, VIGIE_TIMESCALE: 'require', VIGIE_RETENTION_DAYS: String(retention), VIGIE_ROLLUP_LATE_DAYS: '35' });
          t.equal(await setupStorage(c, config, logger), true);
        },
      });
    // A database with history before it becomes a hypertable (migrate_data), like a late row
    // whose explicit refresh a stop interrupted: nothing has refreshed it.
    await migrate(p, { logger });
    await p.query(
      `insert into observations (device_id, metric, channel, time, received_at, value, quality) values
       ('h', 'co2', '', '2024-06-03T10:00:00Z', now(), 1, 0), ('h', 'co2', '', '2024-06-03T10:30:00Z', now(), 3, 0),
       ('h', 'co2', '', '2026-01-05T10:00:00Z', now(), 5, 0), ('recent', 'co2', '', now() - interval '2 days', now(), 7, 0)`,
    );
    await start(0);
    // The first policy run (window: 35 days to 1 hour ago) materializes the recent row and
    // moves the watermark past all the history: only what is materialized stays visible.
    for (const view of ['cagg_hourly', 'cagg_daily'] as const) await refreshAggregate(p, view, new Date(Date.now() - 35 * 86400_000), new Date(Date.now() - 3600_000));
    const hourly = async () => (await p.query(`select bucket, n::int, sum from cagg_hourly where device_id = 'h' order by bucket`)).rows.map((r) => [r.bucket.toISOString(), r.n, r.sum]);
    const expected = [
      ['2024-06-03T10:00:00.000Z', 2, 4],
      ['2026-01-05T10:00:00.000Z', 1, 5],
    ];
    const { rows: wm } = await p.query(
      `select _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(h.id)) > now() - interval '3 days' as moved
         from _timescaledb_catalog.hypertable h join timescaledb_information.continuous_aggregates a on a.materialization_hypertable_name = h.table_name
        where a.view_name = 'cagg_series_hourly'`,
    );
    t.same(wm, [{ moved: true }], 'the watermark is past the history (the situation under test)');
    t.same(await hourly(), expected, 'the history is in the hourly aggregate');
    t.same((await p.query(`select n::int from cagg_daily where device_id = 'h' order by bucket`)).rows, [{ n: 2 }, { n: 1 }], 'and in the daily one');

    // Retention drops the 2024 chunk; a restart then must not refresh the dropped range.
    await p.query(`select drop_chunks('observation_values', older_than => interval '400 days')`);
    t.same((await p.query(`select count(*)::int as n from observations where device_id = 'h'`)).rows, [{ n: 1 }], 'the 2024 raw rows are gone');
    await start(400);
    t.same(await hourly(), expected, 'their rollups are kept');
    await start(36); // retention just past the 35-day refresh window: the history window is too narrow to refresh, the start goes on

    const config = loadConfig({ DATABASE_URL: db.url, VIGIE_TIMESCALE: 'require', VIGIE_RETENTION_DAYS: '30', VIGIE_ROLLUP_LATE_DAYS: '35' });
    const c = await p.connect();
    try {
      await t.rejects(setupStorage(c, config, logger), { code: 'VIGIE_ERR_CONFIG', message: /VIGIE_RETENTION_DAYS \(30\).*VIGIE_ROLLUP_LATE_DAYS/ }, 'a refresh window reaching into retention is refused');
    } finally {
      c.release();
    }
  });
}
