/**
 * Sealed months on plain PostgreSQL (services/timeseries/sealing.ts, once/070_sealed_months.sql):
 * sealing keeps every row and every answer of the API; late rows for a sealed month are stored
 * once (redelivery, concurrent writers, the observations view's trigger) and never bring back a
 * hot partition; a row written during sealing is not lost; retention drops sealed months; a
 * day of one series is read through the BRIN.
 */
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import type { Batch } from '../../ingest/running-sink.ts';
import type { Observation } from '../../schemas/index.ts';
import { writeBatch } from '../../services/store/write-batch.ts';
import { maintainPartitions } from '../../services/timeseries/partitions.ts';
import { rebuildRollups } from '../../services/timeseries/rollups.ts';
import { sealMonth, sealMonths } from '../../services/timeseries/sealing.ts';
import { every, insertRows, settleRollups, type Row } from '../helpers/observations.ts';
import { startTestPlatform } from '../helpers/platform.ts';

const tp = await startTestPlatform({ storage: 'plain' });
t.teardown(() => tp.stop());
const pool = tp.platform.pool;
const logger = pino({ level: 'silent' });
/** A fixed "now" for which January and February 2025 are old enough to seal (30 days). */
const NOW = new Date('2025-04-15T00:00:00Z');

await pool.query(
  `insert into devices (id, kind, domain, registered, period_seconds, building, tags) values
   ('m1', 'meter', 'buildings', true, 3600, '{"building":"clg-s","zone":"chaufferie"}', '{}'),
   ('tc-1', 'traffic-counter', 'roads', true, 3600, null, '{}')`,
);

const rows: Row[] = [];
for (const [i, time] of every('2025-01-01T00:00:00Z', '2025-03-10T00:00:00Z', 60).entries()) {
  rows.push({ device: 'm1', metric: 'energy', time, value: 1000 + i * 2 });
  rows.push({ device: 'tc-1', metric: 'vehicle_count', channel: 'lane1', time, value: 30 + (i % 7) });
  rows.push({ device: 'rws-1', metric: 'surface_temperature', time, value: Math.sin(i / 10) * 5 });
}
await insertRows(pool, rows);
await withClient((c) => maintainPartitions(c, NOW, 0));
await settleRollups(pool);

async function withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

const count = async (sql: string, params: unknown[] = []) => Number((await pool.query(sql, params)).rows[0].n);
const relations = async (like: string) =>
  (await pool.query<{ relname: string }>(`select relname from pg_class where relname like $1 and relkind in ('r', 'p') order by 1`, [like])).rows.map((r) => r.relname);

const API = [
  '/api/v1/observations?device=rws-1&from=2025-01-30T00:00:00Z&to=2025-02-02T00:00:00Z&limit=10000',
  '/api/v1/observations?device=m1&order=desc&limit=50',
  '/api/v1/series?device=rws-1&metric=surface_temperature&from=2025-01-01T00:00:00Z&to=2025-03-10T00:00:00Z&bucket=1h&agg=avg,min,max,count',
  '/api/v1/series?device=rws-1&metric=surface_temperature&from=2025-01-01T00:00:00Z&to=2025-03-10T00:00:00Z&bucket=1d&agg=avg,count,last',
  '/api/v1/series?device=rws-1&metric=surface_temperature&from=2025-02-01T00:00:00Z&to=2025-02-03T00:00:00Z&bucket=15m&source=raw',
  '/api/v1/traffic/tmja?year=2025&device=tc-1',
  '/api/v1/buildings/consumption?building=clg-s&metric=energy&bucket=1d&from=2025-01-15T00:00:00Z&to=2025-03-05T00:00:00Z',
  '/api/v1/buildings/consumption?building=clg-s&metric=energy&bucket=1h&from=2025-02-01T00:00:00Z&to=2025-02-01T06:00:00Z',
];
const answers = async () => {
  const out: Record<string, unknown> = {};
  for (const url of API) {
    const r = await tp.get(url);
    out[url] = { status: r.status, body: r.body };
  }
  const csv = await tp.platform.app.inject({ method: 'GET', url: '/api/v1/export?device=tc-1,m1&from=2025-01-20T00:00:00Z&to=2025-03-02T00:00:00Z' });
  out.export = { status: csv.statusCode, body: csv.body };
  return out;
};

t.test('sealing a month keeps every row and the API answers identical', async (t) => {
  const before = await answers();
  for (const [url, a] of Object.entries(before)) t.equal((a as { status: number }).status, 200, `${url} answers`);
  const total = await count(`select count(*) as n from observations`);
  t.equal(total, rows.length);
  t.same(await sealMonths(pool, NOW, 0), [], 'VIGIE_COMPRESS_AFTER_DAYS=0 seals nothing');
  const sealed = await sealMonths(pool, NOW, 30, { logger });
  t.same(
    sealed.map((s) => [s.partition, s.rows, s.recopied]),
    [
      ['observation_values_sealed_y2025m01', 31 * 24 * 3, false],
      ['observation_values_sealed_y2025m02', 28 * 24 * 3, false],
    ],
    'January and February sealed, oldest first; March ended too recently',
  );
  t.same(await relations('observation_values_y2025m0%'), ['observation_values_y2025m03', 'observation_values_y2025m04', 'observation_values_y2025m05', 'observation_values_y2025m06'], 'the hot months sealed are gone');
  t.same(await relations('observation_values_sealed_%'), ['observation_values_sealed_default', 'observation_values_sealed_y2025m01', 'observation_values_sealed_y2025m02']);
  t.equal((await pool.query(`select sealed_before from observation_seal`)).rows[0].sealed_before.toISOString(), '2025-03-01T00:00:00.000Z');
  t.equal(await count(`select count(*) as n from observation_values_sealed`), (31 + 28) * 24 * 3);
  t.equal(await count(`select count(*) as n from observations`), total, 'no row lost or doubled');
  const { rows: idx } = await pool.query(
    `select pg_get_indexdef(i.indexrelid) as def from pg_index i where i.indrelid = 'observation_values_sealed_y2025m01'::regclass`,
  );
  t.equal(idx.length, 1, 'one index on a sealed month');
  t.match(idx[0].def, /USING brin \(series_id, "time"\) WITH \(pages_per_range='16'\)/);
  t.same(await answers(), before, 'raw, hourly, daily, raw-bucketed, TMJA, consumption and export answers unchanged');
  // Rollups recomputed from raw rows read the sealed months too.
  await rebuildRollups(pool);
  t.same(await answers(), before, 'same answers after rebuilding the rollups from sealed rows');
  t.same(await sealMonths(pool, NOW, 30), [], 'nothing left to seal');
});

const obs = (device: string, metric: Observation['metric'], time: string, value: number): Observation => ({
  deviceId: device,
  metric,
  channel: '',
  time: new Date(time),
  receivedAt: new Date(),
  value,
  quality: 0,
});
const batch = (observations: Observation[]): Batch => ({
  observations,
  deadLetters: [],
  devicesSeen: new Map(observations.map((o) => [o.deviceId, o.receivedAt])),
});
const stored = (device: string, time: string) => count(`select count(*) as n from observations where device_id = $1 and time = $2`, [device, time]);

t.test('a late row for a sealed month is stored once through the ingest, and its redelivery is not doubled', async (t) => {
  const late = obs('rws-1', 'surface_temperature', '2025-01-15T10:30:00Z', 42);
  const known = obs('rws-1', 'surface_temperature', '2025-01-15T10:00:00Z', 99);
  const hot = obs('rws-1', 'surface_temperature', '2025-03-20T10:00:00Z', 7);
  await writeBatch(pool, batch([late, late, known, hot]));
  t.equal(await stored('rws-1', '2025-01-15T10:30:00Z'), 1, 'the new late row, once (also once inside its batch)');
  t.equal(await stored('rws-1', '2025-01-15T10:00:00Z'), 1, 'a key the sealed month holds already is not doubled');
  t.equal((await pool.query(`select value from observations where device_id = 'rws-1' and time = '2025-01-15T10:00:00Z'`)).rows[0].value, Math.sin((14 * 24 + 10) / 10) * 5, 'the stored value stays');
  t.equal(await count(`select count(*) as n from observation_values_sealed v join series s on s.id = v.series_id where s.device_id = 'rws-1' and v.time = '2025-01-15T10:30:00Z'`), 1, 'in the sealed table');
  t.equal(await stored('rws-1', '2025-03-20T10:00:00Z'), 1, 'the hot row of the same batch');
  await writeBatch(pool, batch([late, known]));
  t.equal(await stored('rws-1', '2025-01-15T10:30:00Z'), 1, 'redelivered: still once');
  t.equal(await stored('rws-1', '2025-01-15T10:00:00Z'), 1);
  // The batch marked the late hour stale: the rollups follow.
  await settleRollups(pool);
  const r = await tp.get<{ items: Array<{ points: Array<Record<string, unknown>> }> }>(
    '/api/v1/series?device=rws-1&metric=surface_temperature&from=2025-01-15T10:00:00Z&to=2025-01-15T11:00:00Z&bucket=1h&agg=count,max',
  );
  t.match(JSON.stringify(r.body), /"count":2/, 'the hourly rollup counts the late row');
  t.match(JSON.stringify(r.body), /"max":42/);
});

t.test('a late row for a sealed month never creates a hot partition for it', async (t) => {
  await writeBatch(pool, batch([obs('rws-2', 'surface_temperature', '2025-02-10T00:00:00Z', 1)]));
  await insertRows(pool, [{ device: 'rws-2', metric: 'surface_temperature', time: '2025-01-10T00:00:00Z', value: 2 }]);
  const report = await withClient((c) => maintainPartitions(c, NOW, 0));
  t.notOk(report.created.some((n) => /2025m0[12]$/.test(n)), 'no partition created for a sealed month');
  t.same(await relations('observation_values_y2025m0%'), ['observation_values_y2025m03', 'observation_values_y2025m04', 'observation_values_y2025m05', 'observation_values_y2025m06']);
  t.equal(await count(`select count(*) as n from observation_values_default`), 0, 'nothing waits in the hot default partition');
  t.equal(await stored('rws-2', '2025-02-10T00:00:00Z'), 1);
  t.equal(await stored('rws-2', '2025-01-10T00:00:00Z'), 1);
  // A bulk COPY does not route by sealed_before: its rows for a sealed month land in the hot
  // default partition, and the maintenance moves them to the sealed table, keeping keys once.
  await pool.query(
    `insert into observation_values (time, value, series_id, batch_id, quality)
     select t, 5, s.id, (select min(id) from ingest_batches), null from series s,
            (values ('2025-01-10T00:00:00Z'::timestamptz), ('2025-01-11T00:00:00Z')) v(t) where s.device_id = 'rws-2'`,
  );
  t.equal(await count(`select count(*) as n from observation_values_default`), 2);
  const moved = await withClient((c) => maintainPartitions(c, NOW, 0));
  t.equal(moved.movedToSealed, 1, 'the new key moved; the one already sealed dropped');
  t.notOk(moved.created.some((n) => /2025m0[12]$/.test(n)));
  t.equal(await count(`select count(*) as n from observation_values_default`), 0);
  t.equal(await stored('rws-2', '2025-01-10T00:00:00Z'), 1);
  t.equal(await stored('rws-2', '2025-01-11T00:00:00Z'), 1);
  // A month with no hot partition when it was sealed (December 2024): its late rows wait in the
  // sealed default partition.
  await writeBatch(pool, batch([obs('rws-2', 'surface_temperature', '2024-12-24T00:00:00Z', 3)]));
  t.equal(await count(`select count(*) as n from observation_values_sealed_default`), 1);
  t.notOk((await relations('observation_values_y2024%')).length, 'no hot partition for December either');
});

t.test('the observations view trigger routes late rows the same way', async (t) => {
  const row = { device: 'rws-3', metric: 'surface_temperature', time: '2025-02-14T12:00:00Z', value: 3 };
  await insertRows(pool, [row]);
  await insertRows(pool, [row, row]);
  t.equal(await stored('rws-3', row.time), 1);
  t.equal(await count(`select count(*) as n from observation_values_sealed v join series s on s.id = v.series_id where s.device_id = 'rws-3'`), 1, 'in the sealed month');
  t.equal(await count(`select count(*) as n from rollup_dirty d join series s on s.id = d.series_id where s.device_id = 'rws-3'`), 1, 'its hour marked stale');
  const hot = { device: 'rws-3', metric: 'surface_temperature', time: '2025-03-14T12:00:00Z', value: 4 };
  await insertRows(pool, [hot, hot]);
  t.equal(await count(`select count(*) as n from observation_values v join series s on s.id = v.series_id where s.device_id = 'rws-3'`), 1, 'a later row stays hot');
});

t.test('two connections inserting the same late key concurrently store it once', async (t) => {
  const a = new pg.Client({ connectionString: tp.env.DATABASE_URL });
  const b = new pg.Client({ connectionString: tp.env.DATABASE_URL });
  await a.connect();
  await b.connect();
  t.teardown(async () => {
    await a.end();
    await b.end();
  });
  const insert = `insert into observations (device_id, metric, channel, time, received_at, value, quality) values ('rws-4', 'surface_temperature', '', '2025-02-20T08:00:00Z', now(), $1, 0)`;
  await insertRows(pool, [{ device: 'rws-4', metric: 'surface_temperature', time: '2025-03-20T00:00:00Z', value: 0 }]); // the series exists
  await a.query('begin');
  await b.query('begin');
  await a.query(insert, [1]);
  const second = b.query(insert, [2]);
  // b waits for a's series lock (a has not committed: b's snapshot could not see a's row).
  let waiting = 0;
  for (let i = 0; i < 100 && waiting === 0; i++) {
    waiting = await count(`select count(*) as n from pg_locks where locktype = 'advisory' and not granted and classid = $1::bigint::oid`, [0x56534552]);
    if (waiting === 0) await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(waiting, 1, 'the second writer waits on the series lock');
  await a.query('commit');
  await second;
  await b.query('commit');
  t.equal(await stored('rws-4', '2025-02-20T08:00:00Z'), 1, 'stored once');
  t.equal((await pool.query(`select value from observations where device_id = 'rws-4' and time = '2025-02-20T08:00:00Z'`)).rows[0].value, 1, "the first writer's row");
  // Through the ingest: two commits of the same late rows at once.
  const rowsOf = (v: number) => batch([obs('rws-4', 'surface_temperature', '2025-02-21T08:00:00Z', v), obs('rws-4', 'surface_temperature', '2025-02-21T09:00:00Z', v)]);
  await Promise.all([writeBatch(pool, rowsOf(1)), writeBatch(pool, rowsOf(2)), writeBatch(pool, rowsOf(3))]);
  t.equal(await count(`select count(*) as n from observations where device_id = 'rws-4' and time >= '2025-02-21' and time < '2025-02-22'`), 2, 'each key once');
});

t.test('a day of one series in a sealed month is read through the BRIN, the other months pruned', async (t) => {
  // The test months are a few pages, where a sequential scan is cheaper: sequential scans are
  // priced out to see which index and partitions the plan would use (bench/query.ts times it
  // on real volumes).
  const { rows: plan } = await withClient(async (c) => {
    await c.query(`set enable_seqscan = off`);
    const r = await c.query(
      `explain (costs off) select time, value from observations
        where device_id = 'rws-1' and metric = 'surface_temperature' and channel = '' and time >= '2025-02-10T00:00:00Z' and time < '2025-02-11T00:00:00Z'`,
    );
    await c.query(`reset enable_seqscan`);
    return r;
  });
  const text = plan.map((r) => r['QUERY PLAN']).join('\n');
  t.match(text, /Bitmap Index Scan on observation_values_sealed_y2025m02_series_id_time_idx/, 'the BRIN of February');
  t.notMatch(text, /observation_values_sealed_y2025m01/, 'January pruned');
  t.notMatch(text, /observation_values_y2025m03/, 'the hot month pruned');
});

t.test('a row written to the month between the copy and the swap is copied again under the lock', async (t) => {
  const before = await count(`select count(*) as n from observations where time >= '2025-03-01' and time < '2025-04-01'`);
  const done = await withClient((c) =>
    sealMonth(c, new Date('2025-03-01T00:00:00Z'), 10_000, () =>
      writeBatch(pool, batch([obs('rws-5', 'surface_temperature', '2025-03-05T05:05:00Z', 5)])),
    ),
  );
  t.equal(done.recopied, true);
  t.equal(done.rows, before + 1);
  t.equal(await count(`select count(*) as n from observations where time >= '2025-03-01' and time < '2025-04-01'`), before + 1, 'nothing lost, nothing doubled');
  t.equal(await count(`select count(*) as n from observation_values_sealed_y2025m03`), before + 1);
  t.same(await relations('observation_values_y2025m03'), [], 'the hot month is gone');
  t.equal((await pool.query(`select sealed_before from observation_seal`)).rows[0].sealed_before.toISOString(), '2025-04-01T00:00:00.000Z');
  const { rows } = await pool.query(
    `select brin_summarize_new_values('observation_values_sealed_y2025m03_series_id_time_idx'::regclass)::int as n`,
  );
  t.equal(rows[0].n, 0, 'the ranges filled by the second copy are summarized');
});

t.test('retention drops sealed months as a whole', async (t) => {
  // Sixty days before 15 April 2025: January ends before the cut-off, February does not.
  const report = await withClient((c) => maintainPartitions(c, NOW, 60));
  t.ok(report.dropped.includes('observation_values_sealed_y2025m01'));
  t.notOk(report.dropped.includes('observation_values_sealed_y2025m02'));
  t.same(await relations('observation_values_sealed_y%'), ['observation_values_sealed_y2025m02', 'observation_values_sealed_y2025m03']);
  t.equal(await count(`select count(*) as n from observations where time < '2025-02-01'`), 0, 'January and the late December row are gone');
  t.ok((await count(`select count(*) as n from observations where time >= '2025-02-01' and time < '2025-03-01'`)) > 0, 'February stays');
});
