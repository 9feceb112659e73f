/**
 * TimescaleDB and plain PostgreSQL give the same answers on the same data. This comparison
 * needs a server with the timescaledb extension (preloaded); on a server without it the suite
 * says so and reports the comparison as skipped (the plain path is covered by the other
 * timeseries tests). Point TEST_DATABASE_ADMIN_URL at a TimescaleDB server to run it.
 */
import pg from 'pg';
import t from 'tap';
import { every, insertRows, type Row } from '../helpers/observations.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
const { rows } = await admin.query(`select 1 from pg_available_extensions where name = 'timescaledb'`);
await admin.end();
const available = rows.length > 0;
if (!available) t.comment('timescaledb is not installed on this PostgreSQL server: the TimescaleDB-vs-plain comparison cannot run here');

t.test('TimescaleDB and plain PostgreSQL return the same answers', { skip: available ? false : 'timescaledb extension not available on this server' }, async (t) => {
  const plain = await startTestPlatform({ env: { VIGIE_TIMESCALE: 'off' } });
  t.teardown(() => plain.stop());
  const ts = await startTestPlatform({ env: { VIGIE_TIMESCALE: 'require' } });
  t.teardown(() => ts.stop());
  t.equal(plain.platform.timescale, false);
  t.equal(ts.platform.timescale, true);
  const { rows: caggs } = await ts.platform.pool.query(`select view_name from timescaledb_information.continuous_aggregates order by 1`);
  t.same(caggs.map((r) => r.view_name), ['cagg_series_daily', 'cagg_series_hourly']);
  const { rows: jobs } = await ts.platform.pool.query(`select proc_name from timescaledb_information.jobs where hypertable_name = 'observation_values' order by 1`);
  t.ok(jobs.some((j) => j.proc_name === 'policy_compression'), 'compression policy');

  const data: Row[] = [
    ...every('2026-03-27T23:00:00Z', '2026-03-30T22:00:00Z', 6).map((time, i) => ({ device: 'tc-m', metric: 'vehicle_count', channel: 'lane1', time, value: i % 17 })),
    ...every('2026-03-27T23:00:00Z', '2026-03-30T22:00:00Z', 6).map((time, i) => ({ device: 'tc-m', metric: 'mean_speed', channel: 'lane1', time, value: 60 + (i % 31) })),
    ...every('2026-01-01T00:00:00Z', '2026-01-20T00:00:00Z', 60).map((time, i) => ({ device: 'm-m', metric: 'energy', time, value: i === 200 ? 3 : 1000 + i * 2 })),
    // V85 inputs: individual vehicle records on lane2, light-vehicle speed classes on lane1.
    ...every('2026-03-29T08:00:00Z', '2026-03-29T09:00:00Z', 1).flatMap((time, i) => [
      { device: 'tc-m', metric: 'vehicle_speed', channel: 'lane2', time, value: 70 + ((i * 7) % 40) },
      { device: 'tc-m', metric: 'vehicle_headway', channel: 'lane2', time, value: 3 + (i % 5) },
      { device: 'tc-m', metric: 'vehicle_heavy', channel: 'lane2', time, value: i % 9 === 0 ? 1 : 0 },
    ]),
    ...every('2026-03-29T08:00:00Z', '2026-03-29T10:00:00Z', 6).flatMap((time, i) => [
      { device: 'tc-m', metric: 'occupancy', channel: 'lane1', time, value: 5 + (i % 20) },
      ...[0, 50, 70, 90, 110].map((from, k) => ({ device: 'tc-m', metric: 'light_speed_class_count', channel: `lane1:${from}${k === 4 ? '+' : `-${[50, 70, 90, 110][k]}`}`, time, value: (i + k) % 6 })),
    ]),
  ];
  for (const tp of [plain, ts]) {
    await tp.platform.pool.query(`insert into devices (id, kind, domain, registered, building) values ('tc-m', 'traffic-counter', 'roads', true, null), ('m-m', 'meter', 'buildings', true, '{"building":"b-m"}')`);
    await insertRows(tp.platform.pool, data);
  }
  // Materialize part of the TimescaleDB aggregates, then add late data, as in production.
  await ts.platform.pool.query(`call refresh_continuous_aggregate('cagg_series_hourly', '2026-03-01', '2026-04-01')`);
  await ts.platform.pool.query(`call refresh_continuous_aggregate('cagg_series_daily', '2026-03-01', '2026-04-01')`);
  const late: Row[] = [{ device: 'tc-m', metric: 'vehicle_count', channel: 'lane1', time: '2026-03-29T10:03:00Z', value: 99 }];
  for (const tp of [plain, ts]) await insertRows(tp.platform.pool, late);
  await ts.platform.pool.query(`call refresh_continuous_aggregate('cagg_series_hourly', '2026-03-29', '2026-03-30')`);
  await ts.platform.pool.query(`call refresh_continuous_aggregate('cagg_series_daily', '2026-03-28', '2026-03-31')`);

  const urls = [
    '/api/v1/series?device=tc-m&metric=vehicle_count,mean_speed&from=2026-03-28T00:00:00%2B01:00&to=2026-03-31T00:00:00%2B02:00&bucket=1d&agg=avg,min,max,sum,count,last',
    '/api/v1/series?device=tc-m&metric=vehicle_count&from=2026-03-29T00:00:00Z&to=2026-03-29T12:00:00Z&bucket=1h&agg=sum,last&fill=linear',
    '/api/v1/series?device=tc-m&metric=mean_speed&from=2026-03-29T00:00:00Z&to=2026-03-30T00:00:00Z&bucket=3h&agg=p85,avg',
    '/api/v1/series?device=tc-m&metric=vehicle_count&from=2026-03-23T00:00:00%2B01:00&to=2026-04-01T00:00:00%2B02:00&bucket=1w&agg=sum',
    '/api/v1/traffic/tmja?year=2026&device=tc-m',
    '/api/v1/traffic/stations?device=tc-m&from=2026-03-28T00:00:00Z&to=2026-03-31T00:00:00Z',
    '/api/v1/traffic/stations?device=tc-m&from=2026-03-28T00:00:00Z&to=2026-03-31T00:00:00Z&by=lane',
    '/api/v1/buildings/consumption?building=b-m&bucket=1d&from=2026-01-01T00:00:00%2B01:00&to=2026-01-20T00:00:00%2B01:00',
  ];
  const answer = async (tp: TestPlatform, url: string) => {
    const r = await tp.get<Record<string, unknown>>(url);
    return r.body;
  };
  for (const url of urls) t.same(await answer(ts, url), await answer(plain, url), url);
});
