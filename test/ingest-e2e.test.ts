/**
 * End to end on the machine's real services: MQTT (Mosquitto) -> ingest -> PostgreSQL -> API.
 */
import t from 'tap';
import type { ObservationItem } from '../services/store/observations.ts';
import { startTestPlatform } from './helpers/platform.ts';
import { waitFor } from './helpers/wait.ts';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
type Obs = ObservationItem;
interface Dead {
  code: string;
  reason: string;
  field: string | null;
  deviceId: string | null;
  topic: string;
  payload: string;
  occurrences: number;
}

const tp = await startTestPlatform();
t.teardown(() => tp.stop());
const pub = await tp.publisher();
const topic = (id: string) => `${tp.prefix}vigie/${id}/telemetry`;

t.test('a published message reaches the API with the right values and units', async (t) => {
  const ts = new Date(Date.now() - 60_000).toISOString();
  await pub.publishAsync(
    topic('rws-e2e-1'),
    JSON.stringify({ ts, metrics: { surface_temperature: -1.4, relative_humidity: 93.5 }, channels: { lane1: { vehicle_count: 42, mean_speed: 81.5 } } }),
    { qos: 1 },
  );
  const latest = await waitFor(async () => {
    const r = await tp.get<{ items: Obs[] }>('/api/v1/devices/rws-e2e-1/latest');
    return r.status === 200 && r.body.items.length === 4 ? r.body.items : undefined;
  });
  const byKey = Object.fromEntries(latest.map((o) => [`${o.channel}/${o.metric}`, o]));
  t.equal(byKey['/surface_temperature']?.value, -1.4);
  t.equal(byKey['/surface_temperature']?.unit, '°C');
  t.equal(byKey['/relative_humidity']?.value, 93.5);
  t.equal(byKey['lane1/vehicle_count']?.value, 42);
  t.equal(byKey['lane1/mean_speed']?.unit, 'km/h');
  t.equal(byKey['/surface_temperature']?.time, ts);

  const obs = await tp.get<Page<Obs>>(`/api/v1/observations?device=rws-e2e-1&metric=surface_temperature`);
  t.equal(obs.status, 200);
  t.same(obs.body.items.map((o) => o.value), [-1.4]);

  const device = await tp.get<{ id: string; registered: boolean; lastSeen: string | null }>('/api/v1/devices/rws-e2e-1');
  t.equal(device.status, 200);
  t.equal(device.body.registered, false, 'an unknown device is kept and listed as unregistered');
  t.ok(device.body.lastSeen);
});

t.test('the same message published twice is stored once', async (t) => {
  const body = JSON.stringify({ ts: '2026-01-15T06:00:00Z', metrics: { air_temperature: 2.5 } });
  const recent = JSON.stringify({ ts: new Date().toISOString(), metrics: { air_temperature: 2.5 } });
  await pub.publishAsync(topic('dup-1'), body, { qos: 1 });
  await pub.publishAsync(topic('dup-1'), body, { qos: 1 });
  await pub.publishAsync(topic('dup-1'), recent, { qos: 1 });
  await waitFor(async () => (await tp.get<Page<Obs>>('/api/v1/observations?device=dup-1')).body.items.length >= 2);
  // Everything published before `recent` is committed by now (acks leave in order).
  const { rows } = await tp.platform.pool.query(`select count(*)::int as n from observations where device_id = 'dup-1' and time = '2026-01-15T06:00:00Z'`);
  t.equal(rows[0].n, 1);
});

t.test('bad payloads become dead letters with reasons while good ones keep flowing', async (t) => {
  const now = Date.now();
  await pub.publishAsync(topic('bad-1'), 'not json {', { qos: 1 });
  await pub.publishAsync(topic('bad-2'), JSON.stringify({ ts: now, metrics: { air_temperature: 'warm' } }), { qos: 1 });
  await pub.publishAsync(topic('bad-3'), JSON.stringify({ ts: now, metrics: { air_temperature: 1001, relative_humidity: 55, made_up: 3 } }), { qos: 1 });
  await pub.publishAsync(topic('bad-4'), JSON.stringify({ ts: now + 3_600_000, metrics: { air_temperature: 4, dew_point: 1 } }), { qos: 1 });
  await pub.publishAsync(topic('bad-5'), JSON.stringify({ metrics: { air_temperature: 1 }, extra: true }), { qos: 1 });
  await pub.publishAsync(topic('bad-6'), Buffer.alloc(300 * 1024, 'x'), { qos: 1 });
  await pub.publishAsync(topic('good-after-bad'), JSON.stringify({ ts: now, metrics: { co2: 640 } }), { qos: 1 });

  const good = await waitFor(async () => {
    const r = await tp.get<{ items: Obs[] }>('/api/v1/devices/good-after-bad/latest');
    return r.status === 200 && r.body.items.length === 1 ? r.body.items[0] : undefined;
  });
  t.equal(good.value, 640);
  const partial = await tp.get<{ items: Obs[] }>('/api/v1/devices/bad-3/latest');
  t.same(partial.body.items.map((o) => [o.metric, o.value]), [['relative_humidity', 55]], 'good metrics of a partly bad message are stored');

  const dead = await waitFor(async () => {
    const r = await tp.get<Page<Dead>>(`/api/v1/dead-letters?limit=50`);
    const mine = r.body.items.filter((d) => d.topic.startsWith(`vigie/bad-`));
    return mine.length >= 7 ? mine : undefined;
  });
  const find = (device: string, code: string) => dead.find((d) => d.topic === `vigie/${device}/telemetry` && d.code === code);
  t.ok(find('bad-1', 'invalid_json'), 'malformed JSON');
  t.match(find('bad-2', 'invalid_value')?.reason, /metrics\.air_temperature: expected a finite number in °C, got the string "warm"/);
  t.match(find('bad-3', 'out_of_range')?.reason, /1001 °C is outside the physical range/);
  t.match(find('bad-3', 'unknown_metric')?.field, 'metrics.made_up');
  const future = find('bad-4', 'timestamp_in_future');
  t.equal(future?.field, 'metrics.air_temperature,metrics.dew_point', 'one dead letter names every field a bad time cost');
  t.match(find('bad-5', 'invalid_envelope')?.reason, /extra|Unrecognized/i);
  const big = find('bad-6', 'payload_too_large');
  t.ok(big, 'huge payload');
  t.equal(big?.payload.length, 16 * 1024, 'raw payload truncated at VIGIE_DEAD_LETTER_MAX_BYTES');
  t.equal(find('bad-1', 'invalid_json')?.payload, 'not json {', 'raw payload kept faithfully');

  const filtered = await tp.get<Page<Dead>>(`/api/v1/dead-letters?code=invalid_json&topic=${encodeURIComponent('vigie/bad-1/telemetry')}`);
  t.equal(filtered.body.items.length, 1);
});

t.test('bad query parameters get 400 with the field named', async (t) => {
  const r = await tp.get<{ code: string; field?: string; message: string }>('/api/v1/observations?from=yesterday');
  t.equal(r.status, 400);
  t.equal(r.body.code, 'VIGIE_ERR_VALIDATION');
  t.match(r.body.message, /from/);
  const m = await tp.get<{ code: string; message: string }>('/api/v1/observations?metric=bogus');
  t.equal(m.status, 400);
  t.match(m.body.message, /metric/);
  const l = await tp.get<{ code: string; message: string }>('/api/v1/observations?limit=0');
  t.equal(l.status, 400);
  const nf = await tp.get<{ code: string }>('/api/v1/devices/does-not-exist');
  t.equal(nf.status, 404);
  t.equal(nf.body.code, 'VIGIE_ERR_NOT_FOUND');
});

t.test('observations page with a cursor, in time order', async (t) => {
  const base = Date.parse('2026-03-01T00:00:00Z');
  for (let i = 0; i < 25; i++) {
    await pub.publishAsync(topic('page-1'), JSON.stringify({ ts: base + i * 60_000, metrics: { co2: 400 + i } }), { qos: 1 });
  }
  await waitFor(async () => (await tp.get<Page<Obs>>('/api/v1/observations?device=page-1&limit=100')).body.items.length === 25);
  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r: { body: Page<Obs> } = await tp.get<Page<Obs>>(`/api/v1/observations?device=page-1&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...r.body.items.map((o) => o.value));
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor);
  t.equal(pages, 3);
  t.same(seen, Array.from({ length: 25 }, (_, i) => 400 + i));
});

t.test('health, readiness, metrics and OpenAPI', async (t) => {
  t.equal((await tp.get('/health')).status, 200);
  const ready = await tp.get<{ ready: boolean; checks: Record<string, boolean> }>('/ready');
  t.same(ready.body, { ready: true, checks: { database: true, broker: true, commits: true } });
  const metrics = await tp.platform.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /vigie_messages_received_total \d+/);
  t.match(metrics.body, /vigie_observations_stored_total \d+/);
  t.match(metrics.body, /vigie_commit_seconds_bucket/);
  const doc = await tp.get<{ openapi: string; paths: Record<string, unknown> }>('/docs/json');
  t.equal(doc.status, 200);
  t.ok(doc.body.paths['/api/v1/observations'], 'OpenAPI documents the routes');
});
