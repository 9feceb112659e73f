/**
 * The InfluxDB mirror against a real server speaking the v2 write API (VictoriaMetrics; CI runs
 * infra/ci/start-victoria-metrics.sh): tags, fields and timestamps read back; an outage that
 * does not touch the SQL store, then recovery; the buffer bound and its drop counter.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startTestPlatform, type TestPlatform } from './helpers/platform.ts';
import { exportSeries, healthy, privateVictoria, SHARED_VICTORIA_URL } from './helpers/victoria.ts';
import { waitFor } from './helpers/wait.ts';

const run = `t${randomBytes(4).toString('hex')}_`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-influx-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const registry = path.join(dir, 'devices.yaml');
writeFileSync(
  registry,
  `devices:
  - { id: ${run}rws, kind: road-weather-station, domain: roads, site: col-des-essais, periodSeconds: 360 }
  - { id: ${run}clg, kind: building-sensor, domain: buildings, building: { building: college-test, zone: s1 } }
`,
);

async function metric(tp: TestPlatform, name: string): Promise<number> {
  const res = await tp.platform.app.inject({ method: 'GET', url: '/metrics' });
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(res.body);
  return m ? Number(m[1]) : NaN;
}

t.test('observations are mirrored with tags, fields and exact timestamps', async (t) => {
  t.ok(await healthy(SHARED_VICTORIA_URL), `VictoriaMetrics answers at ${SHARED_VICTORIA_URL} (run infra/ci/start-victoria-metrics.sh)`);
  const tp = await startTestPlatform({
    env: { VIGIE_REGISTRY: registry, VIGIE_INFLUX_URL: SHARED_VICTORIA_URL, VIGIE_INFLUX_MEASUREMENT_PREFIX: run, VIGIE_INFLUX_FLUSH_MS: '50' },
  });
  t.teardown(() => tp.stop());
  const pub = await tp.publisher();
  const ts = Date.now() - 120_000;
  await pub.publishAsync(`${tp.prefix}vigie/${run}rws/telemetry`, JSON.stringify({ ts, metrics: { surface_temperature: -1.25 }, channels: { lane1: { vehicle_count: 17 } } }), { qos: 1 });
  await pub.publishAsync(`${tp.prefix}vigie/${run}clg/telemetry`, JSON.stringify({ ts: ts + 1, metrics: { co2: 1234 } }), { qos: 1 });
  const series = await waitFor(async () => {
    const s = await exportSeries(SHARED_VICTORIA_URL, run);
    return s.length >= 3 ? s : undefined;
  });
  const byName = Object.fromEntries(series.map((s) => [s.metric.__name__, s]));
  t.same(byName[`${run}roads_surface_temperature`], { metric: { __name__: `${run}roads_surface_temperature`, device: `${run}rws`, kind: 'road-weather-station', site: 'col-des-essais' }, values: [-1.25], timestamps: [ts] });
  t.same(byName[`${run}roads_vehicle_count`]?.metric.channel, 'lane1');
  t.same(byName[`${run}roads_vehicle_count`]?.values, [17]);
  t.same(byName[`${run}buildings_co2`], { metric: { __name__: `${run}buildings_co2`, device: `${run}clg`, kind: 'building-sensor', site: 'college-test' }, values: [1234], timestamps: [ts + 1] });
  t.equal(await metric(tp, 'vigie_influx_points_written_total'), 3);
});

t.test('an InfluxDB outage never holds the SQL store back, and the mirror catches up', async (t) => {
  const vm = await privateVictoria();
  t.teardown(() => vm.destroy());
  const tp = await startTestPlatform({
    env: { VIGIE_INFLUX_URL: vm.url, VIGIE_INFLUX_MEASUREMENT_PREFIX: run, VIGIE_INFLUX_FLUSH_MS: '20', VIGIE_RETRY_MIN_MS: '50', VIGIE_RETRY_MAX_MS: '300', VIGIE_INFLUX_TIMEOUT_MS: '1000' },
  });
  t.teardown(() => tp.stop());
  const pub = await tp.publisher();
  const base = Date.now() - 600_000;
  for (let i = 0; i < 20; i++) {
    await pub.publishAsync(`${tp.prefix}vigie/${run}down/telemetry`, JSON.stringify({ ts: base + i * 1000, metrics: { air_temperature: i } }), { qos: 1 });
  }
  // The server is down: every reading still reaches PostgreSQL.
  await waitFor(async () => {
    const { rows } = await tp.platform.pool.query(`select count(*)::int as n from observations where device_id = $1`, [`${run}down`]);
    return rows[0].n === 20;
  });
  await waitFor(async () => (await metric(tp, 'vigie_influx_write_failures_total')) >= 2, 15_000, 'failed write attempts');
  t.equal(await metric(tp, 'vigie_influx_points_written_total'), 0);
  t.equal(await metric(tp, 'vigie_influx_points_dropped_total'), 0, 'nothing dropped while under the bound');
  // The server comes (back) up: the retried batches land.
  await vm.start();
  const series = await waitFor(async () => {
    const s = await exportSeries(vm.url, `${run}roads_air_temperature`);
    return s[0] && s[0].values.length === 20 ? s[0] : undefined;
  }, 30_000, 'mirrored points after the outage');
  t.same(series.values, Array.from({ length: 20 }, (_, i) => i));
  t.same(series.timestamps, Array.from({ length: 20 }, (_, i) => base + i * 1000));
  t.equal(await metric(tp, 'vigie_influx_points_written_total'), 20);
  t.equal(await metric(tp, 'vigie_influx_buffer_points'), 0);
});

t.test('the buffer is bounded: beyond it the oldest points are dropped and counted', async (t) => {
  const vm = await privateVictoria(); // never started: a dead port
  t.teardown(() => vm.destroy());
  const tp = await startTestPlatform({
    env: { VIGIE_INFLUX_URL: vm.url, VIGIE_INFLUX_MAX_BUFFER: '5', VIGIE_INFLUX_BATCH_SIZE: '3', VIGIE_RETRY_MIN_MS: '1000', VIGIE_RETRY_MAX_MS: '5000' },
  });
  t.teardown(() => tp.stop());
  const pub = await tp.publisher();
  for (let i = 0; i < 20; i++) {
    await pub.publishAsync(`${tp.prefix}vigie/${run}full/telemetry`, JSON.stringify({ ts: Date.now() - 60_000 + i, metrics: { co2: 400 + i } }), { qos: 1 });
  }
  await waitFor(async () => {
    const { rows } = await tp.platform.pool.query(`select count(*)::int as n from observations where device_id = $1`, [`${run}full`]);
    return rows[0].n === 20;
  });
  await waitFor(async () => (await metric(tp, 'vigie_influx_points_dropped_total')) === 15, 10_000, '15 dropped points');
  t.equal(await metric(tp, 'vigie_influx_buffer_points'), 5, 'the buffer holds its bound');
});
