/**
 * TimescaleDB and plain PostgreSQL give the same answers on the same data: two platforms, one
 * per storage mode (plain on the machine's PostgreSQL, TimescaleDB on TEST_TIMESCALE_URL), fed
 * the same rows, asked the same questions. Without TEST_TIMESCALE_URL the comparison fails
 * (TEST_TIMESCALE_SKIP=1 reports it as skipped instead; CI never sets it).
 */
import t from 'tap';
import { refreshAggregate } from '../../services/store/timescale.ts';
import { timescaleTest } from '../helpers/database.ts';
import { every, insertRows, settleRollups, type Row } from '../helpers/observations.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

await timescaleTest(t, 'TimescaleDB and plain PostgreSQL return the same answers', async (t) => {
  const plain = await startTestPlatform({ storage: 'plain' });
  t.teardown(() => plain.stop());
  const ts = await startTestPlatform({ storage: 'timescale' });
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
  // Materialize part of the TimescaleDB aggregates, then add late data, as in production
  // (insertRows also runs the explicit refresh the module runs for rows older than the window).
  await refreshAggregate(ts.platform.pool, 'cagg_hourly', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
  await refreshAggregate(ts.platform.pool, 'cagg_daily', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
  const late: Row[] = [{ device: 'tc-m', metric: 'vehicle_count', channel: 'lane1', time: '2026-03-29T10:03:00Z', value: 99 }];
  for (const tp of [plain, ts]) await insertRows(tp.platform.pool, late);
  await refreshAggregate(ts.platform.pool, 'cagg_hourly', '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z');
  await refreshAggregate(ts.platform.pool, 'cagg_daily', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z');

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
    t.equal(r.status, 200, `${url} answers`);
    return r.body;
  };
  for (const url of urls) t.same(await answer(ts, url), await answer(plain, url), url);

  // Recent data, inside the refresh-policy window: answered by real-time aggregation (raw rows
  // after the watermark; the plain real-time views), then again once the background rollup
  // work has materialized it.
  const hour = 3600_000;
  const start = new Date(Math.floor(Date.now() / hour) * hour - 72 * hour);
  const recent: Row[] = every(start.toISOString(), new Date(Date.now() - 600_000).toISOString(), 6).map((time, i) => ({ device: 'tc-r', metric: 'vehicle_count', channel: 'lane1', time, value: i % 13 }));
  for (const tp of [plain, ts]) await insertRows(tp.platform.pool, recent);
  const from = encodeURIComponent(start.toISOString());
  const to = encodeURIComponent(new Date(start.getTime() + 73 * hour).toISOString());
  const recentUrls = [`/api/v1/series?device=tc-r&metric=vehicle_count&from=${from}&to=${to}&bucket=1h&agg=sum,count,min,max,last`, `/api/v1/series?device=tc-r&metric=vehicle_count&from=${from}&to=${to}&bucket=1d&agg=sum,count,avg`];
  for (const url of recentUrls) {
    const plainAnswer = (await answer(plain, url)) as { series: Array<{ points: Array<{ count: number }> }> };
    t.equal(plainAnswer.series[0]!.points.reduce((n, p) => n + p.count, 0), recent.length, 'every recent row counted');
    t.same(await answer(ts, url), plainAnswer, `recent, real time: ${url}`);
  }
  for (const tp of [plain, ts]) await settleRollups(tp.platform.pool);
  for (const url of recentUrls) t.same(await answer(ts, url), await answer(plain, url), `recent, materialized: ${url}`);
});
