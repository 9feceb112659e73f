/** Exports: CSV/NDJSON, raw and aggregated, and streaming with backpressure over real HTTP. */
import http from 'node:http';
import t from 'tap';
import { csvField } from '../../services/timeseries/export.ts';
import { insertRows, settleRollups } from '../helpers/observations.ts';
import { authHeaders, startTestPlatform, TEST_ADMIN_TOKEN } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
const pool = tp.platform.pool;

await insertRows(pool, [
  { device: 'rws-x', metric: 'surface_temperature', time: '2026-02-01T00:00:00Z', value: -1.5 },
  { device: 'rws-x', metric: 'surface_temperature', time: '2026-02-01T00:30:00Z', value: -0.5 },
  { device: 'rws-x', metric: 'surface_temperature', time: '2026-02-01T01:10:00Z', value: 1 },
  { device: 'rws-x', metric: 'air_temperature', time: '2026-02-01T00:00:00Z', value: 2 },
]);

t.test('CSV quoting follows RFC 4180', async (t) => {
  t.equal(csvField('plain'), 'plain');
  t.equal(csvField('a,b'), '"a,b"');
  t.equal(csvField('say "hi"'), '"say ""hi"""');
  t.equal(csvField(null), '');
});

t.test('raw CSV and NDJSON', async (t) => {
  const csv = await tp.platform.app.inject({ method: 'GET', url: '/api/v1/export?device=rws-x&from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z' });
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /text\/csv/);
  const lines = csv.body.trim().split('\n');
  t.equal(lines[0], 'time,device_id,metric,channel,value,unit,quality,received_at');
  t.same(
    lines.slice(1).map((l) => l.split(',').slice(0, 7).join(',')),
    [
      '2026-02-01T00:00:00.000Z,rws-x,air_temperature,,2,°C,',
      '2026-02-01T00:00:00.000Z,rws-x,surface_temperature,,-1.5,°C,',
      '2026-02-01T00:30:00.000Z,rws-x,surface_temperature,,-0.5,°C,',
      '2026-02-01T01:10:00.000Z,rws-x,surface_temperature,,1,°C,',
    ],
  );
  t.ok(lines.slice(1).every((l) => !Number.isNaN(Date.parse(l.split(',')[7]!))), 'received_at column');
  const nd = await tp.platform.app.inject({ method: 'GET', url: '/api/v1/export?format=ndjson&device=rws-x&metric=surface_temperature&from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z' });
  t.match(nd.headers['content-type'], /ndjson/);
  const objs = nd.body.trim().split('\n').map((l) => JSON.parse(l));
  t.same(objs.map((l) => [l.time, l.value, l.unit]), [
    ['2026-02-01T00:00:00.000Z', -1.5, '°C'],
    ['2026-02-01T00:30:00.000Z', -0.5, '°C'],
    ['2026-02-01T01:10:00.000Z', 1, '°C'],
  ]);
});

t.test('aggregated export uses the series buckets', async (t) => {
  const nd = await tp.platform.app.inject({
    method: 'GET',
    url: '/api/v1/export?format=ndjson&device=rws-x&metric=surface_temperature&from=2026-02-01T00:00:00Z&to=2026-02-01T02:00:00Z&bucket=1h&agg=min,max,count',
  });
  t.equal(nd.statusCode, 200);
  t.same(nd.body.trim().split('\n').map((l) => JSON.parse(l)), [
    { time: '2026-02-01T00:00:00.000Z', deviceId: 'rws-x', metric: 'surface_temperature', channel: '', min: -1.5, max: -0.5, count: 2, unit: '°C' },
    { time: '2026-02-01T01:00:00.000Z', deviceId: 'rws-x', metric: 'surface_temperature', channel: '', min: 1, max: 1, count: 1, unit: '°C' },
  ]);
  const csv = await tp.platform.app.inject({ method: 'GET', url: '/api/v1/export?device=rws-x&metric=surface_temperature&from=2026-02-01T00:00:00Z&to=2026-02-01T02:00:00Z&bucket=1h&agg=avg' });
  t.same(csv.body.trim().split('\n'), ['time,device_id,metric,channel,avg,unit', '2026-02-01T00:00:00.000Z,rws-x,surface_temperature,,-1,°C', '2026-02-01T01:00:00.000Z,rws-x,surface_temperature,,1,°C']);
  const bad = await tp.get<{ code: string }>('/api/v1/export?device=rws-x&from=2026-02-01T00:00:00Z&to=2026-02-01T02:00:00Z&agg=avg');
  t.equal(bad.status, 400);
  const noRange = await tp.get<{ code: string }>('/api/v1/export?device=rws-x');
  t.equal(noRange.status, 400);
});

t.test('a large export streams in chunks and waits for a slow client', async (t) => {
  // 200 000 rows: one lane counted every minute for ~139 days.
  await pool.query(
    `insert into observations (device_id, metric, channel, time, received_at, value, quality)
     select 'tc-big', 'vehicle_count', 'lane1', timestamptz '2025-01-01T00:00:00Z' + make_interval(mins => g), now(), g % 50, 0
       from generate_series(0, 199999) g`,
  );
  await settleRollups(pool);
  const url = `${tp.platform.httpUrl}/api/v1/export?device=tc-big&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, { headers: authHeaders() }, resolve).on('error', reject));
  t.equal(res.statusCode, 200);
  t.equal(res.headers['transfer-encoding'], 'chunked');
  t.equal(res.headers['x-vigie-estimated-rows'], '200000', 'estimate from the daily rollups');
  // Read one chunk, then stop reading: the server must hold its cursor open, not buffer it all.
  const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
  res.pause();
  t.ok(first.length > 0);
  // With the extended protocol the suspended portal shows as an active backend mid-transaction.
  const parked = await waitFor(async () => {
    const { rows } = await pool.query(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and state <> 'idle' and query like 'select time, device_id, metric, channel, value%'`,
    );
    return rows[0].n >= 1;
  }).catch((err) => {
    res.destroy();
    throw err;
  });
  t.ok(parked, 'the export query is parked on backpressure with its cursor open');
  let lines = 0;
  let chunks = 1;
  for (const c of first.toString('utf8')) if (c === '\n') lines++;
  res.on('data', (c: Buffer) => {
    chunks++;
    for (let i = 0; i < c.length; i++) if (c[i] === 10) lines++;
  });
  res.resume();
  await new Promise((resolve) => res.on('end', resolve));
  t.equal(lines, 200_001, 'header and every row');
  t.ok(chunks > 10, `many chunks (${chunks})`);
});

t.test('vigie export writes the file and reports progress', async (t) => {
  const { execFile } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-export-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'out.ndjson');
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['bin/vigie.js', 'export', '--api', tp.platform.httpUrl, '--device', 'rws-x', '--metric', 'surface_temperature', '--from', '2026-02-01T00:00:00Z', '--to', '2026-02-02T00:00:00Z', '--format', 'ndjson', '--out', file],
      { env: { ...process.env, VIGIE_TOKEN: TEST_ADMIN_TOKEN } },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
  t.equal(code, 0, stderr);
  t.match(stderr, /3 rows written/);
  t.match(stderr, /100%/, 'progress bar reached the end');
  t.same(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).value), [-1.5, -0.5, 1]);
  const bad = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, ['bin/vigie.js', 'export', '--api', tp.platform.httpUrl, '--from', 'x', '--to', 'y', '--out', file], { env: { ...process.env, VIGIE_TOKEN: TEST_ADMIN_TOKEN } }, (err, _o, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /HTTP 400/);
});
