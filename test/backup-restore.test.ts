/**
 * The backup and restore procedure of docs/operations.md, run for real: a migrated database
 * with data that came through the ingest path is dumped with pg_dump (custom format) while
 * Vigie runs, restored with pg_restore into a fresh database, and a Vigie started on the copy
 * answers the API exactly as the original did (devices, raw observations, hourly series,
 * latest values, dead letters), and keeps ingesting.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { createTestDatabase } from './helpers/database.ts';
import { startTestPlatform, type TestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-backup-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const registry = path.join(dir, 'devices.yaml');
writeFileSync(
  registry,
  `devices:
  - { id: rws-1, kind: road-weather-station, domain: roads, road: { route: RD910, pr: 42 }, periodSeconds: 360 }
  - { id: tc-1, kind: traffic-counter, domain: roads, periodSeconds: 360 }
`,
);
const env = { VIGIE_REGISTRY: registry };

const hour = 3_600_000;
const t0 = Math.floor(Date.now() / hour) * hour - 6 * hour;
const from = new Date(t0).toISOString();
const to = new Date(t0 + 6 * hour).toISOString();
const URLS = [
  '/api/v1/devices',
  `/api/v1/observations?device=rws-1&from=${from}&to=${to}&limit=1000`,
  `/api/v1/series?device=rws-1,tc-1&metric=surface_temperature,vehicle_count&from=${from}&to=${to}&bucket=1h&agg=avg,sum,count`,
  '/api/v1/devices/rws-1/latest',
  '/api/v1/dead-letters',
];

/**
 * Floating-point sums may differ in the last bits: the copy's rollups are recomputed where the
 * original read materialised ones, adding the same values in another order.
 */
function rounded(v: unknown): unknown {
  if (typeof v === 'number') return Number(v.toPrecision(12));
  if (Array.isArray(v)) return v.map(rounded);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)]));
  return v;
}

async function answers(t: Test, tp: TestPlatform): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const url of URLS) {
    const res = await tp.get(url);
    t.equal(res.status, 200, `${url} answers`);
    out.push(res.body);
  }
  return out;
}

t.test('pg_dump, pg_restore, and Vigie on the copy', async (t) => {
  // Plain PostgreSQL (the TimescaleDB restore needs timescaledb_pre_restore/post_restore around
  // pg_restore: docs/operations.md). The restore target is created from template0, as the
  // PostgreSQL documentation advises for a pg_dump archive (pg_dump, "Notes": template1 may
  // hold local additions that collide with the dumped objects).
  const source = await createTestDatabase('backup-src', 'plain');
  const target = await createTestDatabase('backup-dst', 'plain', { template: 'template0' });
  t.teardown(async () => {
    await source.drop();
    await target.drop();
  });

  const original = await startTestPlatform({ db: source, env });
  const pub = await original.publisher();
  let expected = 0;
  for (let i = 0; i < 60; i++) {
    const ts = t0 + i * 360_000;
    await pub.publishAsync(`${original.prefix}vigie/rws-1/telemetry`, JSON.stringify({ ts, metrics: { surface_temperature: -2 + i / 10, surface_state: 5 } }), { qos: 1 });
    await pub.publishAsync(`${original.prefix}vigie/tc-1/telemetry`, JSON.stringify({ ts, channels: { lane1: { vehicle_count: 10 + i }, lane2: { vehicle_count: 5 } } }), { qos: 1 });
    expected += 4;
  }
  await pub.publishAsync(`${original.prefix}vigie/tc-1/telemetry`, '{"ts": "yesterday"}', { qos: 1 });
  await waitFor(async () => {
    const { rows } = await original.platform.pool.query(`select (select count(*)::int from observations) as n, (select count(*)::int from dead_letters) as dl`);
    return rows[0].n === expected && rows[0].dl === 1;
  }, 60_000, `${expected} observations and a dead letter`);
  const before = await answers(t, original);
  t.ok((before[1] as { items: unknown[] }).items.length > 0, 'observations to compare');

  // The documented commands: an online dump (a consistent snapshot while Vigie writes), then a
  // restore into an empty database owned by the restoring role.
  const dump = path.join(dir, 'vigie.dump');
  await run('pg_dump', ['--format=custom', '--no-owner', `--file=${dump}`, `--dbname=${source.url}`]);
  t.ok(statSync(dump).size > 0, 'pg_dump wrote the archive');
  await original.stop();
  await run('pg_restore', ['--no-owner', '--exit-on-error', '--single-transaction', `--dbname=${target.url}`, dump]);

  const restored = await startTestPlatform({ db: target, env });
  t.teardown(() => restored.stop());
  t.same(rounded(await answers(t, restored)), rounded(before), 'the restored database answers the same');

  const { rows: mig } = await restored.platform.pool.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`);
  t.ok(mig[0].n > 5, 'tables restored');

  // And it keeps working: a new message is stored in the restored database.
  const pub2 = await restored.publisher();
  await pub2.publishAsync(`${restored.prefix}vigie/rws-1/telemetry`, JSON.stringify({ ts: t0 + 61 * 360_000, metrics: { surface_temperature: 4.5 } }), { qos: 1 });
  await waitFor(async () => {
    const { rows } = await restored.platform.pool.query(`select count(*)::int as n from observations`);
    return rows[0].n === expected + 1;
  }, 60_000, 'a new observation after the restore');
  t.pass('ingest continues on the restored database');
});
