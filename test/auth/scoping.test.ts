/**
 * Domain scoping end to end: a buildings token gets nothing of the roads domain from any
 * route, list, stream or export, and the reverse; a token narrowed to one route or building
 * sees only it. Data arrives the real way (MQTT -> ingest -> store -> alerting).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { bearer, createTestToken } from '../helpers/auth.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { openSse, type SseClient } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigie-scope-'));
mkdirSync(path.join(dir, 'rules'));
const ROADS = ['rws-rd910-pr12', 'tc-rd400-pr3'] as const;
const BUILDINGS = ['clg-moulin-s101', 'clg-curie-meter'] as const;
const UNREGISTERED = 'mystery-box-7';
writeFileSync(
  path.join(dir, 'devices.yaml'),
  stringify({
    devices: [
      { id: ROADS[0], kind: 'road-weather-station', domain: 'roads', road: { route: 'RD910', pr: 12 } },
      { id: ROADS[1], kind: 'traffic-counter', domain: 'roads', road: { route: 'RD400', pr: 3 } },
      { id: BUILDINGS[0], kind: 'building-sensor', domain: 'buildings', building: { building: 'clg-moulin', zone: 's101' } },
      { id: BUILDINGS[1], kind: 'meter', domain: 'buildings', building: { building: 'clg-curie' } },
    ],
  }),
);
// Fires for every device reporting an air temperature, whatever its domain.
writeFileSync(
  path.join(dir, 'rules', 'any.yaml'),
  stringify({ rules: [{ id: 'any-air', name: 'air temperature seen', severity: 'info', condition: { type: 'threshold', metric: 'air_temperature', op: 'above', value: -100 } }] }),
);
const tp = await startTestPlatform({ env: { VIGIE_REGISTRY: path.join(dir, 'devices.yaml'), VIGIE_RULES_DIR: path.join(dir, 'rules'), VIGIE_STREAM_HEARTBEAT_MS: '60000' } });
t.teardown(async () => {
  await tp.stop();
  rmSync(dir, { recursive: true, force: true });
});
const pool = tp.platform.pool;
const app = tp.platform.app;
const pub = await tp.publisher();
const send = (id: string, metrics: Record<string, number>, ts = new Date()) =>
  pub.publishAsync(`${tp.prefix}vigie/${id}/telemetry`, JSON.stringify({ ts: ts.toISOString(), metrics }), { qos: 1 });

const buildings = await createTestToken(pool, 'engineer', ['buildings']);
const roads = await createTestToken(pool, 'engineer', ['roads']);
const rd910 = await createTestToken(pool, 'viewer', ['roads:RD910']);
const moulin = await createTestToken(pool, 'viewer', ['buildings:clg-moulin']);

// Streams open before the data, so they must filter live.
const streamB = await openSse(`${tp.platform.httpUrl}/api/v1/stream`, bearer(buildings.token));
const streamR = await openSse(`${tp.platform.httpUrl}/api/v1/stream?device=${BUILDINGS[0]},${ROADS[0]}`, bearer(roads.token));
const alertsB = await openSse(`${tp.platform.httpUrl}/api/v1/alerts/stream`, bearer(buildings.token));
const alertsAdmin = await openSse(`${tp.platform.httpUrl}/api/v1/alerts/stream`);

const start = Date.now() - 3 * 3600_000;
for (let i = 0; i < 3; i++) {
  const ts = new Date(start + i * 3600_000);
  await send(ROADS[0], { air_temperature: 1 + i, surface_temperature: -1 - i }, ts);
  await send(ROADS[1], { vehicle_count: 40 + i, mean_speed: 80 }, ts);
  await send(BUILDINGS[0], { air_temperature: 20 + i, co2: 700 + i }, ts);
  await send(BUILDINGS[1], { energy: 1000 + i * 10 }, ts);
  await send(UNREGISTERED, { air_temperature: 5 }, ts);
}
await send(ROADS[0], { air_temperature: 2 });
await send(BUILDINGS[0], { air_temperature: 21 });
await send(UNREGISTERED, { air_temperature: 5.5 });
// Dead letters: one per domain (a known device) and one with no device at all.
await pub.publishAsync(`${tp.prefix}vigie/${ROADS[0]}/telemetry`, '{"ts": "not a time", "metrics": {}}', { qos: 1 });
await pub.publishAsync(`${tp.prefix}vigie/${BUILDINGS[0]}/telemetry`, '{"ts": "not a time", "metrics": {}}', { qos: 1 });
await pub.publishAsync(`${tp.prefix}vigie/ngsi`, '{ broken', { qos: 1 });

await waitFor(async () => (await pool.query('select count(*)::int as n from dead_letters')).rows[0].n >= 3, 20_000, 'dead letters');
await waitFor(async () => (await pool.query(`select count(distinct device_id)::int as n from alerts where rule_id = 'any-air'`)).rows[0].n >= 3, 20_000, 'alerts of both domains');
await waitFor(async () => (await pool.query('select count(distinct device_id)::int as n from observations')).rows[0].n >= 5, 20_000, 'observations');
const alertIds = Object.fromEntries((await pool.query(`select device_id, id::text from alerts`)).rows.map((r) => [r.device_id, r.id as string]));

const from = new Date(start - 3600_000).toISOString();
const to = new Date(Date.now() + 3600_000).toISOString();
const year = new Date(start).getUTCFullYear();
const deviceList = [...ROADS, ...BUILDINGS, UNREGISTERED].join(',');
/** Reads of every GET route, with parameters that would show every domain to an unrestricted caller. */
const READS = [
  '/api/v1/devices?limit=1000',
  `/api/v1/observations?limit=10000&device=${deviceList}`,
  '/api/v1/observations?limit=10000',
  `/api/v1/series?device=${deviceList}&metric=air_temperature,vehicle_count,energy,co2&from=${from}&to=${to}&bucket=1h`,
  `/api/v1/traffic/stations?from=${from}&to=${to}`,
  `/api/v1/traffic/stations?from=${from}&to=${to}&device=${deviceList}`,
  `/api/v1/traffic/tmja?year=${year}`,
  `/api/v1/traffic/tmja?year=${year}&device=${deviceList}`,
  '/api/v1/roads/conditions',
  `/api/v1/roads/conditions?device=${deviceList}`,
  `/api/v1/buildings/consumption?building=clg-curie&from=${from}&to=${to}&bucket=1h`,
  `/api/v1/buildings/comfort?building=clg-moulin&from=${from}&to=${to}`,
  `/api/v1/export?from=${from}&to=${to}`,
  `/api/v1/export?from=${from}&to=${to}&device=${deviceList}&format=ndjson`,
  `/api/v1/export?from=${from}&to=${to}&bucket=1h&agg=avg`,
  '/api/v1/alerts?limit=1000',
  `/api/v1/alerts?device=${deviceList}`,
  '/api/v1/dead-letters?limit=1000',
  '/api/v1/rules',
  '/api/v1/silences',
];

async function read(token: string, url: string): Promise<{ status: number; text: string }> {
  const res = await app.inject({ method: 'GET', url, headers: bearer(token) });
  return { status: res.statusCode, text: res.body };
}

t.test('an unrestricted identity sees both domains (the data is there)', async (t) => {
  const all = (await tp.get<{ items: Array<{ id: string }> }>('/api/v1/devices?limit=1000')).body.items.map((d) => d.id);
  for (const id of [...ROADS, ...BUILDINGS, UNREGISTERED]) t.ok(all.includes(id), id);
  const dl = (await tp.get<{ items: Array<{ deviceId: string | null }> }>('/api/v1/dead-letters')).body.items;
  t.ok(dl.some((d) => d.deviceId === null), 'a dead letter without device');
  t.ok(ROADS[0] in alertIds && BUILDINGS[0] in alertIds && UNREGISTERED in alertIds);
});

for (const [label, token, hidden, shown] of [
  ['buildings', buildings.token, [...ROADS, UNREGISTERED], BUILDINGS],
  ['roads', roads.token, [...BUILDINGS, UNREGISTERED], ROADS],
] as const) {
  t.test(`a ${label} token gets nothing of the other domain from any GET route`, async (t) => {
    for (const url of READS) {
      const res = await read(token, url);
      t.equal(res.status, 200, url);
      for (const id of hidden) t.notOk(res.text.includes(id), `${url} hides ${id}`);
    }
    const devices = JSON.parse((await read(token, '/api/v1/devices?limit=1000')).text).items.map((d: { id: string }) => d.id);
    t.same(devices.sort(), [...shown].sort(), 'its own devices are listed');
    const obs = JSON.parse((await read(token, '/api/v1/observations?limit=10000')).text).items as Array<{ deviceId: string }>;
    t.same([...new Set(obs.map((o) => o.deviceId))].sort(), [...shown].sort(), 'its own observations');
    const dl = JSON.parse((await read(token, '/api/v1/dead-letters')).text).items as Array<{ deviceId: string | null }>;
    t.same(dl.map((d) => d.deviceId), [shown[0]], 'its dead letter only (none without a device)');
    // Single objects of the other domain answer as if they did not exist.
    for (const id of hidden) {
      t.equal((await read(token, `/api/v1/devices/${id}`)).status, 404, `device ${id}`);
      t.equal((await read(token, `/api/v1/devices/${id}/latest`)).status, 404, `latest ${id}`);
      if (alertIds[id]) {
        t.equal((await read(token, `/api/v1/alerts/${alertIds[id]}`)).status, 404, `alert of ${id}`);
        const ack = await app.inject({ method: 'POST', url: `/api/v1/alerts/${alertIds[id]}/ack`, headers: bearer(token), payload: { user: 'x' } });
        t.equal(ack.statusCode, 404, `ack of ${id}'s alert`);
      }
    }
    t.equal((await read(token, `/api/v1/devices/${shown[0]}`)).status, 200);
    // Writes and replays stay inside too.
    const bt = await app.inject({ method: 'POST', url: '/api/v1/rules/any-air/backtest', headers: bearer(token), payload: { from, to } });
    t.equal(bt.statusCode, 200);
    for (const id of hidden) t.notOk(bt.body.includes(id), `backtest hides ${id}`);
    const otherDomain = label === 'buildings' ? 'roads' : 'buildings';
    const rule = { id: `mine-${label}`, name: 'x', severity: 'info', scope: { domain: otherDomain }, condition: { type: 'threshold', metric: 'co2', op: 'above', value: 5000 } };
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/rules', headers: bearer(token), payload: rule })).statusCode, 403, 'no rule on the other domain');
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/rules', headers: bearer(token), payload: { ...rule, scope: {} } })).statusCode, 403, 'no rule over every domain');
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/rules', headers: bearer(token), payload: { ...rule, scope: { domain: label } } })).statusCode, 201, 'a rule on its own domain');
    const replay = await app.inject({ method: 'POST', url: '/api/v1/dead-letters/replay', headers: bearer(token), payload: {} });
    t.equal(replay.json().selected, 1, 'replays its own dead letter only');
  });
}

t.test('live streams carry only the visible devices', async (t) => {
  await send(ROADS[0], { air_temperature: 3 });
  await send(BUILDINGS[0], { air_temperature: 22 });
  await send(UNREGISTERED, { air_temperature: 6 });
  const frames = (c: SseClient, event: string) => c.frames.filter((f) => f.event === event).map((f) => f.data!);
  await waitFor(() => frames(streamB, 'observation').some((d) => d.includes(BUILDINGS[0]) && d.includes('"value":22')), 15_000, 'buildings stream');
  await waitFor(() => frames(streamR, 'observation').some((d) => d.includes(ROADS[0]) && d.includes('"value":3')), 15_000, 'roads stream');
  await waitFor(() => frames(alertsAdmin, 'firing').length >= 3, 15_000, 'admin alert stream');
  await new Promise((r) => setTimeout(r, 300));
  for (const id of [...ROADS, UNREGISTERED]) t.notOk(streamB.frames.some((f) => f.data?.includes(id)), `buildings stream hides ${id}`);
  for (const id of [...BUILDINGS, UNREGISTERED]) t.notOk(streamR.frames.some((f) => f.data?.includes(id)), `roads stream hides ${id}`);
  t.ok(frames(alertsB, 'firing').some((d) => d.includes(BUILDINGS[0])), 'buildings alert stream has its alert');
  for (const id of [...ROADS, UNREGISTERED]) t.notOk(alertsB.frames.some((f) => f.data?.includes(id)), `buildings alert stream hides ${id}`);
  t.ok(frames(alertsAdmin, 'firing').some((d) => d.includes(ROADS[0])), 'the admin stream has the roads alert');
  for (const c of [streamB, streamR, alertsB, alertsAdmin]) c.close();
});

t.test('a token narrowed to one route or one building sees only it', async (t) => {
  const d1 = JSON.parse((await read(rd910.token, '/api/v1/devices')).text).items.map((d: { id: string }) => d.id);
  t.same(d1, [ROADS[0]]);
  t.equal((await read(rd910.token, `/api/v1/devices/${ROADS[1]}`)).status, 404);
  const d2 = JSON.parse((await read(moulin.token, '/api/v1/devices')).text).items.map((d: { id: string }) => d.id);
  t.same(d2, [BUILDINGS[0]]);
  const curie = JSON.parse((await read(moulin.token, `/api/v1/buildings/consumption?building=clg-curie&from=${from}&to=${to}&bucket=1h`)).text);
  t.same(curie.devices, [], 'another building reads as unknown');
  t.ok(curie.points.every((p: { consumption: number | null }) => p.consumption === null));
  const admin = await tp.get<{ devices: unknown[] }>(`/api/v1/buildings/consumption?building=clg-curie&from=${from}&to=${to}&bucket=1h`);
  t.equal(admin.body.devices.length, 1, 'an unrestricted caller sees the meter');
});
