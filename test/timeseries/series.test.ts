/**
 * GET /api/v1/series in both storage modes: aggregates against hand-computed answers, DST days
 * of 23 and 25 hours, gap filling, late data reaching the rollups, and the 400 guards. Every
 * answer is checked from raw rows and from the rollups (as inserted, and once the background
 * rollup work has run: the plain-PostgreSQL worker, or TimescaleDB's aggregate refresh).
 */
import t, { type Test } from 'tap';
import { forEachStorageMode, type StorageMode } from '../helpers/database.ts';
import { every, insertRows, settleRollups } from '../helpers/observations.ts';
import { startTestPlatform } from '../helpers/platform.ts';

interface Series {
  source: string;
  series: Array<{ deviceId: string; metric: string; channel: string; unit: string; points: Array<Record<string, number | string | null>> }>;
}

await forEachStorageMode(t, suite);

async function suite(t: Test, mode: StorageMode): Promise<void> {
  const tp = await startTestPlatform({ storage: mode });
  t.teardown(() => tp.stop());
  const pool = tp.platform.pool;
  t.equal(tp.platform.timescale, mode === 'timescale', 'the platform runs the storage mode the test pinned');
  const settle = () => settleRollups(pool);
  const series = (qs: string) => tp.get<Series>(`/api/v1/series?${qs}`);

  // One vehicle per 6-minute period around both 2026 DST changes (29 March, 25 October).
  await insertRows(pool, [
    ...every('2026-03-27T23:00:00Z', '2026-03-30T22:00:00Z', 6).map((time) => ({ device: 'tc-dst', metric: 'vehicle_count', channel: 'lane1', time, value: 1 })),
    ...every('2026-10-23T22:00:00Z', '2026-10-26T23:00:00Z', 6).map((time) => ({ device: 'tc-dst', metric: 'vehicle_count', channel: 'lane1', time, value: 1 })),
  ]);

  for (const phase of ['as inserted', 'after the background rollup work']) {
    t.test(`calendar days in Europe/Paris have 23 and 25 hours (${phase})`, async (t) => {
      for (const source of ['auto', 'raw']) {
        const spring = await series(`device=tc-dst&metric=vehicle_count&from=2026-03-28T00:00:00%2B01:00&to=2026-03-30T00:00:00%2B02:00&bucket=1d&agg=count,sum&source=${source}`);
        t.equal(spring.status, 200);
        t.equal(spring.body.source, source === 'raw' ? 'raw' : 'daily');
        const pts = spring.body.series[0]!.points;
        t.same(pts.map((p) => p.time), ['2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z'], 'local midnights');
        t.same(pts.map((p) => p.count), [240, 230], `${source}: 24 h then 23 h of 6-minute periods`);
        const autumn = await series(`device=tc-dst&metric=vehicle_count&from=2026-10-24T00:00:00%2B02:00&to=2026-10-26T00:00:00%2B01:00&bucket=1d&agg=sum&source=${source}`);
        t.same(autumn.body.series[0]!.points.map((p) => p.sum), [240, 250], `${source}: the 25-hour day counts 250 periods`);
        const utc = await series(`device=tc-dst&metric=vehicle_count&from=2026-03-29T00:00:00Z&to=2026-03-30T00:00:00Z&bucket=1d&agg=count&tz=UTC&source=${source}`);
        t.same(utc.body.series[0]!.points.map((p) => p.count), [240], 'a UTC day is 24 hours');
      }
      await settle();
    });
}

t.test('week and month buckets follow the local calendar', async (t) => {
  const week = await series(`device=tc-dst&metric=vehicle_count&from=2026-03-23T00:00:00%2B01:00&to=2026-03-31T00:00:00%2B02:00&bucket=1w&agg=sum`);
  t.same(week.body.series[0]!.points.map((p) => [p.time, p.sum]), [
    ['2026-03-22T23:00:00.000Z', 10 * (24 + 23)], // data starts on Saturday 28 March
    ['2026-03-29T22:00:00.000Z', 10 * 24],
  ]);
  const month = await series(`device=tc-dst&metric=vehicle_count&from=2026-10-01T00:00:00%2B02:00&to=2026-11-01T00:00:00%2B01:00&bucket=1M&agg=sum&source=raw`);
  const monthRollup = await series(`device=tc-dst&metric=vehicle_count&from=2026-10-01T00:00:00%2B02:00&to=2026-11-01T00:00:00%2B01:00&bucket=1M&agg=sum`);
  t.same(month.body.series[0]!.points, [{ time: '2026-09-30T22:00:00.000Z', sum: 730 }], '24 + 24 + 25 hours in October');
  t.same(monthRollup.body.series[0]!.points, month.body.series[0]!.points);
});

t.test('aggregates match hand-computed values', async (t) => {
  await insertRows(pool, every('2026-02-02T08:00:00Z', '2026-02-02T09:00:00Z', 6).map((time, i) => ({ device: 'rws-agg', metric: 'surface_temperature', time, value: i + 1 })));
  for (const source of ['auto', 'raw']) {
    const r = await series(`device=rws-agg&metric=surface_temperature&from=2026-02-02T08:00:00Z&to=2026-02-02T09:00:00Z&bucket=1h&agg=avg,min,max,sum,count,last&source=${source}`);
    t.same(r.body.series[0]!.points, [{ time: '2026-02-02T08:00:00.000Z', avg: 5.5, min: 1, max: 10, sum: 55, count: 10, last: 10 }], source);
    t.equal(r.body.series[0]!.unit, '°C');
  }
  const p = await series(`device=rws-agg&metric=surface_temperature&from=2026-02-02T08:00:00Z&to=2026-02-02T09:00:00Z&bucket=30m&agg=p85,p50`);
  t.equal(p.body.source, 'raw', 'percentiles come from raw rows');
  // Continuous percentile of 1..5 and 6..10 (linear interpolation between ranks).
  t.same(p.body.series[0]!.points.map((x) => [x.p50, x.p85]), [[3, 4.4], [8, 9.4]]);
});

t.test('gap filling: none, null, previous, linear', async (t) => {
  await insertRows(pool, [
    { device: 'bld-gap', metric: 'co2', time: '2026-01-05T08:00:00Z', value: 400 },
    { device: 'bld-gap', metric: 'co2', time: '2026-01-05T11:00:00Z', value: 1000 },
  ]);
  const q = (fill: string) => series(`device=bld-gap&metric=co2&from=2026-01-05T08:00:00Z&to=2026-01-05T12:00:00Z&bucket=1h&agg=avg,count&fill=${fill}`);
  t.same((await q('none')).body.series[0]!.points.map((p) => p.avg), [400, 1000]);
  t.same((await q('null')).body.series[0]!.points.map((p) => p.avg), [400, null, null, 1000]);
  t.same((await q('previous')).body.series[0]!.points.map((p) => p.avg), [400, 400, 400, 1000]);
  const linear = (await q('linear')).body.series[0]!.points;
  t.same(linear.map((p) => p.avg), [400, 600, 800, 1000]);
  t.same(linear.map((p) => p.count), [1, 0, 0, 1], 'counts are never interpolated');
});

t.test('late data lands in its bucket, in the rollups too', async (t) => {
  await settle();
  const url = `device=rws-agg&metric=surface_temperature&from=2026-02-02T08:00:00Z&to=2026-02-02T09:00:00Z&bucket=1h&agg=count,max`;
  await insertRows(pool, [{ device: 'rws-agg', metric: 'surface_temperature', time: '2026-02-02T08:59:00Z', value: 42 }]);
  t.same((await series(url)).body.series[0]!.points[0], { time: '2026-02-02T08:00:00.000Z', count: 11, max: 42 }, 'at once, before the background work');
  await settle();
  // What is stored, not the real-time answer: the rollup tables, or the aggregates' materialization.
  const [hourly, daily] = mode === 'plain' ? ['rollup_hourly', 'rollup_daily'] : [await materialization(tp.platform.pool, 'cagg_series_hourly'), await materialization(tp.platform.pool, 'cagg_series_daily')];
  const { rows } = await pool.query(`select n::int, max from ${hourly} h join series s on s.id = h.series_id where s.device_id = 'rws-agg' and bucket = '2026-02-02T08:00:00Z'`);
  t.same(rows, [{ n: 11, max: 42 }], 'the touched hour was recomputed');
  const { rows: day } = await pool.query(`select n::int from ${daily} r join series s on s.id = r.series_id where s.device_id = 'rws-agg'`);
  t.same(day, [{ n: 11 }], 'and its local day');
  t.same((await series(url)).body.series[0]!.points[0], { time: '2026-02-02T08:00:00.000Z', count: 11, max: 42 });
});

t.test('unbounded or malformed requests get a clear 400', async (t) => {
  const noTo = await tp.get<{ code: string; message: string }>('/api/v1/series?device=tc-dst&metric=vehicle_count&from=2026-01-01T00:00:00Z');
  t.equal(noTo.status, 400);
  t.equal(noTo.body.code, 'VIGIE_ERR_VALIDATION');
  t.match(noTo.body.message, /to/);
  const noDevice = await tp.get<{ code: string }>('/api/v1/series?metric=vehicle_count&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z');
  t.equal(noDevice.status, 400);
  const huge = await tp.get<{ code: string; message: string }>('/api/v1/series?device=tc-dst&metric=vehicle_count&from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=1m');
  t.equal(huge.status, 400);
  t.equal(huge.body.code, 'VIGIE_ERR_TOO_MANY_POINTS');
  t.match(huge.body.message, /export/);
  const bucket = await tp.get<{ code: string; message: string }>('/api/v1/series?device=tc-dst&metric=vehicle_count&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&bucket=2d');
  t.equal(bucket.status, 400);
  t.match(bucket.body.message, /calendar/);
  const tz = await tp.get<{ code: string }>('/api/v1/series?device=tc-dst&metric=vehicle_count&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&tz=Mars/Olympus');
  t.equal(tz.status, 400);
  const order = await tp.get<{ code: string }>('/api/v1/series?device=tc-dst&metric=vehicle_count&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z');
  t.equal(order.status, 400);
});

t.test('the time-series routes are in the OpenAPI document', async (t) => {
  const doc = await tp.get<{ paths: Record<string, unknown> }>('/docs/json');
  for (const p of ['/api/v1/series', '/api/v1/traffic/stations', '/api/v1/traffic/tmja', '/api/v1/roads/conditions', '/api/v1/buildings/consumption', '/api/v1/buildings/comfort', '/api/v1/export', '/api/v1/stream']) {
    t.ok(doc.body.paths[p], p);
  }
});
}

/** The hypertable holding a continuous aggregate's materialized rows. */
async function materialization(pool: import('pg').Pool, view: string): Promise<string> {
  const { rows } = await pool.query<{ rel: string }>(
    `select format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) as rel
       from timescaledb_information.continuous_aggregates where view_name = $1`,
    [view],
  );
  return rows[0]!.rel;
}
